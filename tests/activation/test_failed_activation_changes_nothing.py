"""A failed activation changes nothing: no new row, no moved window, no new secret."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import assert_error, use_mail
from trench_mfa.models import MFAMethod


def test_failed_dispatch_leaves_no_pending_row(
    user: Any, api_client: APIClient, settings: Any
) -> None:
    # The discard port of the loopback interface: refused.
    use_mail(settings, "django.core.mail.backends.smtp.EmailBackend", host="127.0.0.1", port=9)
    response = api_client.post("/auth/email/activate/")
    assert_error(response, 503, "dispatch_failed")
    assert not MFAMethod.objects.filter(user=user).exists()


def test_missing_recipient_leaves_no_pending_row(
    user_factory: Callable[..., Any], client_for: Callable[[Any], APIClient]
) -> None:
    nobody = user_factory(email="")
    response = client_for(nobody).post("/auth/email/activate/")
    assert_error(response, 400, "invalid_input")
    assert not MFAMethod.objects.filter(user=nobody).exists()


def test_activation_inside_cooldown_keeps_the_first_window(
    user: Any, api_client: APIClient
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert api_client.post("/auth/email/activate/").status_code == 200
    first = MFAMethod.objects.get(user=user, name="email").activation_started_at
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        again = api_client.post("/auth/email/activate/")
    assert again.status_code == 429
    assert again["Retry-After"] == "30"
    assert MFAMethod.objects.get(user=user, name="email").activation_started_at == first


def test_app_reactivation_failure_keeps_the_previous_secret(
    user: Any, api_client: APIClient, monkeypatch: Any
) -> None:
    assert api_client.post("/auth/app/activate/").status_code == 200
    before = MFAMethod.objects.get(user=user, name="app").secret

    from trench_mfa.backends import application
    from trench_mfa.backends.base import DispatchResult

    monkeypatch.setattr(
        application.ApplicationMessageDispatcher,
        "dispatch_message",
        lambda self: DispatchResult.failed(),
    )
    assert api_client.post("/auth/app/activate/").status_code == 503
    assert MFAMethod.objects.get(user=user, name="app").secret == before
