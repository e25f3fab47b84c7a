"""``manage.py bench_worker``: a long-lived in-process benchmark worker.

It makes a fresh SQLite (or PostgreSQL) schema, seeds the user through the
API, then answers one JSON command per line on stdin with one line
``BENCH <json>`` on stdout, so the driver can alternate the two packages
operation by operation. Commands: ``{"op": "login"|"password"|"backup_wrong"|
"backup_right", "n": int, "budget": seconds}`` (and the site adapter's
``EXTRA_OPS``: trench_mfa's ``step2_totp`` and ``step2_passkey``), ``{"op": "queries"}``,
``{"op": "quit"}``. Reading stops at end of input.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any

from django.core.management.base import BaseCommand

from bench_common import scenarios
from bench_common.flows import adapter, fresh_site
from bench_common.queries import endpoint_queries

OPS: dict[str, scenarios.Op] = {
    "login": scenarios.full_login,
    "password": scenarios.password_check,
    "backup_wrong": scenarios.backup_wrong,
    "backup_right": scenarios.backup_right,
}
#: Hard caps, whatever the driver asks for.
MAX_N = 10_000
MAX_BUDGET = 120.0


def _reply(payload: dict[str, Any]) -> None:
    sys.stdout.write("BENCH " + json.dumps(payload) + "\n")
    sys.stdout.flush()


class Command(BaseCommand):
    """Serve benchmark operations over stdin/stdout."""

    help = "Serve in-process benchmark operations (driven by bench/run.py)."

    def handle(self, *args: Any, **options: Any) -> None:
        """Create the schema, seed, then serve commands until quit or EOF."""
        seed, api = fresh_site()
        # A package's own operations (trench_mfa: step 2 with a passkey).
        ops = {**OPS, **getattr(adapter(), "EXTRA_OPS", {})}
        _reply({"ready": True})
        for line in sys.stdin:
            request = json.loads(line)
            op = request.get("op")
            if op == "quit":
                break
            try:
                if op == "queries":
                    _reply({"rows": endpoint_queries(seed)})
                    continue
                n = max(1, min(int(request.get("n", 1)), MAX_N))
                budget = min(float(request.get("budget", 10.0)), MAX_BUDGET)
                _reply(ops[op](api, seed, n, budget))
            except Exception as exc:  # reported to the driver, which stops the run
                _reply({"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()})
