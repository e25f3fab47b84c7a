"""App config of the email-only user model."""

from __future__ import annotations

from django.apps import AppConfig


class EmailUsersConfig(AppConfig):
    """The ``email_users`` app (``AUTH_USER_MODEL = "email_users.User"``)."""

    name = "testproject.email_users"
    label = "email_users"
    verbose_name = "Email-only users"
    default_auto_field = "django.db.models.BigAutoField"
