"""``manage.py mfa_disable <username> [--method NAME]``: support-staff switch-off."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from trench_mfa.management.commands._base import MFACommand
from trench_mfa.management.commands._users import get_user_or_fail
from trench_mfa.services.admin import disable_methods


class Command(MFACommand):
    """Deactivate one method, or all of a user's methods (MFA off)."""

    help = gettext_noop(
        "Deactivate a user's MFA methods (all, or one with --method). Turning the last "
        "method off also deletes the user's backup codes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """The username and an optional method name."""
        parser.add_argument("username", help=_("Value of the user model's USERNAME_FIELD."))
        parser.add_argument("--method", help=_("Only this method (default: all methods)."))

    def handle(self, *args: Any, **options: Any) -> None:
        """Deactivate and report what changed."""
        username = options["username"]
        user = get_user_or_fail(username)
        name = options.get("method")
        changed = disable_methods(user, name)
        if name and not changed:
            raise CommandError(
                _("User %(username)s has no active method %(method)s.")
                % {"username": repr(username), "method": repr(name)}
            )
        if name:
            done = _("Deactivated method %(method)s of %(username)s.") % {
                "method": repr(name),
                "username": username,
            }
        else:
            done = _("Deactivated %(count)d method(s) of %(username)s.") % {
                "count": len(changed),
                "username": username,
            }
        self.stdout.write(done)
