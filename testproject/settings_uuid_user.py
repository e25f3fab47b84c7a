"""Test settings: ``testproject.settings`` with a UUID-keyed user model.

``uuid_users.User`` is Django's ``AbstractUser`` with a UUID primary key.
Run the suite with it::

    DJANGO_SETTINGS_MODULE=testproject.settings_uuid_user pytest
"""

from testproject.settings import *  # noqa: F403
from testproject.settings import INSTALLED_APPS

INSTALLED_APPS = [
    "testproject.uuid_users" if app == "testproject.accounts" else app for app in INSTALLED_APPS
]
AUTH_USER_MODEL = "uuid_users.User"
