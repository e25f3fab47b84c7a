#!/usr/bin/env python3
"""``make bench-profile``: pyinstrument call trees of both packages' logins.

Uses the virtualenvs of ``make bench`` (built when missing) and writes
``bench/results/profile-<package>.txt``: N full two-step logins and N wrong
backup codes at step 2, MD5 hasher, SQLite, the same site as the
benchmark. ``BENCH_PROFILE_LOGINS`` sets N (default 300). Standard library
only.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.envs import BENCH, ENVS, ensure

SCRATCH = BENCH / ".scratch"


def main() -> int:
    """Build the envs if needed, then profile each package in turn."""
    logs = SCRATCH / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for env in ENVS:
        job = ensure(env, logs / f"venv-{env.key}.log")
        if job is not None and job.wait(timeout=900) != 0:
            raise SystemExit(f"installing {env.label} failed; see bench/.scratch/logs")
    logins = os.environ.get("BENCH_PROFILE_LOGINS", "300")
    for env in ENVS:
        out = BENCH / "results" / f"profile-{env.key}.txt"
        environ = {
            **os.environ,
            "BENCH_DB": f"sqlite:{SCRATCH / f'profile-{env.key}.sqlite3'}",
            "BENCH_HASHER": "md5",
        }
        print(f"profiling {env.label} ...", file=sys.stderr, flush=True)
        subprocess.run(  # noqa: S603 - our own argv
            [*env.manage, "bench_profile", "--logins", logins, "--out", str(out)],
            env=environ,
            check=True,
            timeout=1200,
            stderr=(logs / f"profile-{env.key}.log").open("wb"),
        )
        print(f"wrote {out.relative_to(BENCH.parent)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
