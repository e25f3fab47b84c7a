"""Requests to the app servers as a load balancer forwards them, alone or in bursts.

Every request names its client in ``X-Forwarded-For`` (the servers trust one
proxy), so a test chooses which client addresses its requests come from. A
burst is a fixed list of requests, one thread each, released together behind
a barrier: it ends when the last answer is in (each bounded by a timeout).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from rest_framework.authtoken.models import Token

from testproject import settings_cluster
from tests.cluster.servers import AppServer
from tests.conftest import PASSWORD

#: Bound of one request, and of the wait for a burst's threads to line up.
TIMEOUT = 30.0


@dataclass(frozen=True)
class Reply:
    """One answer: status, JSON body (or ``None``), raw text and which server gave it."""

    status: int
    body: Any
    text: str
    server: str
    headers: dict[str, str] = field(default_factory=dict)


def call(
    server: AppServer,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    ip: str,
    token: str | None = None,
    method: str = "POST",
) -> Reply:
    """Send one request to ``server`` from client ``ip`` (as ``Token`` ``token`` if given)."""
    headers = {"X-Forwarded-For": ip}
    if token is not None:
        headers["Authorization"] = f"Token {token}"
    response = requests.request(
        method, f"{server.url}{path}", json=body, headers=headers, timeout=TIMEOUT
    )
    try:
        payload = response.json()
    except ValueError:
        payload = None
    return Reply(response.status_code, payload, response.text, server.name, dict(response.headers))


Request = Callable[[], Reply]


def request(
    server: AppServer,
    path: str,
    body: dict[str, Any] | None = None,
    **options: Any,
) -> Request:
    """A request to send later (in a burst): see :func:`call`."""
    return lambda: call(server, path, body, **options)


def same_request(
    servers: Sequence[AppServer],
    count: int,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    first_client: int = 0,
    **options: Any,
) -> list[Request]:
    """``count`` copies of one request (see :func:`call`), the servers taking turns.

    Copy ``n`` comes from client ``first_client + n``.
    """
    return [
        request(server, path, body, ip=client_ip(first_client + n), **options)
        for n, server in enumerate(spread(servers, count))
    ]


def burst(requests_: Sequence[Request]) -> list[Reply]:
    """Send every request from its own thread, all released at once; the replies in order."""
    barrier = threading.Barrier(len(requests_), timeout=TIMEOUT)

    def released(send: Request) -> Reply:
        barrier.wait()
        return send()

    with ThreadPoolExecutor(max_workers=len(requests_)) as pool:
        futures = [pool.submit(released, send) for send in requests_]
        return [future.result(timeout=2 * TIMEOUT) for future in futures]


def spread(servers: Sequence[AppServer], count: int) -> list[AppServer]:
    """``count`` servers taking turns: request ``n`` goes to server ``n % len(servers)``."""
    return [servers[n % len(servers)] for n in range(count)]


def statuses(replies: Sequence[Reply]) -> Counter[int]:
    """How many replies had each status."""
    return Counter(reply.status for reply in replies)


def per_server(replies: Sequence[Reply]) -> Counter[str]:
    """How many replies each server gave."""
    return Counter(reply.server for reply in replies)


#: Login step 1 and step 2 (JWT flavour) and the code re-send during a login.
LOGIN = "/auth/jwt/login/"
LOGIN_CODE = "/auth/jwt/login/code/"
LOGIN_RESEND = "/auth/jwt/login/code/request/"


def client_ip(n: int) -> str:
    """The address of client number ``n`` (TEST-NET-2 and onwards: never a real host)."""
    return f"198.18.{n // 250}.{n % 250 + 1}"


def login_body(user: Any, password: str | None = None) -> dict[str, str]:
    """Login step 1's body for ``user`` (the right password unless ``password``)."""
    return {"username": user.get_username(), "password": password or PASSWORD}


def token_key(user: Any) -> str:
    """The DRF token key of ``user`` (created on first use): the ``token`` of :func:`call`."""
    token, _ = Token.objects.get_or_create(user=user)
    return str(token.key)


def start_login(server: AppServer, user: Any, ip: str) -> str:
    """Login step 1 with the right password on ``server``; the ephemeral token."""
    reply = call(server, LOGIN, login_body(user), ip=ip)
    assert reply.status == 200, reply.text
    return str(reply.body["ephemeral_token"])


class OneThrottleWindow:
    """Whether a burst stayed inside one throttle window (they last a day).

    ``with OneThrottleWindow() as window: ...``, then ``window.crossed``: a
    burst that straddled two windows may pass the rate twice, by design.
    """

    def __enter__(self) -> OneThrottleWindow:
        self.start = int(time.time() // settings_cluster.RATE_WINDOW)
        self.crossed = False
        return self

    def __exit__(self, *exc: object) -> None:
        self.crossed = int(time.time() // settings_cluster.RATE_WINDOW) != self.start


def burst_in_one_window(requests_: Sequence[Request]) -> list[Reply]:
    """:func:`burst` inside one throttle window; the test is skipped when it straddled two."""
    with OneThrottleWindow() as window:
        replies = burst(requests_)
    if window.crossed:
        pytest.skip("the burst straddled two throttle windows")
    return replies


def answers_at_once(servers: Sequence[AppServer], tokens: Sequence[str], code: str) -> list[Reply]:
    """Login step 2 with ``code`` for each of ``tokens`` in one burst, the servers taking turns.

    Answer ``n`` comes from client ``n``; pass one token many times to answer
    one login many times.
    """
    return burst(
        [
            request(server, LOGIN_CODE, {"ephemeral_token": token, "code": code}, ip=client_ip(n))
            for n, (server, token) in enumerate(
                zip(spread(servers, len(tokens)), tokens, strict=True)
            )
        ]
    )
