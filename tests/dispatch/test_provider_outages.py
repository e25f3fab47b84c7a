"""An SMTP server that is down: a generic 503 that leaves no code and no method."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import assert_error
from tests.support.smtp import use_smtp_that_is_down
from trench_mfa.models import MFAMethod, OneTimeCode

pytestmark = pytest.mark.django_db


def test_smtp_down_is_a_generic_503_and_leaves_no_code(
    user: Any, api_client: APIClient, settings: Any
) -> None:
    use_smtp_that_is_down(settings)
    response = api_client.post("/auth/email/activate/")
    assert_error(response, 503, "dispatch_failed")
    assert set(response.json()) == {"error", "error_code"}
    assert not OneTimeCode.objects.filter(consumed_at__isnull=True).exists()
    assert not MFAMethod.objects.filter(user=user).exists()
