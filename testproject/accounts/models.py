from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """The demo project's user: Django's user plus a phone number for SMS methods."""

    phone_number = models.CharField(max_length=32, blank=True, default="")
