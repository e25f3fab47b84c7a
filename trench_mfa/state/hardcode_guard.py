"""Back-off and lockout of hardcode checks, in :class:`~trench_mfa.models.HardcodeGuard` rows.

A hardcode is a short static secret (a 4-digit PIN has 10,000 values), so
its wrong tries count as failed code checks do (:mod:`trench_mfa.state.backoff`):
after n consecutive failures the next check waits ``THROTTLE_FACTOR`` *
2**(n-1) seconds, and ``HARDCODE_LOCKOUT_THRESHOLD`` of them lock the
hardcode for ``LOCKOUT_DURATION`` seconds, each further failure locking
again until a success. A refused check is not evaluated: the right hardcode
fails too.

One row per subject: the user, or the identifier a login named when it
names nobody (so a lockout looks the same whoever the identifier belongs
to). The caller holds the row's lock (:func:`lock`) from the check to the
recording, in one transaction, so parallel wrong tries queue and none slips
past the threshold, across processes and app servers.
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from trench_mfa.conf import mfa_settings
from trench_mfa.models import HardcodeGuard
from trench_mfa.state import crypto, identity
from trench_mfa.state.backoff import Refusal, backoff_delay
from trench_mfa.state.locks import locking
from trench_mfa.user import UserPk

_PURPOSE = "hardcode-guard"


def user_key(user_pk: UserPk) -> str:
    """The row key of a user's counters."""
    return crypto.keyed_hash(_PURPOSE, f"user\x00{user_pk}")


def identifier_key(field: str, value: str) -> str:
    """The row key of an identifier that names nobody (case and spaces ignored)."""
    return crypto.keyed_hash(_PURPOSE, f"value\x00{field}\x00{identity.normalise(value)}")


def lock(key: str) -> HardcodeGuard:
    """The row of ``key``, created when missing, locked until the transaction ends.

    Must run inside ``transaction.atomic()``. Two first tries of one key
    meet at the unique index: the second waits for the first's commit and
    then locks the row it made.
    """
    row, _created = locking(HardcodeGuard.objects.all()).get_or_create(key=key)
    return row


def check_attempt(row: HardcodeGuard) -> Refusal | None:
    """Whether the hardcode of ``row``'s subject may be checked now."""
    now = timezone.now()
    waits = []
    locked = row.locked_until is not None and row.locked_until > now
    if locked:
        assert row.locked_until is not None
        waits.append((row.locked_until - now).total_seconds())
    delay = backoff_delay(row.failure_count)
    if delay and row.last_failure_at is not None:
        waits.append((row.last_failure_at - now).total_seconds() + delay)
    wait = max(waits, default=0.0)
    if wait <= 0:
        return None
    return Refusal(retry_after=max(1, math.ceil(wait)), locked=locked)


def record_failure(row: HardcodeGuard) -> bool:
    """Count a failed check; ``True`` when it locked the subject."""
    now = timezone.now()
    values = {"failure_count": F("failure_count") + 1, "last_failure_at": now, "updated_at": now}
    locks = row.failure_count + 1 >= mfa_settings.HARDCODE_LOCKOUT_THRESHOLD
    if locks:
        values["locked_until"] = now + timedelta(seconds=mfa_settings.LOCKOUT_DURATION)
    HardcodeGuard.objects.filter(pk=row.pk).update(**values)
    return locks


def record_success(row: HardcodeGuard) -> None:
    """Reset the counters after a right check (no write when there is nothing to reset)."""
    if row.failure_count or row.last_failure_at is not None or row.locked_until is not None:
        HardcodeGuard.objects.filter(pk=row.pk).update(
            failure_count=0, last_failure_at=None, locked_until=None, updated_at=timezone.now()
        )


def reset(key: str) -> None:
    """Forget the counters of ``key`` (a new hardcode makes every guess so far worthless)."""
    HardcodeGuard.objects.filter(key=key).delete()
