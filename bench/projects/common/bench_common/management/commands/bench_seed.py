"""``manage.py bench_seed --clones N``: schema, the seeded user, and N clones.

The seeded user is made through the API (same as the in-process worker). The
clones are bulk copies of that user (same password hash, same methods and
backup codes, each with its own method rows), so each load-test request can
use a user whose TOTP step has not been used yet. All methods share one
TOTP secret: the replay guard is per method row, so that is fair and lets
the load generator compute one code per 30 s step.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from bench_common.flows import EMAIL, adapter, seed_user

MAX_CLONES = 100_000


class Command(BaseCommand):
    """Migrate, seed, clone; print the seed as JSON."""

    help = "Create the schema, the seeded user and N cloned users."

    def add_arguments(self, parser: CommandParser) -> None:
        """``--clones``: how many extra users."""
        parser.add_argument("--clones", type=int, default=0)

    def handle(self, *args: Any, **options: Any) -> None:
        """Print ``{"secret", "backup_codes", "users"}``."""
        clones = max(0, min(options["clones"], MAX_CLONES))
        call_command("migrate", verbosity=0, interactive=False)
        seed = seed_user()
        user_model = get_user_model()
        template = user_model.objects.get(username=seed.username)
        with transaction.atomic():
            users = user_model.objects.bulk_create(
                [
                    user_model(username=f"u{i:06d}", email=EMAIL, password=template.password)
                    for i in range(clones)
                ],
                batch_size=2000,
            )
            for model in adapter().CLONE_MODELS:
                rows = list(model.objects.filter(user=template))
                copies = []
                for user in users:
                    for row in rows:
                        clone = copy.copy(row)
                        clone.pk = None
                        clone._state.adding = True
                        clone.user_id = user.pk
                        copies.append(clone)
                model.objects.bulk_create(copies, batch_size=2000)
        self.stdout.write(json.dumps({"secret": seed.secret, "users": clones + 1}))
