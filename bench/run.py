#!/usr/bin/env python3
"""``make bench``: trench_mfa side by side with django-trench 0.3.1.

Builds the two virtualenvs (once), runs every scenario with the packages
taking turns, and writes ``bench/results/latest.md``. ``BENCH_QUICK=1``
runs the short smoke plan. Standard library only: it runs on the
machine's python3 and drives everything else as child processes.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import cleanup, inprocess, loadtest
from harness.document import write
from harness.envs import BENCH, ENVS, MFA, TRENCH, ensure
from harness.plan import current
from harness.workers import Worker

SCRATCH = BENCH / ".scratch"
LOGS = SCRATCH / "logs"


def log(message: str) -> None:
    """Progress on stderr with the elapsed time."""
    print(f"[bench {time.monotonic() - START:6.0f} s] {message}", file=sys.stderr, flush=True)


def guarded(results: dict[str, Any], name: str, step: Callable[[], Any]) -> None:
    """Run one scenario; a failure is reported in the table, not fatal to the rest."""
    log(f"{name} ...")
    try:
        results[name] = step()
    except Exception as exc:  # the report shows which scenario broke and why
        results.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"
        log(f"{name} FAILED: {exc}\n{traceback.format_exc()}")


def build_envs() -> None:
    """Create or reuse both virtualenvs, in parallel."""
    jobs = {env.label: ensure(env, LOGS / f"venv-{env.key}.log") for env in ENVS}
    for label, job in jobs.items():
        if job is not None:
            log(f"installing {label} ...")
            if job.wait(timeout=900) != 0:
                raise SystemExit(f"installing {label} failed; see bench/.scratch/logs")


def start_workers(hasher: str, sqlite_sync: str = "full") -> tuple[Worker, Worker]:
    """One in-process worker per package for ``hasher``, each on its own SQLite file."""
    tag = hasher if sqlite_sync == "full" else f"{hasher}-sync-{sqlite_sync}"
    return tuple(  # type: ignore[return-value]
        Worker(
            env,
            hasher,
            SCRATCH / f"{env.key}-{tag}.sqlite3",
            LOGS / f"worker-{env.key}-{tag}.log",
            sqlite_sync=sqlite_sync,
        )
        for env in (MFA, TRENCH)
    )


def in_process(results: dict[str, Any], plan: Any) -> None:
    """Scenarios 1-3 with six workers started at once (seeding runs in parallel)."""
    md5, slow = start_workers("md5"), start_workers("default")
    # The MD5 login again with SQLite's commits not flushed: what durability
    # costs a package that commits at each step, next to one that never writes.
    unflushed = start_workers("md5", sqlite_sync="off")
    try:
        for worker in (*md5, *slow, *unflushed):
            worker.receive(timeout=600)
        guarded(results, "queries", lambda: inprocess.queries(md5))
        guarded(results, "login_md5", lambda: inprocess.login_md5(md5, plan))
        guarded(results, "login_md5_unflushed", lambda: inprocess.login_md5(unflushed, plan))
        guarded(results, "login_default", lambda: inprocess.login_default(slow, plan))
        guarded(results, "backup", lambda: inprocess.backup_codes(slow, plan))
        guarded(results, "passkey", lambda: inprocess.passkey_step2(md5, plan))
    finally:
        for worker in (*md5, *slow, *unflushed):
            worker.close()


def main() -> int:
    """Run everything and write the report; non-zero when a scenario failed."""
    plan = current()
    LOGS.mkdir(parents=True, exist_ok=True)
    build_envs()
    results: dict[str, Any] = {"plan": plan}
    guarded(results, "in_process", lambda: in_process(results, plan))
    guarded(results, "load", lambda: loadtest.run((MFA, TRENCH), plan, SCRATCH, LOGS))
    sqlite_file = SCRATCH / "cleanup.sqlite3"
    sqlite_file.unlink(missing_ok=True)
    guarded(
        results,
        "cleanup",
        lambda: cleanup.run(
            MFA, plan, {"PostgreSQL": "postgres:bench_mfa", "SQLite": f"sqlite:{sqlite_file}"}
        ),
    )
    sqlite_file.unlink(missing_ok=True)  # a few hundred MB of scratch
    results["wall_seconds"] = time.monotonic() - START
    path = write(results, BENCH / "results" / "latest.md")
    log(f"wrote {path.relative_to(BENCH.parent)} in {results['wall_seconds']:.0f} s")
    print(path.read_text())
    return 1 if results.get("errors") else 0


START = time.monotonic()

if __name__ == "__main__":
    sys.exit(main())
