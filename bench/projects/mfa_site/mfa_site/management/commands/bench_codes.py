"""``manage.py bench_codes fill|raw_delete``: the cleanup scenario's set-up and floor.

``fill --rows N`` empties the code and challenge tables and inserts N
one-time codes that expired ten days ago, in one statement
(``generate_series`` on PostgreSQL, a recursive CTE on SQLite), then
refreshes the planner statistics. ``raw_delete`` is the floor the cleanup
command is compared with: one plain SQL ``DELETE`` of the same rows, with
the same condition the command uses (expired or used more than 7 days ago).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from trench_mfa.models import LoginChallenge, MFAMethod, OneTimeCode

MAX_ROWS = 5_000_000


def _method_id() -> int:
    method = MFAMethod.objects.order_by("pk").first()
    if method is None:
        user = get_user_model().objects.create_user("cleanup-owner", "owner@example.com")
        method = MFAMethod.objects.create(user=user, name="email", is_active=True)
    return method.pk


def fill(rows: int) -> None:
    """Replace the table's content with ``rows`` long-expired codes."""
    table = OneTimeCode._meta.db_table
    method_id = _method_id()
    expired = timezone.now() - timedelta(days=10)
    pg = connection.vendor == "postgresql"
    challenges = LoginChallenge._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if pg:
            cursor.execute(f"TRUNCATE {table}, {challenges}")
            # Set-up only: skip the per-row foreign-key trigger (one method id,
            # known to exist) so a million rows go in within seconds.
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if cursor.fetchone()[0]:
                cursor.execute("SET LOCAL session_replication_role = replica")
        else:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - model metadata, not input
            cursor.execute(f"DELETE FROM {challenges}")  # noqa: S608
        series = (
            "generate_series(1, %s) AS s(i)"
            if pg
            else "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %s)"
            " SELECT i FROM s) AS s"
        )
        digest = "lpad(i::text, 64, '0')" if pg else "printf('%%064d', i)"
        cursor.execute(
            f"INSERT INTO {table} (method_id, purpose, challenge_id, code_hash, attempts,"  # noqa: S608
            f" created_at, expires_at, consumed_at) SELECT %s, 'login', NULL, {digest}, 0,"
            f" %s, %s, NULL FROM {series}",
            [method_id, expired - timedelta(minutes=5), expired, rows],
        )
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}" if pg else "VACUUM")
        if not pg:
            cursor.execute("ANALYZE")


def raw_delete(days: int = 7) -> int:
    """One SQL DELETE with the cleanup command's condition; the row count."""
    table = OneTimeCode._meta.db_table
    cutoff = timezone.now() - timedelta(days=days)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE expires_at < %s OR consumed_at < %s",  # noqa: S608
            [cutoff, cutoff],
        )
        return int(cursor.rowcount)


class Command(BaseCommand):
    """Fill the code table, or delete its old rows with plain SQL."""

    help = "fill --rows N: insert N expired codes; raw_delete: the SQL floor."

    def add_arguments(self, parser: CommandParser) -> None:
        """``action`` and ``--rows``."""
        parser.add_argument("action", choices=["fill", "raw_delete"])
        parser.add_argument("--rows", type=int, default=1_000_000)

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the chosen action."""
        if options["action"] == "fill":
            fill(max(1, min(options["rows"], MAX_ROWS)))
            self.stdout.write(f"filled {OneTimeCode.objects.count()} codes")
        else:
            self.stdout.write(f"deleted {raw_delete()} codes")
