"""Assemble ``bench/results/latest.md`` from the scenario results."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from harness import report, sqlreport
from harness.machine import describe

METHOD = """\
## How it was measured

- Both packages host the same small project (`bench/projects/`): user `alice`
  with the authenticator app (activated first, so primary in both) and email
  methods, 10 backup codes per set, `CONFIRM_DISABLE_WITH_CODE` on, email
  codes valid 300 s, JWT (simplejwt) login views, the same middleware and
  DRF settings. Seeding goes through each package's own REST API.
- In-process figures: Django's test client on a SQLite file, one worker
  process per package and hasher; per round worker A then worker B; a
  round's value is the median of its samples; shown: median (min-max) over
  rounds. Only the requests are timed. Between logins the trench_mfa replay
  guard is reset (untimed), because the same user logs in many times per
  30 s step; django-trench keeps no such state.
- "Ratio" in login tables is trench_mfa logins/s over django-trench logins/s;
  elsewhere trench_mfa's figure over django-trench's (or over the floor).
- gunicorn: 2 sync workers per package on PostgreSQL (persistent
  connections), MD5 hasher, a bounded pool of {threads} client threads on
  127.0.0.1 in the driver process. Each request carries its own ephemeral
  token, issued beforehand with the package's own code (untimed), for its
  own cloned user (every clone has its own method rows, so no TOTP code is
  a replay); the code is the current TOTP step, computed at send time.
  django-trench accepts only the current step, so a request whose step
  ends while it is in flight can get a 401; only 200s count as requests/s.
- The floors (`bench/projects/mfa_site/bench_floor/`) are two bare DRF views
  of the trench_mfa site, so they run in the same gunicorn workers and on
  the same database as trench_mfa's step 2, with the same body and load.
  Read-only floor: one `SELECT` of the challenge row joined with its user
  (`select_related`), then the simplejwt pair. Durable-writes floor: in one
  `atomic()` block the same `SELECT`, a conditional
  `UPDATE ... SET counter = counter + 1, used_at = now WHERE id = %s AND
  used_at IS NULL` (`filter().update()` with `F()`) and one audit `INSERT`,
  then the pair. Neither checks the code. Each round loads trench_mfa,
  django-trench, the read-only floor and the durable-writes floor in turn,
  in the reverse order every other round.
- CPU per request: the user+sys CPU time (`/proc/<pid>/stat`) spent during
  a subject's load, over the requests it answered (any status). App: the
  gunicorn master's worker processes. DB: the PostgreSQL backends that
  `pg_stat_activity` lists for the site's database (`bench_mfa` or
  `bench_trench`; the two workers' persistent connections). Background:
  PostgreSQL's own processes (walwriter, background writer, checkpointer,
  autovacuum), which serve the whole server, so other databases' work can
  show up there. The load generator's own CPU is in none of them. WAL:
  the server's `pg_current_wal_lsn()` advance over the load, per request
  (server-wide too).
- Cleanup: each measurement is a fresh `manage.py` child (both include the
  same Django start-up), wall time and peak RSS from `wait4`; the table is
  refilled before each one; command and raw DELETE alternate.
"""


def _section(results: dict[str, Any], key: str, title: str, body: Any) -> list[str]:
    error = results.get("errors", {}).get(key)
    if error:
        return [f"## {title}", "", f"Not measured: `{error}`", ""]
    if key not in results:
        return []
    return [f"## {title}", "", *body(), ""]


def write(results: dict[str, Any], path: Path) -> Path:
    """Write the report; returns its path."""
    plan = results["plan"]
    targets = report.Targets()
    body: list[str] = []
    body += _section(
        results,
        "login_md5",
        "Full two-step login, in-process (SQLite, JWT)",
        lambda: report.login_section(
            results.get("login_md5") or {},
            results.get("login_default") or {},
            results.get("login_md5_unflushed") or {},
            targets,
        ),
    )
    body += _section(
        results,
        "backup",
        "Login step 2 with backup codes (default hasher)",
        lambda: report.backup_section(results["backup"], targets),
    )
    body += _section(
        results,
        "passkey",
        "Login step 2 with a passkey next to TOTP, in-process (SQLite, MD5 hasher)",
        lambda: report.passkey_section(results["passkey"]),
    )
    body += _section(
        results,
        "queries",
        "SQL queries per request",
        lambda: report.queries_section(results["queries"], targets),
    )
    body += _section(
        results,
        "load",
        f"Step 2 under gunicorn, PostgreSQL, MD5 hasher, next to the floors "
        f"({plan.load_seconds:.0f} s per round, {plan.load_rounds} rounds)",
        lambda: report.load_section(results["load"], targets),
    )
    body += _section(
        results,
        "cleanup",
        "Cleanup of expired one-time codes (trench_mfa only; django-trench has no such command)",
        lambda: report.cleanup_section(results["cleanup"], plan.cleanup_rows, targets),
    )
    head = [
        "# trench_mfa vs django-trench 0.3.1",
        "",
        f"Written by `make bench` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"plan: {plan.name}, wall time {results['wall_seconds']:.0f} s. Figures are "
        "median (min-max over rounds); the packages (and, under gunicorn, the floors) "
        "took turns (A B A B ...; under gunicorn A B C D, D C B A, ...).",
        "",
        *describe(),
        "",
        "## Targets",
        "",
        *targets.table(),
        "",
    ]
    failed = results.get("errors", {})
    if failed:
        head += ["Scenarios that failed: " + ", ".join(f"`{k}`" for k in failed), ""]
    appendix = sqlreport.sql_appendix(results["queries"]) if "queries" in results else []
    text = "\n".join([*head, *body, METHOD.format(threads=plan.load_threads), "", *appendix])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
