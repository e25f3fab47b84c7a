"""Scenario 5: ``cleanup_otp_codes`` over N expired codes next to a raw SQL DELETE.

Each measurement is a child process (``manage.py ...``), so both include the
same Django start-up; wall time and the child's peak RSS come from
``os.wait4``. The table is refilled (untimed) before every measurement and
the two alternate: command, raw, command, raw.
"""

from __future__ import annotations

import os
import subprocess
import time
from typing import Any

from harness.envs import Env
from harness.plan import Plan
from harness.stats import Figure


def _manage(env: Env, environ: dict[str, str], *args: str) -> None:
    subprocess.run(  # noqa: S603 - our own argv
        [*env.manage, *args],
        env={**os.environ, **environ},
        check=True,
        capture_output=True,
        timeout=900,
    )


def _measured(env: Env, environ: dict[str, str], *args: str) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one ``manage.py`` child."""
    started = time.perf_counter()
    proc = subprocess.Popen(  # noqa: S603 - our own argv
        [*env.manage, *args],
        env={**os.environ, **environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed ({proc.returncode})")
    return elapsed, usage.ru_maxrss / 1024


def run(env: Env, plan: Plan, databases: dict[str, str]) -> dict[str, Any]:
    """Per database label: figures for the command and the raw DELETE."""
    out: dict[str, Any] = {}
    for label, spec in databases.items():
        environ = {"BENCH_DB": spec, "BENCH_HASHER": "md5"}
        if spec.startswith("postgres:"):
            _manage(env, environ, "bench_pgdb")
        _manage(env, environ, "migrate", "--verbosity", "0")
        times: dict[str, list[float]] = {"command": [], "raw": []}
        rss: dict[str, list[float]] = {"command": [], "raw": []}
        for _ in range(plan.cleanup_rounds):
            for kind, args in (
                ("command", ("cleanup_otp_codes",)),
                ("raw", ("bench_codes", "raw_delete")),
            ):
                _manage(env, environ, "bench_codes", "fill", "--rows", str(plan.cleanup_rows))
                seconds, peak = _measured(env, environ, *args)
                times[kind].append(seconds)
                rss[kind].append(peak)
        out[label] = {
            kind: {"seconds": Figure.of(times[kind]), "rss_mb": Figure.of(rss[kind])}
            for kind in times
        }
    return out
