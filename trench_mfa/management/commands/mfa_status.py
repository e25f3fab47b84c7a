"""``manage.py mfa_status <username>``: a user's MFA state, for support staff."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from trench_mfa.management.commands._users import get_user_or_fail
from trench_mfa.models import MFAMethod
from trench_mfa.services.backup_codes import remaining_backup_codes


class Command(BaseCommand):
    """Print methods, primary, backup codes left and lock state (never a secret)."""

    help = "Show the MFA methods, primary method, backup codes left and lock state of a user."

    def add_arguments(self, parser: CommandParser) -> None:
        """The username."""
        parser.add_argument("username", help="Value of the user model's USERNAME_FIELD.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Look the user up and print one line per method."""
        user = get_user_or_fail(options["username"])
        methods = list(MFAMethod.objects.for_user(user).order_by("-is_primary", "name"))
        active = [m for m in methods if m.is_active]
        self.stdout.write(f"User: {options['username']} (MFA {'on' if active else 'off'})")
        now = timezone.now()
        for method in methods:
            if method.is_active:
                state = "active"
            elif method.activation_started_at is not None:
                state = "pending"
            else:
                # Only carries codes of identifier verification and passcode
                # logins (see trench_mfa.services.identifiers): not MFA.
                state = "channel only"
            flags = [state]
            if method.is_primary:
                flags.append("primary")
            if method.locked_until and method.locked_until > now:
                flags.append(f"locked until {method.locked_until.isoformat()}")
            if method.failure_count:
                flags.append(f"{method.failure_count} consecutive failures")
            self.stdout.write(f"  {method.name}: {', '.join(flags)}")
        self.stdout.write(f"Backup codes left: {remaining_backup_codes(user.pk)}")
