"""App config of the UUID-keyed user model."""

from __future__ import annotations

from django.apps import AppConfig


class UuidUsersConfig(AppConfig):
    """The ``uuid_users`` app (``AUTH_USER_MODEL = "uuid_users.User"``)."""

    name = "testproject.uuid_users"
    label = "uuid_users"
    verbose_name = "UUID-keyed users"
