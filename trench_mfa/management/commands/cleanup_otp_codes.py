"""``manage.py cleanup_otp_codes``: prune expired and used codes (run from cron).

With ``--events-days N`` it also prunes audit events older than N days;
without it, audit events are kept. Idle send counters, hardcode failure
counters and the idle phantom rows of decoy logins
(:func:`trench_mfa.state.phantoms.idle`) go too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db.models import Max, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from trench_mfa.management.commands._base import MFACommand
from trench_mfa.models import (
    HardcodeGuard,
    LoginChallenge,
    MFAEvent,
    OneTimeCode,
    SendQuota,
    WebAuthnChallenge,
)
from trench_mfa.state import phantoms
from trench_mfa.state.send_limits import RECIPIENT_WINDOW


def _delete_in_batches(queryset: QuerySet[Any], batch_size: int) -> int:
    """Delete matching rows in primary-key ranges of ``batch_size`` ids.

    Each statement is ``DELETE ... WHERE id >= a AND id < b AND <filter>``:
    a range scan of the primary key, so the total work grows with the table
    and not with its square (a ``LIMIT`` subquery would scan past the rows
    earlier batches already deleted). No instances are loaded, no signals
    run, and locks are short. Each statement deletes at most ``batch_size``
    rows.
    """
    model = queryset.model
    table = model._base_manager.using(queryset.db)
    bounds = table.aggregate(low=Min("pk"), high=Max("pk"))
    start, high = bounds["low"], bounds["high"]
    deleted = 0
    while start is not None and start <= high:
        end = start + batch_size
        deleted += queryset.filter(pk__gte=start, pk__lt=end)._raw_delete(queryset.db)
        # Jump over id gaps instead of walking empty ranges.
        start = table.filter(pk__gte=end).order_by("pk").values_list("pk", flat=True).first()
    return deleted


class Command(MFACommand):
    """Delete one-time codes, login and WebAuthn challenges that expired or were used.

    Per-number send counters untouched for a whole counting window go too:
    they hold nothing that still limits anyone. So do hardcode failure
    counters that are not locked and have not changed for ``--days``: most
    are identifiers that name nobody, and a user's count starting again
    after a week of quiet gives a guesser fewer tries than the lockout's
    one every ``LOCKOUT_DURATION``. And the phantom rows of decoy logins with
    no code, failure or lock left younger than ``--days``.
    """

    help = gettext_noop(
        "Delete one-time codes and login challenges that expired or were used "
        "more than --days days ago, and idle per-number send counters."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """``--days``, ``--events-days``, ``--batch-size`` and ``--dry-run``."""
        parser.add_argument("--days", type=int, default=7, help=_("Keep rows younger than this."))
        parser.add_argument(
            "--events-days",
            type=int,
            default=None,
            help=_("Also delete audit events (MFAEvent) older than this; default: keep them."),
        )
        parser.add_argument(
            "--batch-size", type=int, default=10000, help=_("Rows deleted per statement.")
        )
        parser.add_argument(
            "--dry-run", action="store_true", help=_("Only print how many rows would go.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Delete (or count) the old rows and print a one-line summary."""
        days, batch_size = options["days"], options["batch_size"]
        events_days = options["events_days"]
        if days < 0 or batch_size < 1 or (events_days is not None and events_days < 0):
            raise CommandError(_("--days and --events-days must be >= 0 and --batch-size >= 1."))
        cutoff = timezone.now() - timedelta(days=days)
        old = Q(expires_at__lt=cutoff) | Q(consumed_at__lt=cutoff)
        codes = OneTimeCode.objects.filter(old)
        challenges = LoginChallenge.objects.filter(Q(expires_at__lt=cutoff) | Q(used_at__lt=cutoff))
        webauthn = WebAuthnChallenge.objects.filter(
            Q(expires_at__lt=cutoff) | Q(used_at__lt=cutoff)
        )
        quotas = SendQuota.objects.filter(
            updated_at__lt=timezone.now() - timedelta(seconds=RECIPIENT_WINDOW)
        )
        guards = HardcodeGuard.objects.filter(updated_at__lt=cutoff).exclude(
            locked_until__gt=timezone.now()
        )
        idle_phantoms = phantoms.idle(cutoff, OneTimeCode.objects.exclude(old))
        events = None
        if events_days is not None:
            events = MFAEvent.objects.filter(
                created_at__lt=timezone.now() - timedelta(days=events_days)
            )
        if options["dry_run"]:
            self.stdout.write(
                _(
                    "Would delete %(codes)d one-time codes and %(challenges)d login challenges "
                    "older than %(days)d days, and %(quotas)d idle send counters."
                )
                % {
                    "codes": codes.count(),
                    "challenges": challenges.count(),
                    "days": days,
                    "quotas": quotas.count(),
                }
            )
            n_guards = guards.count()
            if n_guards:
                self.stdout.write(
                    _("Would delete %(guards)d idle hardcode failure counters.")
                    % {"guards": n_guards}
                )
            n_phantoms = idle_phantoms.count()
            if n_phantoms:
                self.stdout.write(
                    _("Would delete %(phantoms)d idle decoy login states.")
                    % {"phantoms": n_phantoms}
                )
            if webauthn.exists():
                self.stdout.write(
                    _("Would delete %(count)d WebAuthn challenges older than %(days)d days.")
                    % {"count": webauthn.count(), "days": days}
                )
            if events is not None:
                self.stdout.write(
                    _("Would delete %(events)d audit events older than %(days)d days.")
                    % {"events": events.count(), "days": events_days}
                )
            return
        n_codes = _delete_in_batches(codes, batch_size)
        n_challenges = _delete_in_batches(challenges, batch_size)
        n_quotas = _delete_in_batches(quotas, batch_size)
        self.stdout.write(
            _(
                "Deleted %(codes)d one-time codes and %(challenges)d login challenges "
                "older than %(days)d days, and %(quotas)d idle send counters."
            )
            % {"codes": n_codes, "challenges": n_challenges, "days": days, "quotas": n_quotas}
        )
        n_guards = _delete_in_batches(guards, batch_size)
        if n_guards:
            self.stdout.write(
                _("Deleted %(guards)d idle hardcode failure counters.") % {"guards": n_guards}
            )
        # After the codes: a phantom row goes once none of its codes is left.
        n_phantoms = _delete_in_batches(idle_phantoms, batch_size)
        if n_phantoms:
            self.stdout.write(
                _("Deleted %(phantoms)d idle decoy login states.") % {"phantoms": n_phantoms}
            )
        n_webauthn = _delete_in_batches(webauthn, batch_size)
        if n_webauthn:
            self.stdout.write(
                _("Deleted %(count)d WebAuthn challenges older than %(days)d days.")
                % {"count": n_webauthn, "days": days}
            )
        if events is not None:
            n_events = _delete_in_batches(events, batch_size)
            self.stdout.write(
                _("Deleted %(events)d audit events older than %(days)d days.")
                % {"events": n_events, "days": events_days}
            )
