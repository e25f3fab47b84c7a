"""The SQL part of the report: statement counts and the login steps' SQL."""

from __future__ import annotations

import re
from typing import Any

#: The same endpoint labels as ``bench_common.queries`` writes.
LOGIN_STEPS = (
    "login step 1 (JWT)",
    "login step 2, TOTP (JWT)",
    "login step 2, wrong TOTP",
    "login step 2, right backup code",
    "login step 2, wrong backup code",
)
_LITERAL = re.compile(r"'[^']*'")
A, B = "mfa", "trench"


def count(row: dict[str, Any]) -> str:
    """``5 +2 tx (200)``: statements, transaction markers, status."""
    markers = row.get("transaction_markers", 0)
    extra = f" +{markers} tx" if markers else ""
    return f"{row['queries']}{extra} ({row['status']})"


def sql_appendix(rows: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The SQL of each login step, per package, folded."""
    lines: list[str] = []
    for key, label in ((A, "trench_mfa"), (B, "django-trench 0.3.1")):
        lines += ["<details>", f"<summary>SQL of the login steps: {label}</summary>", ""]
        for row in rows[key]:
            if row["endpoint"] in LOGIN_STEPS:
                lines += [f"{row['endpoint']} ({row['status']}):", "", "```sql"]
                for query in row["sql"]:
                    # Literals (hashes, token digests, timestamps) are masked:
                    # the shape of each statement is what matters here.
                    query = _LITERAL.sub("'?'", query)
                    lines.append(query if len(query) <= 400 else query[:400] + " ...")
                lines += ["```", ""]
        lines += ["</details>", ""]
    return lines
