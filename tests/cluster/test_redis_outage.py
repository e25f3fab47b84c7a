"""Redis goes down in the middle of a run: throttled endpoints fail closed, the rest works.

The servers count their login and send throttles in a redis-server of the
test's own. It is killed while wrong passwords keep arriving, kept down for
a round of requests, and started again from its append-only file. While it
is down every throttled endpoint answers 429 (never lets a request through
uncounted) and everything else works, because the security state lives in
PostgreSQL. When it is back, the count of the window is what it was: no
count that let a request through was lost, and the requests refused during
the outage were not counted.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import pytest

from testproject import settings_cluster as limits
from tests.cluster import figures, load
from tests.cluster.conftest import Cluster
from tests.cluster.servers import AppServer
from trench_mfa.models import CodePurpose, LoginChallenge, OneTimeCode
from trench_mfa.state.backup_codes import replace_backup_codes

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

#: Wrong passwords sent while Redis crashes, by a pool of WORKERS threads.
RUN = 20
WORKERS = 4
#: Answers received before Redis is killed.
CRASH_AFTER = 8


def run_and_crash(
    requests_: list[Callable[[], load.Reply]], crash: Callable[[], None]
) -> list[load.Reply]:
    """Send the requests from a small pool; ``crash()`` once CRASH_AFTER answers are in."""
    replies = []
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = [pool.submit(send) for send in requests_]
        for n, future in enumerate(as_completed(futures), start=1):
            replies.append(future.result())
            if n == CRASH_AFTER:
                crash()
    return replies


def test_redis_down_fails_the_throttles_closed_and_loses_no_count(
    cluster: Cluster,
    servers: list[AppServer],
    signed_in: Callable[..., tuple[Any, str]],
    user_factory: Callable[..., Any],
) -> None:
    user, key = signed_in("through-the-outage")
    backup = replace_backup_codes(user.pk)
    token = load.start_login(servers[0], user, load.client_ip(0))
    code = cluster.mailbox.last_code(user.email)
    guessed = load.login_body(user_factory(username="guessed"), "wrong-password")

    with load.OneThrottleWindow() as window:
        run = run_and_crash(
            load.same_request(servers, RUN, load.LOGIN, guessed), cluster.redis.kill
        )
        figures.record("Redis killed during 20 wrong passwords", run, success=400)
        counted = load.statuses(run)[400]
        # Answered before the crash: counted. After: refused, never passed uncounted.
        assert set(load.statuses(run)) == {400, 429}
        assert CRASH_AFTER <= counted <= CRASH_AFTER + WORKERS

        # Redis is down. Every throttled endpoint refuses, on both servers,
        # even a right password; the rest of the API answers as usual.
        throttled = load.burst(
            [
                load.request(server, path, body, ip=load.client_ip(50 + n), token=auth)
                for n, server in enumerate(servers)
                for path, body, auth in (
                    (load.LOGIN, load.login_body(user), None),
                    (load.LOGIN, guessed, None),
                    ("/auth/code/request/", None, key),
                    ("/auth/email/activate/", None, key),
                    (load.LOGIN_RESEND, {"ephemeral_token": token}, None),
                )
            ]
        )
        figures.record("Redis down: throttled endpoints", throttled, success=200)
        assert load.statuses(throttled) == {429: len(throttled)}
        assert {r.body["error_code"] for r in throttled} == {"throttled"}
        working = [
            load.call(
                servers[1],
                load.LOGIN_CODE,
                {"ephemeral_token": token, "code": code},
                ip=load.client_ip(60),
            ),
            load.call(
                servers[0],
                "/auth/mfa/user-active-methods/",
                ip=load.client_ip(61),
                token=key,
                method="GET",
            ),
            load.call(servers[1], "/auth/mfa/config/", ip=load.client_ip(62), method="GET"),
            load.call(
                servers[0],
                "/auth/email/codes/regenerate/",
                {"code": backup[0]},
                ip=load.client_ip(63),
                token=key,
            ),
        ]
        figures.record("Redis down: other endpoints", working)
        assert [r.status for r in working] == [200] * len(working), [r.text for r in working]
        assert "access" in working[0].body

        cluster.redis.start()
        # The window goes on from where it was: RUN more wrong passwords,
        # and only what was left of the rate passes.
        after = load.burst(load.same_request(servers, RUN, load.LOGIN, guessed, first_client=100))
    if window.crossed:
        pytest.skip("the run straddled two throttle windows")
    figures.record("Redis back: 20 more wrong passwords", after, success=400)
    passed = load.statuses(after)[400]
    assert load.statuses(after) == {400: passed, 429: RUN - passed}
    # Never more than the rate in the window, outage or not: no count that
    # let a request through was lost (a lost window would pass all RUN). It
    # is exactly the rest unless the kill landed after Redis had written a
    # count but before the server read it: that request was refused and
    # still counted, which errs on the safe side (at most one per thread).
    assert limits.LOGIN_RATE - counted - WORKERS <= passed <= limits.LOGIN_RATE - counted

    # The login finished during the outage is in the database, and a new one
    # goes through the throttles again.
    assert LoginChallenge.objects.get(user=user).used_at is not None
    assert (
        OneTimeCode.objects.filter(
            method__user=user, purpose=CodePurpose.LOGIN, consumed_at__isnull=True
        ).count()
        == 0
    )
    again = [
        load.call(server, load.LOGIN, load.login_body(user), ip=load.client_ip(200 + n))
        for n, server in enumerate(servers)
    ]
    assert [r.status for r in again] == [200, 200], [r.text for r in again]
