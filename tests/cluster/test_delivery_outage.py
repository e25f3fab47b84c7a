"""SMTP or the SMS provider down: 503, no usable code left behind, and codes work when it is back.

The servers mail codes to a loopback SMTP server and text them through a
Twilio-like gateway on loopback. Each case takes one of them down (stopped:
connections refused; or answering 5xx), sends requests that need a code to
both servers in turn, checks the database for anything usable, brings the
service back and logs in or confirms an action with a fresh code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.cluster import figures, load
from tests.cluster.conftest import Cluster
from tests.cluster.servers import AppServer
from trench_mfa.models import LoginChallenge, MFAMethod, OneTimeCode, SendQuota
from trench_mfa.state import send_limits

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

#: Requests sent while the service is down: more than SEND_LIMIT (5), so a
#: failed send that still counted against the cap would show afterwards.
DOWN = 6
PHONE = "+48600100300"


def send_while_down(
    servers: list[AppServer], path: str, body: Any = None, **auth: Any
) -> list[load.Reply]:
    """DOWN requests, the servers taking turns, one after another."""
    return [
        load.call(server, path, body, ip=load.client_ip(n), **auth)
        for n, server in enumerate(load.spread(servers, DOWN))
    ]


def assert_failed_cleanly(replies: list[load.Reply]) -> None:
    """Every reply is django-trench's generic 503, nothing more."""
    assert [r.status for r in replies] == [503] * len(replies), [r.text for r in replies]
    assert all(
        r.body == {"error": r.body["error"], "error_code": "dispatch_failed"} for r in replies
    )


def assert_no_usable_code(user: Any) -> None:
    """No code of ``user`` could be used, and no login challenge was left open."""
    assert not OneTimeCode.objects.filter(method__user=user, consumed_at__isnull=True).exists()
    assert not LoginChallenge.objects.filter(user=user).exists()


def test_smtp_down_answers_503_and_leaves_no_code(
    cluster: Cluster,
    servers: list[AppServer],
    signed_in: Callable[..., tuple[Any, str]],
    user_factory: Callable[..., Any],
) -> None:
    user, key = signed_in("smtp-down")
    newcomer = user_factory(username="smtp-newcomer")
    cluster.mailbox.stop()
    try:
        logins = send_while_down(servers, load.LOGIN, load.login_body(user))
        requested = send_while_down(servers, "/auth/code/request/", token=key)
        activations = send_while_down(
            servers, "/auth/email/activate/", token=load.token_key(newcomer)
        )
    finally:
        cluster.mailbox.start()
    figures.record("SMTP down: login, code request, activation", logins + requested + activations)
    for replies in (logins, requested, activations):
        assert_failed_cleanly(replies)
    assert_no_usable_code(user)
    assert not MFAMethod.objects.filter(user=newcomer, is_active=True).exists()
    assert not OneTimeCode.objects.filter(method__user=newcomer, consumed_at__isnull=True).exists()
    assert cluster.mailbox.to(user.email) == []

    # Back up: a login on one server, its code answered on the other.
    reply = load.call(servers[0], load.LOGIN, load.login_body(user), ip=load.client_ip(100))
    assert reply.status == 200, reply.text
    code = cluster.mailbox.last_code(user.email)
    body = {"ephemeral_token": reply.body["ephemeral_token"], "code": code}
    done = load.call(servers[1], load.LOGIN_CODE, body, ip=load.client_ip(100))
    assert done.status == 200, done.text
    assert (
        load.call(servers[1], "/auth/code/request/", ip=load.client_ip(101), token=key).status
        == 200
    )


@pytest.mark.parametrize("outage", ["answers 500", "closed"])
def test_sms_provider_down_answers_503_and_leaves_no_code(
    outage: str,
    cluster: Cluster,
    servers: list[AppServer],
    signed_in: Callable[..., tuple[Any, str]],
) -> None:
    user, key = signed_in("sms-down", "sms", phone=PHONE)
    if outage == "closed":
        cluster.sms.stop()
    else:
        cluster.sms.failing = True
    try:
        logins = send_while_down(servers, load.LOGIN, load.login_body(user))
        requested = send_while_down(servers, "/auth/code/request/", token=key)
    finally:
        cluster.sms.failing = False
        if outage == "closed":
            cluster.sms.start()
    figures.record(f"SMS provider {outage}: login, code request", logins + requested)
    assert_failed_cleanly(logins + requested)
    assert_no_usable_code(user)
    # The per-number cap was given back: nothing reached the number.
    quota = SendQuota.objects.filter(key=send_limits.recipient_key("sms", PHONE)).first()
    assert quota is None or quota.sent_at == []
    assert cluster.sms.to(PHONE) == []

    reply = load.call(servers[1], load.LOGIN, load.login_body(user), ip=load.client_ip(100))
    assert reply.status == 200, reply.text
    [text] = cluster.sms.to(PHONE)
    code = text.split()[4].rstrip(".")
    body = {"ephemeral_token": reply.body["ephemeral_token"], "code": code}
    done = load.call(servers[0], load.LOGIN_CODE, body, ip=load.client_ip(100))
    assert done.status == 200, done.text
