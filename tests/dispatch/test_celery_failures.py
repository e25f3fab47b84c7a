"""Failures in async mode: retries, giving up, stale jobs, a broker that is down.

Retries run at once in eager mode (Celery ignores the countdown there), so
a send that always fails is tried ``1 + max_retries`` times within the test.
"""

from __future__ import annotations

import email
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from celery import current_app
from django.core import mail
from kombu.exceptions import OperationalError
from rest_framework.test import APIClient

from tests.conftest import assert_error
from tests.dispatch import own_storage_dispatcher
from tests.dispatch.conftest import PHONE, EagerQueue
from tests.support import sms_outbox as outbox
from tests.support.smtp import smtp_server
from trench_mfa import tasks
from trench_mfa.backends.base import DispatchError
from trench_mfa.backends.email import EmailMessageDispatcher
from trench_mfa.dispatch.queue import SEND_CODE_TASK
from trench_mfa.models import EventType, MFAEvent, MFAMethod, OneTimeCode, SendQuota
from trench_mfa.state import send_limits

pytestmark = pytest.mark.django_db

ATTEMPTS = 1 + tasks.DEFAULT_MAX_RETRIES


class RefusingMailbox:
    """An SMTP handler that refuses every message at DATA and counts the tries."""

    def __init__(self) -> None:
        self.refused: list[email.message.Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Refuse, keeping the message to count it."""
        self.refused.append(email.message_from_bytes(envelope.content))
        return "554 5.6.0 Message rejected"


@pytest.fixture
def refusing_smtp(settings: Any) -> Iterator[RefusingMailbox]:
    """Django's SMTP backend pointed at a loopback server that refuses everything."""
    handler = RefusingMailbox()
    with smtp_server(handler, settings):
        yield handler


def our_logs(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured record, tracebacks included, but the loopback SMTP server's."""
    formatter = logging.Formatter()
    return "\n".join(formatter.format(r) for r in caplog.records if r.name != "mail.log")


def live_codes() -> Any:
    """Codes that would still verify."""
    return OneTimeCode.objects.filter(consumed_at__isnull=True)


def quota_stamps() -> list[int]:
    """Sends counted against the test user's phone number."""
    row = SendQuota.objects.filter(key=send_limits.recipient_key("sms", PHONE)).first()
    return list(row.sent_at) if row else []


def test_refused_email_is_retried_then_withdrawn_audited_and_never_logged(
    eager: EagerQueue,
    user: Any,
    api_client: APIClient,
    refusing_smtp: RefusingMailbox,
    issued: list[str],
    failures: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with eager.commit():
        response = api_client.post("/auth/email/activate/")
    # The answer does not wait for the provider: an outage is not a 503 here.
    assert response.status_code == 200
    assert len(refusing_smtp.refused) == ATTEMPTS and len(issued) == 1
    # Withdrawn, not just voided: a code never delivered counts toward no send limit.
    assert not OneTimeCode.objects.exists()
    assert [{k: f[k] for k in ("user", "method", "purpose", "reason")} for f in failures] == [
        {"user": user, "method": "email", "purpose": "activation", "reason": "send_failed"}
    ]
    assert failures[0]["ip"] is None and failures[0]["request"] is None
    event = MFAEvent.objects.get(event=EventType.DISPATCH_FAILED)
    assert (event.user_id, event.purpose, event.outcome) == (user.pk, "activation", "send_failed")
    assert "failed for good (send_failed): SMTPDataError" in our_logs(caplog)
    assert issued[0] not in our_logs(caplog)
    response = api_client.post("/auth/email/activate/confirm/", {"code": issued[0]})
    assert_error(response, 400, "code_invalid_or_expired")


def test_flaky_sms_is_delivered_on_a_retry_and_counted_once(
    eager: EagerQueue,
    api_client: APIClient,
    sms_outbox: list[tuple[str, str]],
    issued: list[str],
    failures: list[dict[str, Any]],
) -> None:
    outbox.fail_next = ATTEMPTS - 1
    with eager.commit():
        assert api_client.post("/auth/sms_outbox/activate/").status_code == 200
    assert outbox.fail_next == 0 and len(sms_outbox) == 1
    assert issued[0] in sms_outbox[0][1]
    assert failures == [] and len(quota_stamps()) == 1
    response = api_client.post("/auth/sms_outbox/activate/confirm/", {"code": issued[0]})
    assert response.status_code == 200


def test_sms_that_never_goes_out_gives_the_number_its_send_back(
    eager: EagerQueue,
    api_client: APIClient,
    sms_outbox: list[tuple[str, str]],
    failures: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
    issued: list[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    outbox.fail_next = ATTEMPTS + 5
    with eager.commit():
        assert api_client.post("/auth/sms_outbox/activate/").status_code == 200
    assert outbox.fail_next == 5 and sms_outbox == []
    assert quota_stamps() == []
    assert not live_codes().exists()
    assert [f["reason"] for f in failures] == ["send_failed"]
    assert issued[0] not in our_logs(caplog) and PHONE not in our_logs(caplog)


def test_library_error_quoting_the_text_is_not_logged(
    eager: EagerQueue,
    api_client: APIClient,
    sms_outbox: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    issued: list[str],
    failures: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    def chatty_failure(self: Any, recipient: str, body: str) -> None:
        raise RuntimeError(f"rejected message to {recipient}: {body!r}")

    monkeypatch.setattr(outbox.OutboxSMSDispatcher, "send_sms", chatty_failure)
    caplog.set_level(logging.DEBUG)
    with eager.commit():
        assert api_client.post("/auth/sms_outbox/activate/").status_code == 200
    assert [f["reason"] for f in failures] == ["send_failed"]
    logs = our_logs(caplog)
    assert "OutboxSMSDispatcher: RuntimeError" in logs
    assert issued[0] not in logs and PHONE not in logs and "rejected message" not in logs


def test_code_that_expires_during_retries_is_given_up(
    eager: EagerQueue,
    api_client: APIClient,
    monkeypatch: pytest.MonkeyPatch,
    failures: list[dict[str, Any]],
) -> None:
    calls: list[str] = []
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as clock:

        def slow_outage(self: Any, recipient: str, message: Any) -> None:
            calls.append(message.code)
            clock.shift(timedelta(seconds=message.valid_for + 1))
            raise DispatchError("provider timeout")

        monkeypatch.setattr(EmailMessageDispatcher, "send", slow_outage)
        with eager.commit():
            assert api_client.post("/auth/email/activate/").status_code == 200
    # The retry found the code expired: no second send of a dead code.
    assert len(calls) == 1
    assert [f["reason"] for f in failures] == ["expired"]


def test_job_for_a_replaced_code_sends_nothing(
    eager: EagerQueue,
    api_client: APIClient,
    sms_outbox: list[tuple[str, str]],
    failures: list[dict[str, Any]],
) -> None:
    with eager.hold() as callbacks:
        assert api_client.post("/auth/sms_outbox/activate/").status_code == 200
    live_codes().update(consumed_at=datetime.now(UTC))
    assert len(quota_stamps()) == 1
    callbacks[0]()
    assert sms_outbox == [] and failures == []
    assert quota_stamps() == []


def test_job_for_a_deleted_method_sends_nothing(
    eager: EagerQueue,
    api_client: APIClient,
    failures: list[dict[str, Any]],
) -> None:
    with eager.hold() as callbacks:
        assert api_client.post("/auth/email/activate/").status_code == 200
    MFAMethod.objects.all().delete()
    callbacks[0]()
    assert mail.outbox == [] and failures == []


def test_payload_a_worker_cannot_decrypt_voids_the_code(
    eager: EagerQueue,
    api_client: APIClient,
    trench_auth: Callable[..., Any],
    failures: list[dict[str, Any]],
) -> None:
    with eager.hold() as callbacks:
        assert api_client.post("/auth/email/activate/").status_code == 200
    # A worker configured with other ENCRYPTION_KEYS than the web servers.
    trench_auth(ENCRYPTION_KEYS=["gkqv7nPd8o0O2v0Wk3bJ9B8Zt9a8mB1pN3l4oQ5rS6E="])
    callbacks[0]()
    assert mail.outbox == [] and not live_codes().exists()
    assert [f["reason"] for f in failures] == ["send_failed"]


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """Publishing the task fails as it does when Redis does not answer."""

    def unreachable(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    # The queue finds the task by its registered name (trench_mfa.tasks registers it).
    monkeypatch.setattr(current_app.tasks[SEND_CODE_TASK], "apply_async", unreachable)


@pytest.mark.django_db(transaction=True)
def test_broker_down_without_request_transaction_is_503_and_changes_nothing(
    eager: EagerQueue,
    user: Any,
    api_client: APIClient,
    broker_down: None,
    failures: list[dict[str, Any]],
) -> None:
    # No surrounding transaction: on_commit runs inside the request.
    assert_error(api_client.post("/auth/email/activate/"), 503, "dispatch_failed")
    assert not MFAMethod.objects.exists() and not live_codes().exists()
    assert [f["reason"] for f in failures] == ["enqueue_failed"]


def test_broker_down_after_a_request_transaction_voids_the_code(
    eager: EagerQueue,
    api_client: APIClient,
    broker_down: None,
    failures: list[dict[str, Any]],
) -> None:
    with eager.commit():
        # Inside a transaction (ATOMIC_REQUESTS) the answer is already given.
        assert api_client.post("/auth/email/activate/").status_code == 200
    assert not live_codes().exists()
    assert [f["reason"] for f in failures] == ["enqueue_failed"]


@pytest.mark.parametrize("failing", [False, True], ids=["delivered", "outage"])
def test_dispatcher_with_its_own_code_storage(
    eager: EagerQueue,
    api_client: APIClient,
    trench_auth: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    failures: list[dict[str, Any]],
    failing: bool,
) -> None:
    handler = "tests.dispatch.own_storage_dispatcher.OwnStorageDispatcher"
    trench_auth(methods={"own": {"HANDLER": handler, "SOURCE_FIELD": "email"}})
    monkeypatch.setattr(own_storage_dispatcher, "calls", [])
    monkeypatch.setattr(own_storage_dispatcher, "failing", failing)
    with eager.commit():
        assert api_client.post("/auth/own/activate/").status_code == 200
    sends = [("send", own_storage_dispatcher.OWN_CODE)]
    if failing:
        # Every attempt is made, then the dispatcher's own discard_code() runs.
        assert own_storage_dispatcher.calls == sends * ATTEMPTS + [("discard", "activation")]
        assert [f["reason"] for f in failures] == ["send_failed"]
    else:
        # Sent without looking for a OneTimeCode row that cannot exist.
        assert own_storage_dispatcher.calls == sends and failures == []
