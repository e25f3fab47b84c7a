"""Fixtures of the admin tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def staff(user_factory: Callable[..., Any]) -> Client:
    """A Django test client logged in as a superuser."""
    admin_user = user_factory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin_user)
    return client
