"""Test settings: ``testproject.settings`` with an email-only user model.

``email_users.User`` has no ``username``; ``email`` is its ``USERNAME_FIELD``.
Run the suite with it::

    DJANGO_SETTINGS_MODULE=testproject.settings_email_user pytest
"""

from testproject.settings import *  # noqa: F403
from testproject.settings import INSTALLED_APPS

INSTALLED_APPS = [
    "testproject.email_users" if app == "testproject.accounts" else app for app in INSTALLED_APPS
]
AUTH_USER_MODEL = "email_users.User"
