"""Database sessions of the app servers, seen and ended from the test.

A test holds a row lock in a session of its own (:class:`RowLock`), sends a
request that needs the row, finds the server's session waiting for that lock
(:func:`blocked_session`: PostgreSQL's ``pg_blocking_pids``) and ends it
(:func:`terminate`), as a database failover or an administrator would. Only
sessions of the test database, of the named server, blocked by the test's
own session are ever touched.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

import psycopg
from django.db import connection
from django.db.models import Model
from psycopg import sql

#: Bound of the wait for the server's session to block on the lock.
BLOCK_TIMEOUT = 30.0
#: Pause between two looks at ``pg_stat_activity`` (bounded by BLOCK_TIMEOUT).
PROBE_INTERVAL = 0.02


class RowLock:
    """``SELECT ... FOR UPDATE`` of one row, held in the test's own session until exit."""

    def __init__(self, row: Model) -> None:
        self.table = row._meta.db_table
        self.pk = row.pk
        self.pid = 0
        self._session: psycopg.Connection[Any] | None = None

    def __enter__(self) -> RowLock:
        db = connection.settings_dict
        session = psycopg.connect(
            dbname=db["NAME"],
            user=db["USER"] or None,
            password=db["PASSWORD"] or None,
            host=db["HOST"] or None,
            port=db["PORT"] or None,
        )
        query = sql.SQL("SELECT 1 FROM {} WHERE id = %s FOR UPDATE").format(
            sql.Identifier(self.table)
        )
        assert session.execute(query, [self.pk]).fetchone() is not None, "no such row"
        self.pid = session.info.backend_pid
        self._session = session
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._session is not None
        self._session.rollback()
        self._session.close()


def blocked_session(server: str, holder: int) -> tuple[int, str]:
    """``server``'s session in the test database that ``holder`` blocks: (pid, its statement)."""
    deadline = time.monotonic() + BLOCK_TIMEOUT
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT pid, query FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = %s"
                " AND %s = ANY(pg_blocking_pids(pid))",
                [server, holder],
            )
            rows = cursor.fetchall()
            if rows:
                assert len(rows) == 1, rows
                return int(rows[0][0]), str(rows[0][1])
            time.sleep(PROBE_INTERVAL)  # bounded polling for the request to arrive
    raise AssertionError(f"no session of {server} waited for the lock within {BLOCK_TIMEOUT} s")


def terminate(pid: int) -> None:
    """End one session of the test database (``pg_terminate_backend``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE pid = %s AND datname = current_database()",
            [pid],
        )
        assert cursor.fetchone() == (True,), f"session {pid} was not ended"
