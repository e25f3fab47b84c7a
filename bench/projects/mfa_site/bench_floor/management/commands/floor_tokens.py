"""``manage.py floor_tokens --count N --out FILE``: fresh challenges for the floors.

Creates N unused :class:`~bench_floor.models.FloorChallenge` rows, each with
a random key, for the cloned users in turn (set-up, never timed), and writes
one key per line: the ``ephemeral_token`` the load generator posts.
"""

from __future__ import annotations

import secrets
from itertools import cycle, islice
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from bench_floor.models import FloorChallenge

MAX_COUNT = 200_000


class Command(BaseCommand):
    """Write N fresh floor tokens to a file."""

    help = "Create N unused floor challenges and write their keys."

    def add_arguments(self, parser: CommandParser) -> None:
        """``--count`` and ``--out``."""
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--out", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        """Create the rows in one transaction, then write the keys."""
        count = max(1, min(options["count"], MAX_COUNT))
        users = list(
            get_user_model()
            .objects.filter(username__startswith="u")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not users:
            raise CommandError("no cloned users: run bench_seed --clones N first")
        rows = [
            FloorChallenge(key=secrets.token_urlsafe(32), user_id=pk)
            for pk in islice(cycle(users), count)
        ]
        with transaction.atomic():
            FloorChallenge.objects.bulk_create(rows, batch_size=5000)
        Path(options["out"]).write_text("\n".join(r.key for r in rows) + "\n")
        self.stdout.write(f"{len(rows)} tokens")
