"""Phantom method rows: the state of decoy logins, in the tables real logins use.

A passwordless login for an identifier nobody can use (see
:mod:`trench_mfa.login.decoys`) gets a method row without a user, named by a
keyed hash of the method and the normalised identifier (never the value).
Its codes, resend cooldown, send limit, back-off and lockout are kept by the
same functions and in the same rows as those of a user's channel row
(:mod:`~trench_mfa.state.codes`, :mod:`~trench_mfa.state.send_limits`,
:mod:`~trench_mfa.state.backoff`), so a decoy follows the real rules because
it runs them.

A phantom row is created only by login step 1, which the login throttles
bound (one row per identifier and method, next to the challenge row every
step 1 writes anyway). ``cleanup_otp_codes`` deletes the rows that hold
nothing any more (:func:`idle`).
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from trench_mfa.models import MFAMethod, OneTimeCode
from trench_mfa.state import crypto, identity
from trench_mfa.state.locks import locking
from trench_mfa.user import AnyUser


def phantom_key(method: str, field: str, value: str) -> str:
    """The stored name of the phantom of ``method`` for ``value`` of identifier ``field``.

    Two values share a phantom exactly when they would find the same user
    (:func:`trench_mfa.state.identity.login_form`): otherwise the spellings
    of a known address would share state where an unknown one's do not, or
    the other way round.
    """
    return crypto.keyed_hash("decoy", f"{method}:{field}:{identity.login_form(field, value)}")


def stand_in(field: str, value: str) -> AnyUser:
    """An unsaved user holding only ``value``: dispatchers read the recipient from it.

    Its primary key is ``None`` even where the model fills one in on creation
    (a UUID default): nothing may take it for an account.
    """
    user = get_user_model()(**{field: value})
    user.pk = None
    return user


def _attach(row: MFAMethod, field: str, value: str) -> MFAMethod:
    # A user without a primary key keeps ``user_id`` NULL: the row stays a phantom.
    row.user = stand_in(field, value)
    return row


def phantom_method(method: str, field: str, value: str) -> MFAMethod:
    """The phantom row of ``method`` for ``value`` (created when missing), with its stand-in."""
    row, _created = MFAMethod.objects.get_or_create(
        phantom=phantom_key(method, field, value), defaults={"name": method}
    )
    return _attach(row, field, value)


def lock_phantom(method: str, field: str, value: str) -> list[MFAMethod]:
    """The phantom row of ``method`` for ``value``, locked; empty when there is none.

    Must run inside ``transaction.atomic()``, like
    :func:`trench_mfa.state.locks.lock_methods` for a user's rows.
    """
    rows = locking(MFAMethod.objects.filter(phantom=phantom_key(method, field, value)))
    return [_attach(row, field, value) for row in rows]


def idle(cutoff: datetime, codes_left: QuerySet[OneTimeCode]) -> QuerySet[MFAMethod]:
    """Phantom rows that hold nothing any more: deletable once ``codes_left`` alone remain.

    Created before ``cutoff``, no failure since, no lock in force, and none
    of ``codes_left`` (the codes a cleanup keeps) is theirs: their codes go
    first, and a code decides the cooldown and the send limit.
    """
    return MFAMethod.objects.filter(
        Q(last_failure_at__isnull=True) | Q(last_failure_at__lt=cutoff),
        Q(locked_until__isnull=True) | Q(locked_until__lt=timezone.now()),
        user__isnull=True,
        created_at__lt=cutoff,
    ).exclude(Exists(codes_left.filter(method_id=OuterRef("pk"))))
