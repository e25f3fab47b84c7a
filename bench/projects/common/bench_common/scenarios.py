"""In-process scenarios: each returns per-operation timings or query counts.

Only the requests themselves are timed. Set-up (a fresh ephemeral token for
a step-2 measurement, resetting the replay guard, new backup codes) happens
outside the timed region and is the same call for both packages.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth import authenticate, get_user_model

from bench_common.flows import WRONG_BACKUP_CODE, Api, Seed, UnexpectedStatus, adapter

Op = Callable[[Api, Seed, int, float], dict[str, Any]]


def _bounded(n: int, budget: float, one: Callable[[], float | None]) -> dict[str, Any]:
    """Run ``one`` up to ``n`` times or until ``budget`` seconds passed (at least once)."""
    samples: list[float] = []
    retries = 0
    deadline = time.monotonic() + budget
    while len(samples) < n and (not samples or time.monotonic() < deadline):
        sample = one()
        if sample is None:
            # A TOTP step boundary fell between computing and using the code.
            retries += 1
            if retries > 5:
                raise UnexpectedStatus("too many failed logins in a row")
            continue
        samples.append(sample)
    return {"samples": samples, "retries": retries}


def full_login(api: Api, seed: Seed, n: int, budget: float) -> dict[str, Any]:
    """Step 1 + step 2 with the app's TOTP code, JWT flavour."""

    def one() -> float | None:
        adapter().reset_state()
        code = seed.totp()
        started = time.perf_counter()
        first = api.step1(seed.username, seed.password)
        token = first.json()["ephemeral_token"]
        second = api.step2(token, code)
        elapsed = time.perf_counter() - started
        if first.status_code != 200:
            raise UnexpectedStatus(f"step 1: {first.status_code}")
        return elapsed if second.status_code == 200 else None

    return _bounded(n, budget, one)


def password_check(api: Api, seed: Seed, n: int, budget: float) -> dict[str, Any]:
    """The reference: Django's ``authenticate()`` with the right password."""

    def one() -> float:
        started = time.perf_counter()
        user = authenticate(username=seed.username, password=seed.password)
        elapsed = time.perf_counter() - started
        if user is None:
            raise UnexpectedStatus("authenticate() refused the seeded password")
        return elapsed

    return _bounded(n, budget, one)


def backup_wrong(api: Api, seed: Seed, n: int, budget: float) -> dict[str, Any]:
    """Step 2 with a well-formed backup code that was never issued (401)."""

    def one() -> float:
        adapter().reset_state()
        token = api.ephemeral_token(seed)
        started = time.perf_counter()
        response = api.step2(token, WRONG_BACKUP_CODE)
        elapsed = time.perf_counter() - started
        if response.status_code != 401:
            raise UnexpectedStatus(f"wrong backup code: {response.status_code}")
        return elapsed

    return _bounded(n, budget, one)


def backup_right(api: Api, seed: Seed, n: int, budget: float) -> dict[str, Any]:
    """Step 2 with an unused backup code (200); codes are renewed untimed."""

    def one() -> float:
        adapter().reset_state()
        if not seed.backup_codes:
            user = get_user_model().objects.get(username=seed.username)
            seed.backup_codes = list(adapter().regenerate_backup_codes(user))
        code = seed.backup_codes.pop()
        token = api.ephemeral_token(seed)
        started = time.perf_counter()
        response = api.step2(token, code)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise UnexpectedStatus(f"right backup code: {response.status_code}")
        return elapsed

    return _bounded(n, budget, one)
