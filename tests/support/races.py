"""Run calls in real threads released together (PostgreSQL race tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

#: The marks of a race test that logs one user in from many threads: it needs
#: PostgreSQL, committed transactions (the threads see each other's rows), and
#: no login rate limit (many logins of one user within a minute are over the
#: demo's login rate).
LOGIN_RACE_MARKS = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_login_throttle"),
]


def race(calls: list[Callable[[], Any]], *, timeout: float = 60) -> list[Any]:
    """Run each call in its own thread behind one barrier; return the results in order.

    Every thread closes its own database connection; an exception in a
    thread fails the test with that exception.
    """
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        from django.db import connection

        try:
            barrier.wait(timeout=timeout)
            results[index] = calls[index]()
        except BaseException as exc:  # re-raised in the main thread below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout * 2)
    assert not any(t.is_alive() for t in threads), "a racing thread did not finish"
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
    return results


def post(
    path: str, body: dict[str, Any], *, user: Any = None
) -> Callable[[], tuple[int, dict[str, Any]]]:
    """A call that POSTs ``body`` (as ``user`` if given) and returns (status, JSON body)."""

    def call() -> tuple[int, dict[str, Any]]:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        response = client.post(path, body, format="json")
        try:
            payload = response.json() if response.content else {}
        except ValueError:
            payload = {"raw": response.content[:200]}
        return response.status_code, payload

    return call


def post_status(
    path: str, body: dict[str, Any], client: APIClient | None = None
) -> Callable[[], int]:
    """A call that POSTs ``body`` (with ``client`` or a fresh one) and returns the status."""

    def call() -> int:
        return (client or APIClient()).post(path, body).status_code

    return call


def race_step_two(tokens: list[str], code: str) -> list[int]:
    """Answer JWT login step 2 with ``code`` once per token, all at once; the statuses."""
    return [
        int(status)
        for status in race(
            [
                post_status("/auth/jwt/login/code/", {"ephemeral_token": t, "code": code})
                for t in tokens
            ]
        )
    ]
