"""Abuse limits: failed-check back-off and lockout, resend cooldown, per-number cap.

All of them live in the database and change atomically, so they hold across
processes and app servers:

* The **back-off** is per method row: after n consecutive failed checks the
  next check waits ``THROTTLE_FACTOR`` * 2**(n-1) seconds. The **lockout** is
  per user: when the consecutive failures of all the user's methods add up
  to ``LOCKOUT_THRESHOLD``, every method of the user is refused for
  ``LOCKOUT_DURATION`` seconds, and each further failure locks again. A
  success resets every counter of the user. Counters change only by ``F()``
  updates; :mod:`trench_mfa.services.verification` holds the row locks that
  make check, evaluation and recording one step.

* The **cooldown** is per method row and purpose. While the last code sent
  is still usable (not used, not expired, attempts left) and younger than
  ``RESEND_COOLDOWN`` seconds, nothing new is sent. Callers run the check and
  the creation of the new code in one transaction that holds a row lock on
  the method (``SELECT ... FOR UPDATE``), so parallel requests queue and all
  but the first see the fresh code.
* The **per-recipient cap** allows at most N sends to one destination in any
  sliding hour, across all users (SMS pumping). One :class:`SendQuota` row per
  destination lists the recent send times and changes only by
  compare-and-swap on its ``version`` column, which is atomic on every
  database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from trench_mfa import crypto
from trench_mfa.conf import mfa_settings
from trench_mfa.models import CodePurpose, MFAMethod, OneTimeCode, SendQuota
from trench_mfa.services.protection import locking

#: Longest back-off, whatever the failure count (one year): keeps the delay
#: finite after THROTTLE_FACTOR is raised on a row with many old failures.
MAX_BACKOFF = 365 * 24 * 3600
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
        # Every issued code counts, used or not: each one was a message.
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
    """The stored form of a destination: a keyed hash, never the number."""
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


def prune_send_quotas() -> int:
    """Delete quota rows untouched for a whole window; return how many."""
    cutoff = timezone.now() - timedelta(seconds=RECIPIENT_WINDOW)
    deleted, _ = SendQuota.objects.filter(updated_at__lt=cutoff).delete()
    return deleted


@dataclass(frozen=True)
class StagedUpdate:
    """Fields a dispatcher's successful check writes to its method row, and when.

    ``condition`` must still hold at write time (e.g. the TOTP step is newer
    than the last one used); :func:`record_success` writes ``values`` together
    with the counter reset, in one ``UPDATE``.
    """

    values: dict[str, Any]
    condition: Q


@dataclass(frozen=True)
class Refusal:
    """A code check that must not run now: ``locked`` tells lockout from back-off."""

    retry_after: int
    locked: bool = False


def backoff_delay(failures: int) -> float:
    """Seconds the next check waits after ``failures`` consecutive failures."""
    factor = mfa_settings.THROTTLE_FACTOR
    if failures <= 0 or not factor:
        return 0.0
    return float(min(factor * 2 ** min(failures - 1, 64), MAX_BACKOFF))


def check_attempt(method: MFAMethod, rows: Sequence[MFAMethod]) -> Refusal | None:
    """Whether a code of ``method`` may be checked now.

    ``rows`` are all the user's method rows as read under their locks
    (:func:`trench_mfa.services.protection.lock_methods`) and ``method`` one of
    them (or the caller's copy, when its row is gone). The user's lock is the
    latest ``locked_until`` of any of them, so a method added during a
    lockout is locked too. No query: the rows carry every counter.
    """
    now = timezone.now()
    locked_until = max(
        (r.locked_until for r in rows if r.locked_until is not None and r.locked_until > now),
        default=None,
    )
    waits = []
    if locked_until is not None:
        waits.append((locked_until - now).total_seconds())
    delay = backoff_delay(method.failure_count)
    if delay and method.last_failure_at is not None:
        waits.append((method.last_failure_at - now).total_seconds() + delay)
    wait = max(waits, default=0.0)
    if wait <= 0:
        return None
    return Refusal(retry_after=max(1, math.ceil(wait)), locked=locked_until is not None)


def record_failure(method: MFAMethod, rows: Sequence[MFAMethod]) -> bool:
    """Count a failed check of ``method``; ``True`` when it locked the user.

    ``rows`` are the user's locked method rows (see :func:`check_attempt`):
    their counters give the user's total without another query.
    """
    now = timezone.now()
    MFAMethod.objects.filter(pk=method.pk).update(
        failure_count=F("failure_count") + 1, last_failure_at=now
    )
    total = sum(r.failure_count for r in rows) + 1
    if all(r.pk != method.pk for r in rows):
        total += method.failure_count  # its row is gone; count what the caller read
    if total < mfa_settings.LOCKOUT_THRESHOLD:
        return False
    MFAMethod.objects.filter(user_id=method.user_id).update(
        locked_until=now + timedelta(seconds=mfa_settings.LOCKOUT_DURATION)
    )
    return True


def _has_failures(row: MFAMethod) -> bool:
    return bool(
        row.failure_count or row.last_failure_at is not None or row.locked_until is not None
    )


def record_success(
    method: MFAMethod,
    rows: Sequence[MFAMethod],
    *,
    touch: bool = True,
    staged: StagedUpdate | None = None,
) -> bool:
    """Reset every failure counter of the user; ``touch`` sets ``last_used_at``.

    ``staged`` is the dispatcher's own write for this success (the TOTP replay
    guard): it goes into the same ``UPDATE`` of ``method``'s row, under its
    condition. Returns ``False`` (and writes nothing) when that condition no
    longer holds, i.e. the code was a replay. One statement in the common
    case; a second only when another method of the user has failures.
    """
    values: dict[str, Any] = {"failure_count": 0, "last_failure_at": None, "locked_until": None}
    if touch:
        values["last_used_at"] = timezone.now()
    own = MFAMethod.objects.filter(pk=method.pk)
    if staged is not None:
        values.update(staged.values)
        own = own.filter(staged.condition)
    dirty = [r.pk for r in rows if _has_failures(r)]
    if (touch or staged is not None or method.pk in dirty) and own.update(**values) != 1:
        if staged is not None:
            return False
    dirty = [pk for pk in dirty if pk != method.pk]
    if dirty:
        MFAMethod.objects.filter(pk__in=dirty).update(
            failure_count=0, last_failure_at=None, locked_until=None
        )
    return True
