"""A server's database session ends in the middle of a request: a clean 503, nothing half-written.

The test holds a lock on a row the request must write, waits until the
server's session is blocked on it, and ends that session with
``pg_terminate_backend`` (as a failover or an administrator would). The
server answers ``503 service_unavailable`` (no traceback, no SQL), its
transaction is rolled back whole, and the same request then
succeeds on the other server. Everything security depends on (codes,
counters, tokens, backup codes, send caps, audit events) is compared before
and after.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db.models import Model

from tests.cluster import figures, load
from tests.cluster.conftest import Cluster
from tests.cluster.database import RowLock, blocked_session, terminate
from tests.cluster.servers import AppServer
from trench_mfa.models import (
    BackupCode,
    LoginChallenge,
    MFAEvent,
    MFAMethod,
    OneTimeCode,
    SendQuota,
)
from trench_mfa.state import send_limits

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

PHONE = "+48600100400"
#: What an error page must never show.
LEAKS = ("Traceback", 'File "', "psycopg", "OperationalError", "terminat", "SELECT", "trench_mfa")


def killed_mid_request(
    row: Model, server: AppServer, send: load.Request, blocked_in: str
) -> load.Reply:
    """Send while ``row`` is locked; end ``server``'s session once it waits for the lock.

    ``blocked_in``: part of the statement the session waits in, which says
    how far the request got.
    """
    with RowLock(row) as lock, ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(send)
        pid, statement = blocked_session(server.name, lock.pid)
        assert blocked_in in statement, statement
        terminate(pid)
        return pending.result(timeout=load.TIMEOUT)


def assert_clean_server_error(reply: load.Reply) -> None:
    """``503 service_unavailable``: retrying is safe; no traceback, no SQL, no module names."""
    assert reply.status == 503, reply.text
    assert reply.body["error_code"] == "service_unavailable", reply.text
    assert all(leak not in reply.text for leak in LEAKS), reply.text


def state_of(user: Any) -> dict[str, Any]:
    """Every row of ``user`` that security depends on, as plain values."""
    return {
        "methods": list(
            MFAMethod.objects.filter(user=user).values_list(
                "name", "failure_count", "last_failure_at", "locked_until", "last_used_at"
            )
        ),
        "codes": list(
            OneTimeCode.objects.filter(method__user=user)
            .order_by("pk")
            .values_list("pk", "purpose", "challenge_id", "attempts", "consumed_at")
        ),
        "challenges": list(
            LoginChallenge.objects.filter(user=user)
            .order_by("pk")
            .values_list("pk", "method", "failed_attempts", "used_at")
        ),
        "backup_codes": list(BackupCode.objects.filter(user=user).values_list("pk", "used_at")),
        "events": list(MFAEvent.objects.filter(user=user).order_by("pk").values_list("event")),
        "quotas": list(SendQuota.objects.order_by("key").values_list("key", "sent_at", "version")),
    }


@pytest.mark.parametrize("answer", ["right code", "wrong code"])
def test_a_login_answer_whose_session_ends_writes_nothing(
    answer: str, cluster: Cluster, servers: list[AppServer], mfa_user: Callable[..., Any]
) -> None:
    user = mfa_user(f"killed-{answer.split()[0]}")
    token = load.start_login(servers[0], user, load.client_ip(0))
    code = cluster.mailbox.last_code(user.email)
    sent = code if answer == "right code" else ("000000" if code != "000000" else "111111")
    before = state_of(user)
    # The challenge row is written last, after the code and the method's
    # counters: the session ends with those writes made, not committed.
    challenge = LoginChallenge.objects.get(user=user)
    body = {"ephemeral_token": token, "code": sent}
    send = load.request(servers[0], load.LOGIN_CODE, body, ip=load.client_ip(1))
    reply = killed_mid_request(challenge, servers[0], send, 'UPDATE "trench_mfa_loginchallenge"')
    assert_clean_server_error(reply)
    assert state_of(user) == before
    # As if the request had never come: the right code logs in on the other server.
    retry = load.call(
        servers[1], load.LOGIN_CODE, {"ephemeral_token": token, "code": code}, ip=load.client_ip(1)
    )
    figures.record(f"database session ended: login step 2, {answer}, then a retry", [reply, retry])
    assert retry.status == 200, retry.text


def test_a_code_request_whose_session_ends_sends_nothing(
    cluster: Cluster, servers: list[AppServer], signed_in: Callable[..., tuple[Any, str]]
) -> None:
    user, key = signed_in("killed-send", "sms", phone=PHONE)
    quota = SendQuota.objects.create(key=send_limits.recipient_key("sms", PHONE))
    before = state_of(user)
    # Blocked reserving the number's send, holding the method row's lock.
    send = load.request(servers[1], "/auth/code/request/", ip=load.client_ip(0), token=key)
    reply = killed_mid_request(quota, servers[1], send, 'UPDATE "trench_mfa_sendquota"')
    assert_clean_server_error(reply)
    assert state_of(user) == before
    assert cluster.sms.to(PHONE) == []
    retry = load.call(servers[0], "/auth/code/request/", ip=load.client_ip(0), token=key)
    figures.record("database session ended: SMS code request, then a retry", [reply, retry])
    assert retry.status == 200, retry.text
    assert len(cluster.sms.to(PHONE)) == 1


def test_a_login_start_whose_session_ends_leaves_no_code(
    cluster: Cluster, servers: list[AppServer], mfa_user: Callable[..., Any]
) -> None:
    user = mfa_user("killed-start")
    method = MFAMethod.objects.get(user=user)
    # Blocked on the method row's lock that the resend cooldown takes.
    send = load.request(servers[0], load.LOGIN, load.login_body(user), ip=load.client_ip(0))
    reply = killed_mid_request(method, servers[0], send, "FOR NO KEY UPDATE")
    assert_clean_server_error(reply)
    after = state_of(user)
    # No code was made, sent or recorded. The challenge row written before
    # the send stays behind (docs/security.rst, "Known limits"): its token
    # never left the server, so nothing can answer it, and it expires.
    assert after["codes"] == [] and after["events"] == []
    assert cluster.mailbox.to(user.email) == []
    retry = load.call(servers[1], load.LOGIN, load.login_body(user), ip=load.client_ip(0))
    figures.record("database session ended: login step 1, then a retry", [reply, retry])
    assert retry.status == 200, retry.text
    body = {
        "ephemeral_token": retry.body["ephemeral_token"],
        "code": cluster.mailbox.last_code(user.email),
    }
    assert load.call(servers[0], load.LOGIN_CODE, body, ip=load.client_ip(0)).status == 200
