"""``DISPATCH = "celery"`` with the task run eagerly: the flows, the payload, the logs.

The request stores the code and answers; the send happens in
``trench_mfa.send_code`` once the transaction commits. Here the commit is
simulated by running the captured ``on_commit`` callbacks.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import Flavour, assert_error, credentials, last_code
from tests.dispatch.conftest import PHONE, EagerQueue
from trench_mfa import tasks
from trench_mfa.dispatch.queue import QueuedCode
from trench_mfa.models import MFAMethod, OneTimeCode

pytestmark = pytest.mark.django_db

EMAIL = "alice@example.com"


def live_codes() -> Any:
    """Codes that would still verify."""
    return OneTimeCode.objects.filter(consumed_at__isnull=True)


def test_activation_answers_before_sending_and_sends_after_commit(
    eager: EagerQueue,
    api_client: APIClient,
) -> None:
    with eager.hold() as callbacks:
        response = api_client.post("/auth/email/activate/")
        assert response.status_code == 200
        assert response.json() == {"details": "Email message with MFA code has been sent."}
        # Stored in the request, not sent yet, not even queued.
        assert live_codes().filter(purpose="activation").count() == 1
        assert mail.outbox == [] and eager.published == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(eager.published) == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [EMAIL]
    response = api_client.post("/auth/email/activate/confirm/", {"code": last_code()})
    assert response.status_code == 200
    assert MFAMethod.objects.get(name="email").is_active


def test_login_end_to_end(
    email_mfa_user: tuple[Any, list[str]],
    eager: EagerQueue,
    anon_client: APIClient,
    flavour: Flavour,
) -> None:
    with eager.commit():
        step1 = anon_client.post(flavour.login, credentials(email_mfa_user[0]))
    assert step1.status_code == 200 and step1.json()["method"] == "email"
    assert len(eager.published) == 1 and len(mail.outbox) == 1
    step2 = anon_client.post(
        flavour.code, {"ephemeral_token": step1.json()["ephemeral_token"], "code": last_code()}
    )
    assert step2.status_code == 200 and set(step2.json()) == flavour.token_keys


def test_resend_and_code_request_go_through_the_queue(
    email_mfa_user: tuple[Any, list[str]],
    eager: EagerQueue,
    anon_client: APIClient,
    api_client: APIClient,
    flavour: Flavour,
    trench_auth: Callable[..., Any],
) -> None:
    trench_auth(RESEND_COOLDOWN=0)
    # One commit per request, as without a request-wide transaction.
    with eager.commit():
        step1 = anon_client.post(flavour.login, credentials(email_mfa_user[0]))
    token = step1.json()["ephemeral_token"]
    with eager.commit():
        assert anon_client.post(flavour.resend, {"ephemeral_token": token}).status_code == 200
    with eager.commit():
        assert api_client.post("/auth/code/request/").status_code == 200
    assert [call["kwargs"]["args"][1] for call in eager.published] == ["login", "login", "action"]
    assert len(mail.outbox) == 3
    # The resent login code works with the token; the first one was replaced.
    login_code = last_code(mail.outbox[:2])
    step2 = anon_client.post(flavour.code, {"ephemeral_token": token, "code": login_code})
    assert step2.status_code == 200


def test_cooldown_holds_in_async_mode(
    eager: EagerQueue,
    api_client: APIClient,
) -> None:
    with eager.commit():
        assert api_client.post("/auth/email/activate/").status_code == 200
        response = api_client.post("/auth/email/activate/")
    assert_error(response, 429, "throttled")
    assert len(eager.published) == 1 and len(mail.outbox) == 1


def test_broker_payload_has_neither_code_nor_recipient(
    eager: EagerQueue,
    api_client: APIClient,
    sms_outbox: list[tuple[str, str]],
    issued: list[str],
) -> None:
    with eager.commit():
        assert api_client.post("/auth/email/activate/").status_code == 200
        assert api_client.post("/auth/sms_outbox/activate/").status_code == 200
    assert len(eager.published) == 2 and len(issued) == 2
    wire = json.dumps(eager.published)
    for secret in [*issued, EMAIL, "alice@", PHONE, PHONE.lstrip("+"), "600100200"]:
        assert secret not in wire
    for call, code, recipient in zip(eager.published, issued, [EMAIL, PHONE], strict=True):
        method_id, purpose, challenge_id, payload = call["kwargs"]["args"]
        assert MFAMethod.objects.filter(pk=method_id).exists()
        assert (purpose, challenge_id) == ("activation", None)
        job = QueuedCode.unseal(payload)
        assert (job.code, job.recipient) == (code, recipient)
    # Both messages went out with the code the request stored.
    assert issued[0] in mail.outbox[0].body
    assert sms_outbox[0][0] == PHONE and issued[1] in sms_outbox[0][1]


def test_no_code_in_logs_at_debug_level(
    email_mfa_user: tuple[Any, list[str]],
    eager: EagerQueue,
    anon_client: APIClient,
    issued: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with eager.commit():
        step1 = anon_client.post("/auth/jwt/login/", credentials(email_mfa_user[0]))
    assert step1.status_code == 200 and len(mail.outbox) == 1
    assert "Sent a queued MFA code (purpose login, method 'email')" in caplog.text
    assert issued and all(code not in caplog.text for code in issued)


def test_task_is_registered_under_a_stable_name(eager: EagerQueue) -> None:
    task = eager.app.tasks["trench_mfa.send_code"]
    assert task.max_retries == tasks.DEFAULT_MAX_RETRIES == 3
    assert set(task.autoretry_for) == {tasks.DispatchError, OSError}
    assert task.retry_backoff and task.ignore_result


def test_a_decoy_login_is_queued_like_a_real_one_and_its_task_sends_nothing(
    eager: EagerQueue,
    flows_config: Callable[..., Any],
    verified_user: Any,
) -> None:
    flows_config(flows=[("email", "passcode")], DISPATCH="celery")
    for address in (EMAIL, "nobody@example.com"):
        with eager.commit():
            response = APIClient().post("/auth/jwt/login/", {"email": address})
        assert response.status_code == 200
    assert len(eager.published) == 2  # the decoy's task is queued and runs too
    assert [message.to for message in mail.outbox] == [[EMAIL]]
