"""How much to run: the full plan, or the ``BENCH_QUICK=1`` smoke plan."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    """Counts and time limits of every scenario (all loops are bounded by both)."""

    name: str
    md5_rounds: int
    md5_logins: int
    slow_rounds: int
    slow_logins: int
    slow_passwords: int
    backup_rounds: int
    load_rounds: int
    load_seconds: float
    load_threads: int
    load_tokens: int
    #: Tokens per floor round: the floors answer faster than the packages.
    floor_tokens: int
    warmup_seconds: float
    cleanup_rows: int
    cleanup_rounds: int
    #: Per-round time limit of one in-process measurement (at least one sample).
    round_budget: float = 8.0


FULL = Plan(
    name="full",
    md5_rounds=7,
    md5_logins=40,
    slow_rounds=7,
    slow_logins=2,
    slow_passwords=3,
    backup_rounds=3,
    load_rounds=2,
    load_seconds=20.0,
    load_threads=4,
    load_tokens=12_000,
    floor_tokens=40_000,
    warmup_seconds=3.0,
    cleanup_rows=1_000_000,
    cleanup_rounds=2,
)
QUICK = Plan(
    name="quick (BENCH_QUICK=1)",
    md5_rounds=3,
    md5_logins=10,
    slow_rounds=2,
    slow_logins=1,
    slow_passwords=1,
    backup_rounds=1,
    # Two, so the reversed gunicorn order (D C B A) runs in a smoke run too.
    load_rounds=2,
    load_seconds=5.0,
    load_threads=4,
    load_tokens=3_000,
    floor_tokens=10_000,
    warmup_seconds=1.0,
    cleanup_rows=100_000,
    cleanup_rounds=1,
)


def current() -> Plan:
    """``QUICK`` when ``BENCH_QUICK`` is set to a true value, else ``FULL``."""
    quick = os.environ.get("BENCH_QUICK", "").strip().lower() in {"1", "true", "yes", "on"}
    return QUICK if quick else FULL
