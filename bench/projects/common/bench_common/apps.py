"""The shared benchmark app: applies ``BENCH_SQLITE_SYNC`` to every SQLite connection."""

from __future__ import annotations

import os
from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _no_flush(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``PRAGMA synchronous = OFF``: commits reach the OS but are not flushed to disk.

    A diagnostic only (``BENCH_SQLITE_SYNC=off``): the same login without the
    cost of making its commits durable. Never a setting to deploy.
    """
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = OFF")


class BenchCommonConfig(AppConfig):
    """Connects :func:`_no_flush` when ``BENCH_SQLITE_SYNC`` is ``off``."""

    name = "bench_common"

    def ready(self) -> None:
        """Works on every Django version both sites run (no ``init_command`` needed)."""
        if os.environ.get("BENCH_SQLITE_SYNC", "full") == "off":
            connection_created.connect(_no_flush, dispatch_uid="bench_common.no_flush")
