"""Hardcodes: a second static secret (a device or card PIN) for login flows.

Stored with Django's password hashers (``PASSWORD_HASHERS``), like the
password: salted and slow, upgraded on use when the preferred hasher
changes. Every check costs one hash, whether or not the user has a
hardcode, so a missing hardcode cannot be told from a wrong one by timing.

Wrong tries count per user, across tokens and client IPs
(:mod:`trench_mfa.state.hardcode_guard`): every check of a login flow that
asks for a hardcode, and the password that confirms ``POST hardcode/``,
runs through :func:`guarded`, which refuses it (429) during the back-off
or the lockout without evaluating it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from trench_mfa import signals
from trench_mfa.conf import mfa_settings
from trench_mfa.exceptions import InvalidPassword, Locked, MethodDoesNotExist, NotEnabled, Throttled
from trench_mfa.flows import HARDCODE
from trench_mfa.models import CodePurpose, Hardcode, MFAMethod
from trench_mfa.services.verification import verify_protected_action
from trench_mfa.state import audit, hardcode_guard
from trench_mfa.user import AnyRequest, AnyUser

T = TypeVar("T")


def guard_key(user: AnyUser | None, field: str, value: str) -> str:
    """Whose counters a check counts against: ``user``'s, else the identifier's.

    ``user`` is whoever the identifier ``field`` = ``value`` names (``None``
    for nobody): an identifier that names nobody is counted, and locked,
    like a real one, so the answers tell nothing about who exists.
    """
    if user is not None:
        return hardcode_guard.user_key(user.pk)
    return hardcode_guard.identifier_key(field, value)


def guarded(
    key: str,
    evaluate: Callable[[], T | None],
    *,
    user: AnyUser | None = None,
    request: AnyRequest = None,
    purpose: CodePurpose = CodePurpose.LOGIN,
) -> T | None:
    """``evaluate()`` under the back-off and lockout of ``key``; ``None`` counts as a failure.

    Raises :class:`~trench_mfa.exceptions.Throttled` or
    :class:`~trench_mfa.exceptions.Locked` (429 with ``Retry-After``) without
    calling ``evaluate`` while the subject must wait. The row stays locked
    from the check to the recording, so parallel tries are counted one after
    the other. ``user`` (when known) is named in the ``locked_out`` event,
    with ``purpose`` (``login``, or ``action`` for ``POST hardcode/``).
    """
    with transaction.atomic():
        row = hardcode_guard.lock(key)
        refusal = hardcode_guard.check_attempt(row)
        if refusal is not None:
            error = Locked if refusal.locked else Throttled
            raise error(refusal.retry_after)
        result = evaluate()
        if result is not None:
            hardcode_guard.record_success(row)
        elif hardcode_guard.record_failure(row) and user is not None:
            # Inside the transaction: the event commits with the lock it records.
            audit.send(
                signals.locked_out,
                __name__,
                user=user,
                method=HARDCODE,
                request=request,
                purpose=str(purpose),
            )
    return result


@sensitive_variables()
def check_hardcode(user: AnyUser | None, raw: str) -> bool:
    """Whether ``raw`` is ``user``'s hardcode (``user`` may be ``None``: always false)."""
    row = Hardcode.objects.filter(user_id=user.pk).first() if user is not None else None
    if row is None:
        make_password(raw)  # the cost of a real check, for uniform timing
        return False

    def upgrade(value: str) -> None:
        Hardcode.objects.filter(pk=row.pk).update(code_hash=make_password(value))

    return check_password(raw, row.code_hash, upgrade)


def _protecting_method(user: AnyUser, name: str | None) -> MFAMethod:
    active = MFAMethod.objects.for_user(user).active()
    if name:
        if mfa_settings.method(name) is None:
            raise MethodDoesNotExist()
        method = active.filter(name=name).first()
    else:
        method = active.primary().first()
    if method is None or mfa_settings.method(method.name) is None:
        raise NotEnabled()
    method.user = user
    return method


@dataclass(frozen=True)
class ChangeProof:
    """What confirms a hardcode change: the current password, else a code.

    ``code`` answers ``method`` (an active method's name; the primary one by
    default), or is a backup code.
    """

    password: str | None = field(default=None, repr=False)
    code: str | None = field(default=None, repr=False)
    method: str | None = None


@sensitive_variables()
def set_hardcode(
    user: AnyUser, hardcode: str, proof: ChangeProof, *, request: AnyRequest = None
) -> None:
    """Set or change ``user``'s hardcode.

    The change is confirmed by the current password (400 ``invalid_password``;
    429 during the hardcode's back-off or lockout, which wrong passwords here
    count toward) or by a code of an active method, the primary one by
    default (the usual protected-action check: 400
    ``code_invalid_or_expired``, 429 when throttled). A backup code works as
    a code. A new hardcode ends the lockout: the guesses so far are worthless.
    """
    password = proof.password
    if password is not None:
        # Counted with the user's wrong hardcodes: a stolen session must not
        # make this endpoint an unlimited way to guess the password.
        key = hardcode_guard.user_key(user.pk)
        right = guarded(
            key,
            lambda: user.check_password(password) or None,
            user=user,
            request=request,
            purpose=CodePurpose.ACTION,
        )
        if not right:
            raise InvalidPassword()
    else:
        method = _protecting_method(user, proof.method)
        verify_protected_action(user, method, proof.code, request=request)
    store_hardcode(user, hardcode)


@sensitive_variables()
def store_hardcode(user: AnyUser, hardcode: str) -> None:
    """Hash and store ``hardcode`` for ``user``, unchecked (support tools, fixtures).

    The user's failure counters start again (lock order: the counter row
    first, as a login does).
    """
    hardcode_guard.reset(hardcode_guard.user_key(user.pk))
    Hardcode.objects.update_or_create(
        user_id=user.pk, defaults={"code_hash": make_password(hardcode)}
    )
