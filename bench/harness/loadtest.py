"""Scenario 4: login step 2 under gunicorn (2 workers) on PostgreSQL, MD5 hasher.

Set-up per package: a fresh database, the seeded user plus clones (each
clone has its own method rows), both servers started and warmed up. Each
round then issues fresh tokens (untimed, before the load starts) and loads
package A, then package B, for the same duration from this process.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from harness.envs import Env
from harness.loadgen import LoadResult, run_load
from harness.plan import Plan
from harness.server import Gunicorn
from harness.stats import Figure, percentile

STEP2 = "/auth/jwt/login/code/"


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


def _tokens(env: Env, count: int, scratch: Path) -> list[str]:
    path = scratch / f"tokens-{env.key}.txt"
    _manage(env, "bench_tokens", "--count", str(count), "--out", str(path))
    return [t for t in path.read_text().splitlines() if t]


def _summary(result: LoadResult) -> dict[str, Any]:
    answered = result.latencies or [float("nan")]
    return {
        "rps": result.ok / result.elapsed if result.elapsed else 0.0,
        "p50": percentile(answered, 50) * 1000,
        "p99": percentile(answered, 99) * 1000,
        "requests": len(result.latencies),
        "statuses": result.statuses,
        "errors": result.errors,
        "exhausted": result.exhausted,
    }


def run(envs: tuple[Env, Env], plan: Plan, scratch: Path, logs: Path) -> dict[str, Any]:
    """All rounds; per package the figures and each round's raw summary."""
    secrets = {env.key: prepare(env, plan.load_tokens) for env in envs}
    servers = {
        env.key: Gunicorn(env, _environ(env), logs / f"gunicorn-{env.key}.log") for env in envs
    }
    rounds: dict[str, list[dict[str, Any]]] = {env.key: [] for env in envs}
    try:
        for env in envs:
            servers[env.key].wait_ready()
        for env in envs:
            warm = _tokens(env, min(plan.load_tokens, 2000), scratch)
            run_load(
                servers[env.key].port,
                STEP2,
                warm,
                secrets[env.key],
                threads=plan.load_threads,
                duration=plan.warmup_seconds,
            )
        for _ in range(plan.load_rounds):
            for env in envs:
                tokens = _tokens(env, plan.load_tokens, scratch)
                result = run_load(
                    servers[env.key].port,
                    STEP2,
                    tokens,
                    secrets[env.key],
                    threads=plan.load_threads,
                    duration=plan.load_seconds,
                )
                rounds[env.key].append(_summary(result))
    finally:
        for server in servers.values():
            server.stop()
    figures: dict[str, Any] = {}
    for key, values in rounds.items():
        figures[key] = {
            metric: Figure.of([r[metric] for r in values]) for metric in ("rps", "p50", "p99")
        }
        figures[key]["rounds"] = values
    return figures
