"""The Markdown report: figures side by side, ratios, and targets met or missed."""

from __future__ import annotations

import math
from typing import Any

from harness.sqlreport import LOGIN_STEPS
from harness.sqlreport import count as _count
from harness.stats import Figure

A, B = "mfa", "trench"


def ms(fig: Figure) -> str:
    """``12.3 ms (11.9-13.0)``: median (min-max over rounds)."""
    digits = 2 if fig.median < 10 else 1 if fig.median < 1000 else 0
    return f"{fig.median:.{digits}f} ms ({fig.low:.{digits}f}-{fig.high:.{digits}f})"


def per_s(fig_ms: Figure) -> str:
    """The same figure as operations per second."""
    rate = fig_ms.inverse(1000.0)
    digits = 2 if rate.median < 10 else 0
    return f"{rate.median:.{digits}f}/s ({rate.low:.{digits}f}-{rate.high:.{digits}f})"


def plain(fig: Figure, unit: str, digits: int = 1) -> str:
    """A figure with a unit."""
    return f"{fig.median:.{digits}f} {unit} ({fig.low:.{digits}f}-{fig.high:.{digits}f})"


def ratio(x: float, y: float) -> str:
    """``x / y`` as ``1.23x``."""
    if not y or math.isnan(x) or math.isnan(y):
        return "n/a"
    value = x / y
    # Tiny ratios (a few ms against seconds) keep two significant digits.
    return f"{value:.2g}x" if value < 0.01 else f"{value:.2f}x"


class Targets:
    """Collects the target rows while the sections are written."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, bool | None]] = []

    def add(self, target: str, measured: str, met: bool | None) -> None:
        """One target; ``met`` None means not measured."""
        self.rows.append((target, measured, met))

    def table(self) -> list[str]:
        """The Markdown table of targets."""
        lines = ["| target | measured | result |", "|---|---|---|"]
        for target, measured, met in self.rows:
            verdict = "not measured" if met is None else "**met**" if met else "**MISSED**"
            lines.append(f"| {target} | {measured} | {verdict} |")
        return lines


def login_section(
    md5: dict[str, Any], slow: dict[str, Any], unflushed: dict[str, Any], targets: Targets
) -> list[str]:
    """Scenario 1: full login and the password check, both hashers.

    ``unflushed``: the MD5 login again on SQLite with ``synchronous=OFF`` (a
    diagnostic: what flushing each commit to disk costs).
    """
    lines = ["| figure | trench_mfa | django-trench 0.3.1 | logins/s ratio |", "|---|---|---|---|"]
    for label, data in (("MD5 hasher", md5), ("default hasher", slow)):
        if not data:
            continue
        login, password = data["login"], data["password"]
        lines.append(
            f"| full login, {label} | {ms(login[A])}<br>{per_s(login[A])} | "
            f"{ms(login[B])}<br>{per_s(login[B])} | "
            f"{ratio(login[B].median, login[A].median)} |"
        )
        lines.append(
            f"| plain password check (`authenticate()`), {label} | {ms(password[A])} | "
            f"{ms(password[B])} | - |"
        )
        own = data["own_ratio"]
        lines.append(
            f"| full login / password check (per round), {label} | "
            f"{plain(own[A], 'x', 2)} | {plain(own[B], 'x', 2)} | - |"
        )
    if unflushed:
        login = unflushed["login"]
        lines.append(
            "| full login, MD5 hasher, SQLite commits not flushed (`synchronous=OFF`, "
            f"diagnostic) | {ms(login[A])}<br>{per_s(login[A])} | "
            f"{ms(login[B])}<br>{per_s(login[B])} | "
            f"{ratio(login[B].median, login[A].median)} |"
        )
    if slow:
        login = slow["login"]
        own = slow["own_ratio"][A].median
        targets.add(
            "default hasher: full login ≤ 1.2x a plain password check", f"{own:.2f}x", own <= 1.2
        )
        speed = login[B].median / login[A].median
        targets.add("default hasher: ≥ 5x django-trench logins/s", f"{speed:.1f}x", speed >= 5)
    if md5:
        speed = md5["login"][B].median / md5["login"][A].median
        measured = f"{speed:.2f}x"
        if unflushed:
            bare = unflushed["login"][B].median / unflushed["login"][A].median
            measured += f" (commits not flushed: {bare:.2f}x)"
        targets.add("MD5 hasher: full login ≥ 0.6x django-trench logins/s", measured, speed >= 0.6)
    return lines


def backup_section(data: dict[str, Any], targets: Targets) -> list[str]:
    """Scenario 3: step 2 with backup codes, default hasher."""
    lines = [
        "| figure (default hasher) | trench_mfa | django-trench 0.3.1 | ratio |",
        "|---|---|---|---|",
    ]
    for key, label in (
        ("backup_wrong", "step 2, wrong backup code"),
        ("backup_right", "step 2, right backup code"),
    ):
        fig = data[key]
        lines.append(
            f"| {label} | {ms(fig[A])} | {ms(fig[B])} | {ratio(fig[A].median, fig[B].median)} |"
        )
    wrong = data["backup_wrong"][A].median
    targets.add(
        "wrong backup code at step 2 ≤ 5 ms median (in-process)", f"{wrong:.2f} ms", wrong <= 5
    )
    return lines


def passkey_section(data: dict[str, Any]) -> list[str]:
    """trench_mfa's step 2 with a passkey next to TOTP (in-process, MD5 hasher)."""
    totp, passkey = data["step2_totp"], data["step2_passkey"]
    return [
        "Step 2 only (step 1 and the passkey's options untimed), trench_mfa only: "
        "django-trench has no WebAuthn.",
        "",
        "| figure (MD5 hasher) | trench_mfa | over TOTP |",
        "|---|---|---|",
        f"| step 2, TOTP code | {ms(totp)}<br>{per_s(totp)} | 1.00x |",
        f"| step 2, passkey (ES256 assertion) | {ms(passkey)}<br>{per_s(passkey)} | "
        f"{ratio(passkey.median, totp.median)} |",
    ]


def queries_section(rows: dict[str, list[dict[str, Any]]], targets: Targets) -> list[str]:
    """Scenario 2: queries per request, with each answer's status."""
    theirs = {r["endpoint"]: r for r in rows[B]}
    lines = [
        "Statements per request (status); `+N tx` = BEGIN/COMMIT markers that Django "
        "logs around `atomic()` blocks, counted apart.",
        "",
        "| endpoint | trench_mfa | django-trench 0.3.1 |",
        "|---|---|---|",
    ]
    worst, markers = 0, 0
    for row in rows[A]:
        other = theirs.get(row["endpoint"])
        other_text = _count(other) if other else "-"
        lines.append(f"| {row['endpoint']} | {_count(row)} | {other_text} |")
        if row["endpoint"] in LOGIN_STEPS:
            worst = max(worst, row["queries"])
            markers = max(markers, row.get("transaction_markers", 0))
    targets.add(
        "≤ 4 SQL statements per login step (JWT steps 1 and 2) plus one BEGIN/COMMIT pair",
        f"at most {worst} statements and {markers} transaction markers",
        worst <= 4 and markers <= 2,
    )
    return lines


#: Scenario 4's subjects, in the order of the table's columns.
LOAD_COLUMNS = (
    (A, "trench_mfa"),
    (B, "django-trench 0.3.1"),
    ("floor_read", "read-only floor"),
    ("floor_write", "durable-writes floor"),
)
_LOAD_ROWS = (
    ("rps", "step 2 requests/s (200 only)"),
    ("p50", "p50 latency"),
    ("p99", "p99 latency"),
    ("app_cpu", "app CPU per request (gunicorn workers)"),
    ("db_cpu", "DB CPU per request (the database's PostgreSQL backends)"),
    ("bg_cpu", "PostgreSQL background processes' CPU per request (server-wide)"),
    ("wal", "WAL written per request (server-wide)"),
)
_LOAD_UNITS = {"rps": "req/s", "wal": "B"}


def _load_cell(metric: str, fig: Figure) -> str:
    unit = _LOAD_UNITS.get(metric)
    return plain(fig, unit, 0) if unit else ms(fig)


def _load_ratio(metric: str, mine: dict[str, Any], other: dict[str, Any]) -> str:
    """trench_mfa's median over the other's; WAL only against a subject that writes."""
    if metric == "wal" and other[metric].median < 1:
        # Under one byte per request is other databases' WAL, not this subject's.
        return "- (writes none)"
    return ratio(mine[metric].median, other[metric].median)


def load_section(data: dict[str, Any], targets: Targets) -> list[str]:
    """Scenario 4: gunicorn on PostgreSQL, both packages and the two floors."""
    columns = [(key, label) for key, label in LOAD_COLUMNS if key in data]
    a = data[A]
    lines = [
        "| figure | " + " | ".join(label for _, label in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for metric, label in _LOAD_ROWS:
        cells = " | ".join(_load_cell(metric, data[key][metric]) for key, _ in columns)
        lines.append(f"| {label} | {cells} |")
    others = columns[1:]
    lines += [
        "",
        "trench_mfa's figure over the other's (requests/s: higher is better; "
        "latency and CPU: lower is better):",
        "",
        "| trench_mfa over | " + " | ".join(label for _, label in others) + " |",
        "|---|" + "---|" * len(others),
    ]
    for metric, label in _LOAD_ROWS:
        if metric == "bg_cpu":  # mostly zero ticks: a ratio would mislead
            continue
        cells = " | ".join(_load_ratio(metric, a, data[key]) for key, _ in others)
        lines.append(f"| {label} | {cells} |")
    lines += ["", "| subject | statuses per round | connection errors | tokens ran out |"]
    lines.append("|---|---|---|---|")
    for key, label in columns:
        rounds = data[key]["rounds"]
        lines.append(
            f"| {label} | {[r['statuses'] for r in rounds]} | "
            f"{sum(r['errors'] for r in rounds)} | {any(r['exhausted'] for r in rounds)} |"
        )
    if "floor_write" in data:
        floor = data["floor_write"]
        speed = a["rps"].median / floor["rps"].median
        tail = a["p99"].median / floor["p99"].median
        targets.add(
            "gunicorn step 2 (PostgreSQL, MD5): ≥ 0.95x the durable-writes floor's req/s, "
            "p99 ≤ 1.2x the floor's",
            f"{speed:.2f}x req/s, p99 {tail:.2f}x ({a['p99'].median:.1f} vs "
            f"{floor['p99'].median:.1f} ms)",
            speed >= 0.95 and tail <= 1.2,
        )
    speed = a["rps"].median / data[B]["rps"].median
    targets.add(
        "gunicorn step 2 (PostgreSQL, MD5): ≥ 0.7x django-trench req/s",
        f"{speed:.2f}x",
        speed >= 0.7,
    )
    return lines


def cleanup_section(data: dict[str, Any], rows: int, targets: Targets) -> list[str]:
    """Scenario 5: the cleanup command next to the raw DELETE."""
    lines = [
        f"| database ({rows:,} expired codes) | `cleanup_otp_codes` | raw SQL DELETE "
        "(floor) | ratio |",
        "|---|---|---|---|",
    ]
    for label, figs in data.items():
        cmd, raw = figs["command"], figs["raw"]
        lines.append(
            f"| {label}: seconds | {plain(cmd['seconds'], 's', 2)} | "
            f"{plain(raw['seconds'], 's', 2)} | "
            f"{ratio(cmd['seconds'].median, raw['seconds'].median)} |"
        )
        lines.append(
            f"| {label}: peak RSS | {plain(cmd['rss_mb'], 'MB', 0)} | "
            f"{plain(raw['rss_mb'], 'MB', 0)} | - |"
        )
        speed = cmd["seconds"].median / raw["seconds"].median
        peak = cmd["rss_mb"].high
        targets.add(
            f"cleanup on {label}: ≤ 1.5x raw DELETE, peak RSS < 150 MB",
            f"{speed:.2f}x, {peak:.0f} MB",
            speed <= 1.5 and peak < 150,
        )
    return lines
