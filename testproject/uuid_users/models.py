"""Django's user with a UUID primary key and a phone number.

Used by ``testproject.settings_uuid_user`` to run the test suite against a
user model whose primary key is not an integer.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """``AbstractUser`` keyed by a random UUID."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    phone_number = models.CharField(max_length=32, blank=True, default="")
