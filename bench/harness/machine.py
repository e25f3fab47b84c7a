"""What the report says about the machine and the installed versions."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from harness.envs import ENVS, MFA, versions


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or the platform's guess)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def postgres_version() -> str:
    """The server version, asked through the trench_mfa venv's psycopg."""
    code = (
        "import os, psycopg\n"
        "h, _, p = os.environ.get('BENCH_PG', '127.0.0.1:5432').partition(':')\n"
        "u = os.environ.get('BENCH_PG_USER', 'postgres')\n"
        "with psycopg.connect(host=h, port=p or '5432', user=u, dbname='postgres') as c:\n"
        "    print(c.execute('SHOW server_version').fetchone()[0])"
    )
    try:
        result = subprocess.run(  # noqa: S603 - our own argv
            [str(MFA.python), "-c", code], capture_output=True, text=True, timeout=30, check=True
        )
        return result.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unavailable"


def describe() -> list[str]:
    """Markdown lines: machine, then one line per environment."""
    lines = [
        f"- Machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}; PostgreSQL {postgres_version()} on 127.0.0.1.",
    ]
    for env in ENVS:
        info = versions(env)
        package = info.get("trench-mfa") or info.get("django-trench") or "?"
        lines.append(
            f"- {env.label}: package {package}, Python {info['python']}, "
            f"Django {info.get('django', '?')}, DRF {info.get('djangorestframework', '?')}, "
            f"simplejwt {info.get('djangorestframework-simplejwt', '?')}, "
            f"pyotp {info.get('pyotp', '?')}, gunicorn {info.get('gunicorn', '?')}, "
            f"psycopg {info.get('psycopg', '?')}."
        )
    return lines
