"""The audit trail: one MFAEvent (and one log line) per signal, with the client IP."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import EMAIL2, activate, credentials, last_code
from trench_mfa import signals
from trench_mfa.models import EventType, MFAEvent
from trench_mfa.services.admin import disable_methods
from trench_mfa.state import audit

pytestmark = pytest.mark.django_db


def events() -> list[tuple[str, str, str, str]]:
    """(event, method, purpose, outcome) of every event, oldest first."""
    return list(
        MFAEvent.objects.order_by("pk").values_list("event", "method", "purpose", "outcome")
    )


def take() -> list[tuple[str, str, str, str]]:
    """:func:`events`, then forget them."""
    found = events()
    MFAEvent.objects.all().delete()
    return found


def sent_and_verified(purpose: str, method: str = "email") -> list[tuple[str, str, str, str]]:
    """The events of a code sent and then accepted: what every code check writes on success."""
    return [
        ("code_sent", method, purpose, "success"),
        ("code_verified", method, purpose, "success"),
    ]


def test_activation_writes_sent_verified_activated(user: Any, api_client: APIClient) -> None:
    api_client.post("/auth/email/activate/")
    api_client.post("/auth/email/activate/confirm/", {"code": "000000"})
    api_client.post("/auth/email/activate/confirm/", {"code": last_code()})
    assert take() == [
        ("code_sent", "email", "activation", "success"),
        ("verification_failed", "email", "activation", "invalid_code"),
        ("code_verified", "email", "activation", "success"),
        ("mfa_method_activated", "email", "", "success"),
    ]


def test_login_writes_sent_failed_verified(email_mfa_user: Any, anon_client: APIClient) -> None:
    user, backup = email_mfa_user
    MFAEvent.objects.all().delete()
    token = anon_client.post("/auth/jwt/login/", credentials(user)).json()["ephemeral_token"]
    anon_client.post("/auth/jwt/login/code/", {"ephemeral_token": token, "code": "000000"})
    anon_client.post("/auth/jwt/login/code/", {"ephemeral_token": token, "code": last_code()})
    assert take() == [
        ("code_sent", "email", "login", "success"),
        ("verification_failed", "email", "login", "invalid_code"),
        ("code_verified", "email", "login", "success"),
    ]
    token = anon_client.post("/auth/token/login/", credentials(user)).json()["ephemeral_token"]
    anon_client.post("/auth/token/login/code/", {"ephemeral_token": token, "code": backup[0]})
    # Inside the resend cooldown the live code is handed to the new token: no send.
    assert take() == [
        ("code_sent", "email", "login", "success"),
        ("backup_code_used", "email", "login", "success"),
    ]


def test_management_writes_one_event_per_change(
    email_mfa_user: Any, api_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(methods={"email2": EMAIL2}, RESEND_COOLDOWN=0)
    activate(api_client, "email2")
    MFAEvent.objects.all().delete()
    api_client.post("/auth/code/request/")
    api_client.post("/auth/email/codes/regenerate/", {"code": last_code()})
    assert take() == [
        *sent_and_verified("action"),
        ("backup_codes_regenerated", "email", "", "success"),
    ]
    api_client.post("/auth/code/request/")
    api_client.post("/auth/mfa/change-primary-method/", {"method": "email2", "code": last_code()})
    assert take() == [
        *sent_and_verified("action"),
        ("primary_method_changed", "email2", "", "success"),
    ]
    api_client.post("/auth/code/request/", {"method": "email"})
    api_client.post("/auth/email/deactivate/", {"code": last_code()})
    assert take() == [
        *sent_and_verified("action"),
        ("mfa_method_deactivated", "email", "", "success"),
    ]


def test_refused_checks_are_recorded_with_their_reason(
    email_mfa_user: Any, api_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(THROTTLE_FACTOR=60)
    MFAEvent.objects.all().delete()
    api_client.post("/auth/email/deactivate/", {"code": "000000"})
    api_client.post("/auth/email/deactivate/", {"code": "000000"})
    assert take() == [
        ("verification_failed", "email", "action", "invalid_code"),
        ("verification_failed", "email", "action", "throttled"),
    ]


def test_an_authenticator_app_activation_sends_nothing(user: Any, api_client: APIClient) -> None:
    assert api_client.post("/auth/app/activate/").status_code == 200
    assert events() == []


def test_support_disable_is_recorded_without_an_ip(email_mfa_user: Any) -> None:
    user, _ = email_mfa_user
    MFAEvent.objects.all().delete()
    assert disable_methods(user) == ["email"]
    event = MFAEvent.objects.get()
    assert (event.event, event.method, event.user_id, event.ip) == (
        "mfa_method_deactivated",
        "email",
        user.pk,
        None,
    )


@pytest.mark.parametrize(
    ("num_proxies", "headers", "ip"),
    [
        (0, {"REMOTE_ADDR": "203.0.113.5", "HTTP_X_FORWARDED_FOR": "10.0.0.1"}, "203.0.113.5"),
        (
            1,
            {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 198.51.100.4"},
            "198.51.100.4",
        ),
        (None, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.1.1.1, 2.2.2.2"}, None),
        (0, {"REMOTE_ADDR": "2001:db8::1"}, "2001:db8::1"),
    ],
)
def test_the_ip_follows_drfs_num_proxies_rule(
    user: Any,
    api_client: APIClient,
    settings: Any,
    num_proxies: int | None,
    headers: dict[str, str],
    ip: str | None,
) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": num_proxies}
    assert api_client.post("/auth/email/activate/", **headers).status_code == 200
    assert MFAEvent.objects.get().ip == ip


def test_every_signal_carries_user_method_request_and_ip(
    email_mfa_user: Any, anon_client: APIClient
) -> None:
    user, _ = email_mfa_user
    seen: list[tuple[str, dict[str, Any]]] = []

    def receiver(sender: Any, signal: Any, **kwargs: Any) -> None:
        seen.append((audit.EVENTS[signal].value, kwargs))

    for signal in audit.EVENTS:
        signal.connect(receiver, dispatch_uid="test-kwargs")
    try:
        token = anon_client.post("/auth/jwt/login/", credentials(user)).json()["ephemeral_token"]
        anon_client.post("/auth/jwt/login/code/", {"ephemeral_token": token, "code": "000000"})
        anon_client.post("/auth/jwt/login/code/", {"ephemeral_token": token, "code": last_code()})
    finally:
        for signal in audit.EVENTS:
            signal.disconnect(dispatch_uid="test-kwargs")
    assert [name for name, _ in seen] == ["code_sent", "verification_failed", "code_verified"]
    for _, kwargs in seen:
        assert {"user", "method", "request", "ip", "purpose"} <= set(kwargs)
        assert kwargs["user"] == user and kwargs["ip"] == "127.0.0.1"
        assert kwargs["request"] is not None


def test_audit_log_off_keeps_the_log_line_and_writes_no_row(
    user: Any,
    api_client: APIClient,
    trench_auth: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    trench_auth(AUDIT_LOG=False)
    with caplog.at_level(logging.INFO, logger="trench_mfa.state.audit"):
        api_client.post("/auth/email/activate/")
    assert MFAEvent.objects.count() == 0
    assert f"MFA code_sent: user {user.pk}, method 'email', purpose activation" in caplog.text


def test_log_lines_escape_user_supplied_values(user: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="trench_mfa.state.audit"):
        audit.send(signals.code_sent, "tests", user=user, method="email\nFAKE ENTRY")
    [record] = [r for r in caplog.records if r.name == "trench_mfa.state.audit"]
    assert "\n" not in record.getMessage()
    assert "'email\\nFAKE ENTRY'" in record.getMessage()


# --- retention --------------------------------------------------------------------


def _event(user: Any, days_old: int) -> MFAEvent:
    return MFAEvent.objects.create(
        user=user,
        method="email",
        event=EventType.CODE_SENT,
        created_at=timezone.now() - timedelta(days=days_old),
    )


def _cleanup(*args: str) -> str:
    out = StringIO()
    call_command("cleanup_otp_codes", *args, stdout=out)
    return out.getvalue()


def test_cleanup_keeps_events_unless_asked(user: Any) -> None:
    _event(user, 400)
    assert "audit" not in _cleanup()
    assert MFAEvent.objects.count() == 1


def test_cleanup_prunes_events_older_than_events_days(user: Any) -> None:
    old, recent = _event(user, 31), _event(user, 29)
    assert "Would delete 1 audit events older than 30 days." in _cleanup(
        "--events-days", "30", "--dry-run"
    )
    assert MFAEvent.objects.count() == 2
    assert "Deleted 1 audit events older than 30 days." in _cleanup("--events-days", "30")
    assert list(MFAEvent.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not MFAEvent.objects.filter(pk=old.pk).exists()


def test_cleanup_refuses_negative_events_days() -> None:
    with pytest.raises(CommandError):
        _cleanup("--events-days", "-1")


def test_events_outlive_their_user(user: Any) -> None:
    event = _event(user, 0)
    user.delete()
    event.refresh_from_db()
    assert event.user_id is None


# --- admin ------------------------------------------------------------------------


@pytest.fixture
def staff(user_factory: Callable[..., Any]) -> Client:
    """A Django test client logged in as a superuser."""
    client = Client()
    client.force_login(user_factory(username="root", is_staff=True, is_superuser=True))
    return client


def test_the_admin_lists_events_read_only(staff: Client, user: Any) -> None:
    event = _event(user, 0)
    changelist = staff.get(reverse("admin:trench_mfa_mfaevent_changelist"))
    assert changelist.status_code == 200 and b"code_sent" in changelist.content
    assert staff.get(reverse("admin:trench_mfa_mfaevent_add")).status_code == 403
    change_url = reverse("admin:trench_mfa_mfaevent_change", args=[event.pk])
    page = staff.get(change_url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert staff.post(change_url, {"outcome": "forged"}).status_code == 403
    delete_url = reverse("admin:trench_mfa_mfaevent_delete", args=[event.pk])
    assert staff.post(delete_url, {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.outcome == "success"
    assert mail.outbox == []
