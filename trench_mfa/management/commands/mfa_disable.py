"""``manage.py mfa_disable <username> [--method NAME]``: support-staff switch-off."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from trench_mfa.management.commands._users import get_user_or_fail
from trench_mfa.services.admin import disable_methods


class Command(BaseCommand):
    """Deactivate one method, or all of a user's methods (MFA off)."""

    help = (
        "Deactivate a user's MFA methods (all, or one with --method). Turning the last "
        "method off also deletes the user's backup codes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """The username and an optional method name."""
        parser.add_argument("username", help="Value of the user model's USERNAME_FIELD.")
        parser.add_argument("--method", help="Only this method (default: all methods).")

    def handle(self, *args: Any, **options: Any) -> None:
        """Deactivate and report what changed."""
        user = get_user_or_fail(options["username"])
        name = options.get("method")
        changed = disable_methods(user, name)
        if name and not changed:
            raise CommandError(f"User {options['username']!r} has no active method {name!r}.")
        what = f"method {name!r}" if name else f"{len(changed)} method(s)"
        self.stdout.write(f"Deactivated {what} of {options['username']}.")
