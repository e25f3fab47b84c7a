"""Send limits: the resend cooldown per method and the per-recipient cap.

Both live in the database and change atomically, so they hold across
processes and app servers:

* The **cooldown** is per method row and purpose. While the last code sent
  is still usable (not used, not expired, attempts left) and younger than
  ``RESEND_COOLDOWN`` seconds, nothing new is sent. Callers run the check and
  the creation of the new code in one transaction that holds a row lock on
  the method (``SELECT ... FOR UPDATE``), so parallel requests queue and all
  but the first see the fresh code.
* The **per-recipient cap** allows at most N sends to one destination in any
  sliding hour, across all users and whatever asked for them (SMS pumping,
  mail bombing): ``SMS_MAX_PER_NUMBER`` per number, ``EMAIL_MAX_PER_ADDRESS``
  per address. One :class:`SendQuota` row per destination lists the recent
  send times and changes only by compare-and-swap on its ``version``
  column, which is atomic on every database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F, QuerySet
from django.utils import timezone

from trench_mfa.conf import mfa_settings
from trench_mfa.models import CodePurpose, MFAMethod, OneTimeCode, SendQuota
from trench_mfa.state import crypto
from trench_mfa.state.locks import locking

#: Longest back-off, whatever the failure count (one year): keeps the delay
#: finite after THROTTLE_FACTOR is raised on a row with many old failures.
#: Length of the sliding window of the per-recipient cap, in seconds.
RECIPIENT_WINDOW = 3600
#: Compare-and-swap rounds before giving up; each lost round means another
#: request got its send in, so this bounds waiting, not correctness.
_CAS_ROUNDS = 50


@dataclass(frozen=True)
class CooldownGate:
    """Whether a new code may be sent now.

    ``retry_after`` is set when the caller must wait; ``rebound`` when the live
    login code was handed to the caller's new login challenge instead.
    """

    retry_after: int | None = None
    rebound: bool = False


@dataclass(frozen=True)
class Reservation:
    """One send counted against a recipient's cap (or refused)."""

    key: str | None = None
    stamp: int | None = None
    retry_after: int | None = None


def _usable_codes(method: MFAMethod, purpose: str) -> QuerySet[OneTimeCode]:
    now = timezone.now()
    return OneTimeCode.objects.filter(
        method_id=method.pk,
        purpose=purpose,
        consumed_at__isnull=True,
        expires_at__gt=now,
        attempts__lt=mfa_settings.MAX_CODE_ATTEMPTS,
    )


def check_cooldown(
    method: MFAMethod, purpose: str, challenge_id: int | None = None
) -> CooldownGate:
    """Decide whether a new code of ``purpose`` may be sent for ``method``.

    Must run inside ``transaction.atomic()``: it locks the method row until
    the caller has created the new code. A login code that is inside the
    cooldown but bound to another challenge is re-bound to ``challenge_id``
    (a new login step 1 answers as usual, and the code already on the
    user's phone works with the new ephemeral token only). Past the
    cooldown, at most ``SEND_LIMIT`` codes of one method and purpose are
    sent in any ``SEND_LIMIT_WINDOW`` seconds.
    """
    cooldown = mfa_settings.RESEND_COOLDOWN
    limit = mfa_settings.SEND_LIMIT
    if not cooldown and not limit:
        return CooldownGate()
    list(locking(MFAMethod.objects.filter(pk=method.pk)).values_list("pk"))
    now = timezone.now()
    if cooldown:
        gate = _cooldown_gate(method, purpose, challenge_id, cooldown)
        if gate.rebound or gate.retry_after:
            return gate
    if limit:
        window = int(mfa_settings.SEND_LIMIT_WINDOW)
        # Every code sent counts, used or not: each one was a message. A code
        # whose delivery failed was withdrawn (deleted), so an outage of the
        # provider does not use up the user's sends.
        recent = list(
            OneTimeCode.objects.filter(
                method_id=method.pk, purpose=purpose, created_at__gt=now - timedelta(seconds=window)
            )
            .order_by("-created_at")
            .values_list("created_at", flat=True)[:limit]
        )
        if len(recent) >= limit:
            wait = (recent[-1] - now).total_seconds() + window
            return CooldownGate(retry_after=max(1, math.ceil(wait)))
    return CooldownGate()


def _cooldown_gate(
    method: MFAMethod, purpose: str, challenge_id: int | None, cooldown: int
) -> CooldownGate:
    now = timezone.now()
    usable = _usable_codes(method, purpose)
    live = (
        usable.filter(created_at__gt=now - timedelta(seconds=cooldown))
        .order_by("-created_at", "-pk")
        .first()
    )
    if live is None:
        return CooldownGate()
    if (
        purpose == CodePurpose.LOGIN
        and challenge_id is not None
        and live.challenge_id != challenge_id
    ):
        # Conditional: the code may have been used since it was read.
        if usable.filter(pk=live.pk).update(challenge_id=challenge_id):
            return CooldownGate(rebound=True)
        return CooldownGate()
    elapsed = (now - live.created_at).total_seconds()
    return CooldownGate(retry_after=max(1, math.ceil(cooldown - elapsed)))


def recipient_key(channel: str, recipient: str) -> str:
    """The stored form of a destination: a keyed hash, never the number or address."""
    return crypto.keyed_hash("send-quota", f"{channel}:{recipient}")


def _now_stamp() -> int:
    return math.floor(timezone.now().timestamp())


def reserve_recipient(channel: str, recipient: str, limit: int | None) -> Reservation:
    """Count one send to ``recipient``, or refuse it with ``retry_after``.

    ``limit`` sends are allowed in any sliding window of
    :data:`RECIPIENT_WINDOW` seconds; ``None`` or ``0`` means no cap.
    """
    if not limit:
        return Reservation()
    key = recipient_key(channel, recipient)
    for _ in range(_CAS_ROUNDS):
        now = _now_stamp()
        row, _created = SendQuota.objects.get_or_create(key=key)
        recent = [t for t in row.sent_at if t > now - RECIPIENT_WINDOW]
        if len(recent) >= limit:
            oldest = min(recent)
            return Reservation(key=key, retry_after=max(1, oldest + RECIPIENT_WINDOW - now))
        swapped = SendQuota.objects.filter(pk=row.pk, version=row.version).update(
            sent_at=[*recent, now], version=F("version") + 1, updated_at=timezone.now()
        )
        if swapped:
            return Reservation(key=key, stamp=now)
    # Fail closed: under that much contention the number is being hammered.
    return Reservation(key=key, retry_after=1)


def release_recipient(reservation: Reservation) -> None:
    """Give back a reserved send that was not delivered."""
    if reservation.key is None or reservation.stamp is None:
        return
    for _ in range(_CAS_ROUNDS):
        row = SendQuota.objects.filter(key=reservation.key).first()
        if row is None or reservation.stamp not in row.sent_at:
            return
        stamps = list(row.sent_at)
        stamps.remove(reservation.stamp)
        if SendQuota.objects.filter(pk=row.pk, version=row.version).update(
            sent_at=stamps, version=F("version") + 1, updated_at=timezone.now()
        ):
            return
