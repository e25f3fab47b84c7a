"""Failed-check back-off and lockout, in the method rows.

The **back-off** is per method row: after n consecutive failed checks the
next check waits ``THROTTLE_FACTOR`` * 2**(n-1) seconds. The **lockout** is
per user: when the consecutive failures of all the user's methods add up to
``LOCKOUT_THRESHOLD``, every method of the user is refused for
``LOCKOUT_DURATION`` seconds, and each further failure locks again. A
phantom row (a decoy login's, :mod:`trench_mfa.state.phantoms`) is an account
of its own. A
success resets every counter of the user. Counters change only by ``F()``
updates; :mod:`trench_mfa.services.verification` holds the row locks that
make check, evaluation and recording one step, so the rules hold across
processes and app servers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import router
from django.db.models import F
from django.utils import timezone

from trench_mfa.conf import mfa_settings
from trench_mfa.models import MFAMethod
from trench_mfa.state import sql
from trench_mfa.state.step_writes import StepWrites, Write, execute

#: Longest back-off, whatever the failure count (one year): keeps the delay
#: finite after THROTTLE_FACTOR is raised on a row with many old failures.
MAX_BACKOFF = 365 * 24 * 3600


@dataclass(frozen=True)
class StagedUpdate:
    """Fields a dispatcher's successful check writes to its method row, and when.

    ``values`` are written together with the counter reset, in one ``UPDATE``
    (:func:`record_success`). ``newer`` names one of them that must move
    forward: the row is written only while its stored value is ``NULL`` or
    below the new one (the TOTP replay guard's ``last_used_step``).
    """

    values: dict[str, Any]
    newer: str | None = None


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
    (:func:`trench_mfa.state.locks.lock_methods`) and ``method`` one of
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
    MFAMethod.objects.of_account(method).update(
        locked_until=now + timedelta(seconds=mfa_settings.LOCKOUT_DURATION)
    )
    return True


def _has_failures(row: MFAMethod) -> bool:
    return bool(
        row.failure_count or row.last_failure_at is not None or row.locked_until is not None
    )


def _success_write(
    using: str, method: MFAMethod, values: dict[str, Any], newer: str | None
) -> Write:
    """``UPDATE`` of ``method``'s row with ``values``, under the ``newer`` guard."""
    names = sorted(values)
    guard = f"{newer}?" if newer else ""

    def build() -> str:
        table, pk = sql.quoted_table(using, MFAMethod), sql.quoted_column(using, MFAMethod)
        sets = ", ".join(f"{sql.quoted_column(using, MFAMethod, n)} = %s" for n in names)
        where = f"{pk} = %s"
        if newer:
            col = sql.quoted_column(using, MFAMethod, newer)
            where += f" AND ({col} IS NULL OR {col} < %s)"
        return f"UPDATE {table} SET {sets} WHERE {where}"  # noqa: S608 - quoted names only

    text = sql.cached(using, f"method-success:{','.join(names)}:{guard}", build)
    params = [sql.prepared(using, MFAMethod, n, values[n]) for n in names]
    params.append(method.pk)
    if newer:
        params.append(sql.prepared(using, MFAMethod, newer, values[newer]))
    return Write(text, params)


def record_success(
    method: MFAMethod,
    rows: Sequence[MFAMethod],
    *,
    touch: bool = True,
    staged: StagedUpdate | None = None,
    writes: StepWrites | None = None,
) -> bool:
    """Reset every failure counter of the user; ``touch`` sets ``last_used_at``.

    ``staged`` is the dispatcher's own write for this success (the TOTP replay
    guard): it goes into the same ``UPDATE`` of ``method``'s row, under its
    guard. Returns ``False`` (and writes nothing) when the guard no longer
    holds, i.e. the code was a replay. One statement in the common case; a
    second only when another method of the user has failures. With
    ``writes`` (login step 2), the row's ``UPDATE`` is collected there and
    sent with the step's other writes; its guard is checked then.
    """
    values: dict[str, Any] = {"failure_count": 0, "last_failure_at": None, "locked_until": None}
    if touch:
        values["last_used_at"] = timezone.now()
    if staged is not None:
        values.update(staged.values)
    dirty = [r.pk for r in rows if _has_failures(r)]
    if touch or staged is not None or method.pk in dirty:
        using = writes.using if writes is not None else router.db_for_write(MFAMethod)
        write = _success_write(using, method, values, staged.newer if staged else None)
        if writes is not None:
            writes.add(write)
        elif execute(using, write) != 1 and staged is not None:
            return False
    dirty = [pk for pk in dirty if pk != method.pk]
    if dirty:
        MFAMethod.objects.filter(pk__in=dirty).update(
            failure_count=0, last_failure_at=None, locked_until=None
        )
    return True
