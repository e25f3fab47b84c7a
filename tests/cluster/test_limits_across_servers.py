"""The back-off, lockout, send cooldown, send caps and login throttles hold across two servers.

Each case sends its requests at once, spread evenly over both app servers,
and counts what got through: never more than one server alone would let
through. The back-off, lockout, cooldown and per-number cap live in
PostgreSQL; the login and send throttles count in the shared Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from testproject import settings_cluster as limits
from tests.cluster import figures, load
from tests.cluster.conftest import Cluster
from tests.cluster.servers import AppServer
from trench_mfa.models import CodePurpose, EventType, MFAEvent, MFAMethod, OneTimeCode, SendQuota
from trench_mfa.state import send_limits

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

PARALLEL = 20
#: Requests against a throttle: well over its rate.
OVER_THE_RATE = 60

PHONE = "+48600100200"


def wrong(code: str) -> str:
    """A well-formed code other than ``code``."""
    return "000000" if code != "000000" else "111111"


def right_code_on_each(servers: list[AppServer], token: str, code: str) -> list[load.Reply]:
    """The right code, once on each server."""
    return [
        load.call(
            server,
            load.LOGIN_CODE,
            {"ephemeral_token": token, "code": code},
            ip=load.client_ip(90 + n),
        )
        for n, server in enumerate(servers)
    ]


def test_the_back_off_lets_one_of_many_parallel_codes_be_checked(
    cluster: Cluster, servers: list[AppServer], mfa_user: Callable[..., Any]
) -> None:
    user = mfa_user("back-off")
    token = load.start_login(servers[0], user, load.client_ip(0))
    code = cluster.mailbox.last_code(user.email)
    replies = load.answers_at_once(servers, [token] * PARALLEL, wrong(code))
    figures.record("back-off: parallel wrong codes, one token", replies, success=401)
    assert load.statuses(replies) == {401: 1, 429: PARALLEL - 1}
    assert MFAMethod.objects.get(user=user).failure_count == 1
    # Inside the back-off even the right code waits, on either server.
    assert [r.status for r in right_code_on_each(servers, token, code)] == [429, 429]


def test_parallel_failures_lock_the_account_once(
    cluster: Cluster, servers: list[AppServer], mfa_user: Callable[..., Any]
) -> None:
    user = mfa_user("lockout")
    # One failure short of the lockout, the last one long enough ago that
    # its back-off (capped at a year) is over.
    MFAMethod.objects.filter(user=user).update(
        failure_count=limits.LOCKOUT_THRESHOLD - 1,
        last_failure_at=timezone.now() - timedelta(days=400),
    )
    token = load.start_login(servers[0], user, load.client_ip(0))
    code = cluster.mailbox.last_code(user.email)
    replies = load.answers_at_once(servers, [token] * PARALLEL, wrong(code))
    figures.record("lockout: parallel wrong codes at the threshold", replies, success=401)
    assert load.statuses(replies) == {401: 1, 429: PARALLEL - 1}
    row = MFAMethod.objects.get(user=user)
    assert row.failure_count == limits.LOCKOUT_THRESHOLD
    assert row.locked_until is not None and row.locked_until > timezone.now()
    assert MFAEvent.objects.filter(user=user, event=EventType.LOCKED_OUT).count() == 1
    answers = right_code_on_each(servers, token, code)
    assert [(r.status, r.body["error_code"]) for r in answers] == [(429, "locked")] * 2


def test_parallel_wrong_passwords_for_one_username_pass_at_most_the_rate(
    servers: list[AppServer], user_factory: Callable[..., Any]
) -> None:
    user = user_factory(username="throttled-user")
    body = load.login_body(user, "wrong-password")
    replies = load.burst_in_one_window(load.same_request(servers, OVER_THE_RATE, load.LOGIN, body))
    figures.record("login throttle: one username, 60 client IPs", replies, success=400)
    assert load.statuses(replies) == {
        400: limits.LOGIN_RATE,
        429: OVER_THE_RATE - limits.LOGIN_RATE,
    }


def test_parallel_logins_from_one_address_pass_at_most_the_rate(
    servers: list[AppServer],
) -> None:
    replies = load.burst_in_one_window(
        [
            load.request(
                server,
                load.LOGIN,
                {"username": f"nobody{n}", "password": "x"},
                ip=load.client_ip(0),
            )
            for n, server in enumerate(load.spread(servers, OVER_THE_RATE))
        ]
    )
    figures.record("login throttle: one client IP, 60 usernames", replies, success=400)
    assert load.statuses(replies) == {
        400: limits.LOGIN_RATE,
        429: OVER_THE_RATE - limits.LOGIN_RATE,
    }


def test_parallel_code_requests_send_one_code_inside_the_cooldown(
    cluster: Cluster, servers: list[AppServer], signed_in: Callable[..., tuple[Any, str]]
) -> None:
    user, key = signed_in("cooldown")
    replies = load.burst(load.same_request(servers, PARALLEL, "/auth/code/request/", token=key))
    figures.record("send cooldown: parallel code requests, one user", replies)
    assert load.statuses(replies) == {200: 1, 429: PARALLEL - 1}
    assert len(cluster.mailbox.to(user.email)) == 1
    assert OneTimeCode.objects.filter(method__user=user, purpose=CodePurpose.ACTION).count() == 1


def test_parallel_code_requests_from_one_address_pass_at_most_the_send_rate(
    cluster: Cluster,
    servers: list[AppServer],
    mfa_user: Callable[..., Any],
) -> None:
    users = [mfa_user(f"sender{n}") for n in range(2 * limits.SEND_RATE)]
    keys = [load.token_key(user) for user in users]
    replies = load.burst_in_one_window(
        [
            load.request(server, "/auth/code/request/", ip=load.client_ip(0), token=key)
            for server, key in zip(load.spread(servers, len(keys)), keys, strict=True)
        ]
    )
    figures.record("send throttle: one client IP, 24 users", replies)
    assert load.statuses(replies) == {200: limits.SEND_RATE, 429: len(keys) - limits.SEND_RATE}
    assert sum(len(cluster.mailbox.to(user.email)) for user in users) == limits.SEND_RATE


def test_parallel_sms_to_one_number_stop_at_its_cap(
    cluster: Cluster,
    servers: list[AppServer],
    mfa_user: Callable[..., Any],
) -> None:
    # Twenty accounts share one number (SMS pumping): the cap is the number's.
    keys = [load.token_key(mfa_user(f"pump{n}", "sms", phone=PHONE)) for n in range(PARALLEL)]
    replies = load.burst(
        [
            load.request(server, "/auth/code/request/", ip=load.client_ip(n), token=key)
            for n, (server, key) in enumerate(
                zip(load.spread(servers, PARALLEL), keys, strict=True)
            )
        ]
    )
    figures.record("SMS cap: 20 users, one number", replies)
    cap = limits.SMS_MAX_PER_NUMBER
    assert load.statuses(replies) == {200: cap, 429: PARALLEL - cap}
    assert len(cluster.sms.to(PHONE)) == cap
    quota = SendQuota.objects.get(key=send_limits.recipient_key("sms", PHONE))
    assert len(quota.sent_at) == cap
