"""``manage.py mfa_status <username>``: a user's MFA state, for support staff."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

from trench_mfa.management.commands._base import MFACommand
from trench_mfa.management.commands._users import get_user_or_fail
from trench_mfa.models import MFAMethod
from trench_mfa.state.backup_codes import remaining_backup_codes


class Command(MFACommand):
    """Print methods, primary, backup codes left and lock state (never a secret)."""

    help = gettext_noop(
        "Show the MFA methods, primary method, backup codes left and lock state of a user."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """The username."""
        parser.add_argument("username", help=_("Value of the user model's USERNAME_FIELD."))

    def handle(self, *args: Any, **options: Any) -> None:
        """Look the user up and print one line per method."""
        username = options["username"]
        user = get_user_or_fail(username)
        methods = list(MFAMethod.objects.for_user(user).order_by("-is_primary", "name"))
        if any(m.is_active for m in methods):
            headline = _("User: %(username)s (MFA on)")
        else:
            headline = _("User: %(username)s (MFA off)")
        self.stdout.write(headline % {"username": username})
        now = timezone.now()
        for method in methods:
            # A context of their own: "active" alone is also in Django's
            # catalogues, whose translation would win and need not agree
            # with "method" (Polish "aktywny", not "aktywna").
            if method.is_active:
                state = pgettext("MFA method state", "active")
            elif method.activation_started_at is not None:
                state = pgettext("MFA method state", "pending")
            else:
                # Only carries codes of identifier verification and passcode
                # logins (see trench_mfa.services.identifiers): not MFA.
                state = pgettext("MFA method state", "channel only")
            flags = [state]
            if method.is_primary:
                flags.append(pgettext("MFA method state", "primary"))
            if method.locked_until and method.locked_until > now:
                flags.append(_("locked until %(time)s") % {"time": method.locked_until.isoformat()})
            if method.failure_count:
                flags.append(_("%(count)d consecutive failures") % {"count": method.failure_count})
            self.stdout.write(f"  {method.name}: {', '.join(flags)}")
        self.stdout.write(
            _("Backup codes left: %(count)d") % {"count": remaining_backup_codes(user.pk)}
        )
