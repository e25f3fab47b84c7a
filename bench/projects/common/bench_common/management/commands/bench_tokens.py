"""``manage.py bench_tokens --count N --out FILE``: ephemeral tokens for the load test.

Resets the per-method state (untimed), then writes one token per line for
the first N cloned users, issued with the package's own step-1 code path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from bench_common.flows import adapter


class Command(BaseCommand):
    """Write N fresh tokens to a file."""

    help = "Issue one ephemeral login token per cloned user."

    def add_arguments(self, parser: CommandParser) -> None:
        """``--count`` and ``--out``."""
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--out", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        """Reset state, issue tokens, write them."""
        adapter().reset_state()
        users = get_user_model().objects.filter(username__startswith="u").order_by("pk")
        with transaction.atomic():
            tokens = adapter().issue_tokens(users[: max(1, options["count"])])
        Path(options["out"]).write_text("\n".join(tokens) + "\n")
        self.stdout.write(f"{len(tokens)} tokens")
