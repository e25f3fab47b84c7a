"""``manage.py rotate_mfa_keys``: re-encrypt every stored secret with the newest key.

The encrypted columns of ``MFAMethod``: ``secret`` (TOTP seeds, bound
YubiKey ids) and ``destination`` (the address or number an email or SMS
method is bound to).

Rotation procedure: put the new key first in ``TRENCH_AUTH["ENCRYPTION_KEYS"]``
(keep the old ones after it), deploy, run this command, then remove the old
keys. Until the command has run, rows under an old key keep working.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from trench_mfa.management.commands._base import MFACommand
from trench_mfa.models import MFAMethod
from trench_mfa.state.secrets_at_rest import SecretDecryptionError, rotate_secret

#: The columns of ``MFAMethod`` that hold Fernet tokens.
ENCRYPTED_FIELDS = ("secret", "destination")


class Command(MFACommand):
    """Re-encrypt the secrets of all MFA methods, one batch per transaction."""

    help = gettext_noop(
        "Re-encrypt every stored MFA secret with the newest key of "
        "TRENCH_AUTH['ENCRYPTION_KEYS'] (or the key derived from SECRET_KEY)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """``--batch-size``."""
        parser.add_argument(
            "--batch-size", type=int, default=500, help=_("Rows re-encrypted per transaction.")
        )

    @staticmethod
    def _rotate_batch(field: str, rows: list[tuple[int, str]]) -> tuple[int, int, list[int]]:
        """Re-encrypt ``field`` of one batch: (rotated, changed meanwhile, ids that failed)."""
        rotated = changed = 0
        failed: list[int] = []
        with transaction.atomic():
            for pk, token in rows:
                try:
                    new_token = rotate_secret(token)
                except SecretDecryptionError:
                    failed.append(pk)
                    continue
                # Conditional on the old value: a secret replaced meanwhile (a
                # re-activation) was written with the newest key already and
                # must not be overwritten with the stale one.
                if MFAMethod.objects.filter(pk=pk, **{field: token}).update(**{field: new_token}):
                    rotated += 1
                else:
                    changed += 1
        return rotated, changed, failed

    def handle(self, *args: Any, **options: Any) -> None:
        """Walk the table by primary key and print a summary."""
        batch_size = options["batch_size"]
        if batch_size < 1:
            raise CommandError(_("--batch-size must be >= 1."))
        rotated = changed = batches = 0
        failed_ids: list[int] = []
        for field in ENCRYPTED_FIELDS:
            last_pk = 0
            while True:
                rows = list(
                    MFAMethod.objects.exclude(**{field: ""})
                    .filter(pk__gt=last_pk)
                    .order_by("pk")
                    .values_list("pk", field)[:batch_size]
                )
                if not rows:
                    break
                batches += 1
                last_pk = rows[-1][0]
                done, skipped, failed = self._rotate_batch(field, rows)
                rotated += done
                changed += skipped
                failed_ids.extend(failed)
        n_failed = len(failed_ids)
        self.stdout.write(
            _(
                "Re-encrypted %(rotated)d MFA secrets in %(batches)d batches; "
                "%(changed)d changed meanwhile (left as they are); "
                "%(failed)d could not be decrypted."
            )
            % {"rotated": rotated, "batches": batches, "changed": changed, "failed": n_failed}
        )
        if n_failed:
            # A method whose secret and destination both failed is named once.
            failed_ids = sorted(set(failed_ids))
            shown = ", ".join(str(pk) for pk in failed_ids[:20])
            raise CommandError(
                _(
                    "%(failed)d secrets could not be decrypted with any configured key "
                    "(MFA method ids: %(ids)s). Add the key they were written with to "
                    "TRENCH_AUTH['ENCRYPTION_KEYS'] and run the command again."
                )
                % {"failed": n_failed, "ids": shown + (", ..." if len(failed_ids) > 20 else "")}
            )
