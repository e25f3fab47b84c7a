"""``manage.py bench_pgdb``: drop and re-create the site's PostgreSQL database."""

from __future__ import annotations

from typing import Any

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    """Start the load test and the cleanup scenario from an empty database."""

    help = "Drop and create the PostgreSQL database named in BENCH_DB."

    def handle(self, *args: Any, **options: Any) -> None:
        """Connect to the ``postgres`` maintenance database and re-create ours."""
        db = settings.DATABASES["default"]
        if "postgresql" not in db["ENGINE"]:
            raise CommandError("BENCH_DB is not postgres:<name>")
        name = db["NAME"]
        if not name.replace("_", "").isalnum():
            raise CommandError(f"refusing database name {name!r}")
        with psycopg.connect(
            host=db["HOST"], port=db["PORT"], user=db["USER"], dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
