"""What the package needs from the user model: ``USERNAME_FIELD`` and ``pk``, nothing else.

``make test`` runs the whole suite with three user models (default, email-only,
UUID-keyed); these checks name the assumptions that could break with them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import FLAVOURS, PASSWORD, activate, credentials, username_field
from trench_mfa.models import BackupCode, MFAMethod
from trench_mfa.state import backup_codes

pytestmark = pytest.mark.django_db


def test_methods_are_found_by_user_or_by_any_kind_of_primary_key(
    user: Any, user_factory: Callable[..., Any], api_client: APIClient
) -> None:
    activate(api_client)
    user_factory()  # another user, without methods
    by_user = list(MFAMethod.objects.for_user(user))
    assert [m.name for m in by_user] == ["email"]
    assert list(MFAMethod.objects.for_user(user.pk)) == by_user


def test_backup_codes_work_with_the_models_primary_key(user: Any) -> None:
    codes = backup_codes.replace_backup_codes(user.pk)
    assert backup_codes.use_backup_code(user.pk, codes[0])
    assert not backup_codes.use_backup_code(user.pk, codes[0])
    assert backup_codes.remaining_backup_codes(user.pk) == len(codes) - 1
    assert BackupCode.objects.filter(user=user).count() == len(codes)


@pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda f: f.name)
def test_login_asks_for_the_username_field_by_its_own_name(
    user: Any, anon_client: APIClient, flavour: Any
) -> None:
    # Another key for the login value is a field error on USERNAME_FIELD.
    response = anon_client.post(flavour.login, {"login": user.get_username(), "password": PASSWORD})
    assert response.status_code == 400
    assert username_field() in response.json()
    assert anon_client.post(flavour.login, credentials(user)).status_code == 200
