"""Scenario 4: login step 2 under gunicorn (2 workers) on PostgreSQL, MD5 hasher.

Four subjects take turns in every round (the order reversed every other
round), each loaded for the same duration from this process: trench_mfa's
step 2, django-trench's step 2, and the two floors
(``bench/projects/mfa_site/bench_floor``): the read-only floor and the
durable-writes floor. The floors are views of the trench_mfa site, so they
run in the same gunicorn workers, on the same database (``bench_mfa``) and
with the same settings as trench_mfa's step 2.

Set-up per package: a fresh database, the seeded user plus clones (each
clone has its own method rows), both servers started and warmed up on all
four subjects. Each round issues fresh tokens per subject (untimed, before
its load starts) and meters the CPU of the gunicorn workers and of the
database's PostgreSQL backends over the subject's load (``harness.cpu``).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.cpu import Meter
from harness.envs import Env
from harness.loadgen import LoadResult, run_load
from harness.plan import Plan
from harness.server import Gunicorn
from harness.stats import Figure, percentile

STEP2 = "/auth/jwt/login/code/"
#: Per-round figures: requests/s, latency percentiles (ms), CPU ms and WAL
#: bytes per request.
METRICS = ("rps", "p50", "p99", "app_cpu", "db_cpu", "bg_cpu", "wal")


@dataclass(frozen=True)
class Subject:
    """One endpoint under load: whose site serves it and how its tokens are made."""

    key: str
    env: Env
    path: str
    #: ``manage.py`` command writing one token per line: ``--count N --out FILE``.
    token_command: str
    floor: bool = False

    @property
    def database(self) -> str:
        """The PostgreSQL database of the site that serves it."""
        return f"bench_{self.env.key}"


def subjects(packages: tuple[Env, Env]) -> list[Subject]:
    """The packages' step 2 and the two floors (served by the first package's site)."""
    mfa, trench = packages
    return [
        Subject(mfa.key, mfa, STEP2, "bench_tokens"),
        Subject(trench.key, trench, STEP2, "bench_tokens"),
        Subject("floor_read", mfa, "/floor/read/", "floor_tokens", floor=True),
        Subject("floor_write", mfa, "/floor/write/", "floor_tokens", floor=True),
    ]


def _environ(env: Env) -> dict[str, str]:
    return {"BENCH_DB": f"postgres:bench_{env.key}", "BENCH_HASHER": "md5"}


def _manage(env: Env, *args: str, timeout: float = 600) -> str:
    result = subprocess.run(  # noqa: S603 - our own argv
        [*env.manage, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **_environ(env)},
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{env.label}: manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def prepare(env: Env, clones: int) -> str:
    """Fresh database, seeded user and clones; returns the shared TOTP secret."""
    _manage(env, "bench_pgdb")
    out = _manage(env, "bench_seed", "--clones", str(clones))
    return str(json.loads(out.strip().splitlines()[-1])["secret"])


def _tokens(subject: Subject, count: int, scratch: Path) -> list[str]:
    path = scratch / f"tokens-{subject.key}.txt"
    _manage(subject.env, subject.token_command, "--count", str(count), "--out", str(path))
    return [t for t in path.read_text().splitlines() if t]


def _summary(result: LoadResult, cpu: dict[str, float]) -> dict[str, Any]:
    """One round of one subject; CPU (ms) and WAL (bytes) per answered request (any status)."""
    answered = result.latencies or [float("nan")]
    count = len(result.latencies) or float("nan")
    return {
        "rps": result.ok / result.elapsed if result.elapsed else 0.0,
        "p50": percentile(answered, 50) * 1000,
        "p99": percentile(answered, 99) * 1000,
        "app_cpu": cpu["app"] * 1000 / count,
        "db_cpu": cpu["db"] * 1000 / count,
        "bg_cpu": cpu["bg"] * 1000 / count,
        "wal": cpu["wal"] / count,
        "requests": len(result.latencies),
        "statuses": result.statuses,
        "errors": result.errors,
        "exhausted": result.exhausted,
    }


def run(packages: tuple[Env, Env], plan: Plan, scratch: Path, logs: Path) -> dict[str, Any]:
    """All rounds; per subject key the figures and each round's raw summary."""
    secrets = {env.key: prepare(env, plan.load_tokens) for env in packages}
    servers = {
        env.key: Gunicorn(env, _environ(env), logs / f"gunicorn-{env.key}.log") for env in packages
    }
    order = subjects(packages)
    counts = {s.key: plan.floor_tokens if s.floor else plan.load_tokens for s in order}
    rounds: dict[str, list[dict[str, Any]]] = {s.key: [] for s in order}

    def load(subject: Subject, tokens: list[str], duration: float) -> LoadResult:
        return run_load(
            servers[subject.env.key].port,
            subject.path,
            tokens,
            secrets[subject.env.key],
            threads=plan.load_threads,
            duration=duration,
        )

    try:
        for server in servers.values():
            server.wait_ready()
        for subject in order:
            load(
                subject,
                _tokens(subject, min(counts[subject.key], 2000), scratch),
                plan.warmup_seconds,
            )
        for number in range(plan.load_rounds):
            # A B C D, then D C B A: a drift in the machine's load during a
            # run then weighs on every subject alike.
            for subject in order if number % 2 == 0 else order[::-1]:
                tokens = _tokens(subject, counts[subject.key], scratch)
                meter = Meter(servers[subject.env.key].proc.pid, subject.database)
                meter.start()
                result = load(subject, tokens, plan.load_seconds)
                rounds[subject.key].append(_summary(result, meter.stop()))
    finally:
        for server in servers.values():
            server.stop()
    figures: dict[str, Any] = {}
    for key, values in rounds.items():
        figures[key] = {metric: Figure.of([r[metric] for r in values]) for metric in METRICS}
        figures[key]["rounds"] = values
    return figures
