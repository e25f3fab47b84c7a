"""The one place where a second factor is checked: :func:`verify_factor`.

Every endpoint that accepts a code (login step 2, protected actions,
activation confirmation) calls it, and so will every factor of a
multi-factor login flow. It runs, as one step:

1. the format check (400 field error; nothing is counted);
2. in a transaction holding the locks of all the user's method rows: the
   back-off and lockout check (a refused attempt is **not evaluated**, so a
   right code fails too);
3. the evaluation of the method's code, then (where allowed) of a backup
   code;
4. the recording: a success resets all the user's failure counters, a
   failure counts once against ``method`` and may lock the user;

and, in the same transaction, the signals (and through them the audit
trail), so the event row commits with the state it records.

How backup codes count: a backup code answers the check of ``method``, so a
submission that is neither a right code nor a right backup code is one
failure of ``method``. The lockout adds up the failures of all the user's
methods, so switching between methods and backup codes never gets an
attacker more than ``LOCKOUT_THRESHOLD`` consecutive tries per account.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from trench_mfa import signals
from trench_mfa.backends.base import AbstractMessageDispatcher
from trench_mfa.backends.provider import get_mfa_handler
from trench_mfa.exceptions import CodeInvalidOrExpired, Locked, OTPCodeMissing, Throttled
from trench_mfa.models import CodePurpose, MFAMethod
from trench_mfa.services.protection import is_plausible_code, reject_malformed_code
from trench_mfa.state import audit, backoff, backup_codes
from trench_mfa.state.locks import lock_methods
from trench_mfa.state.step_writes import StepWrites
from trench_mfa.user import AnyRequest, AnyUser


class Result(enum.Enum):
    """What :func:`verify_factor` concluded."""

    VERIFIED = "verified"
    BACKUP_CODE = "backup_code"
    INVALID = "invalid_code"
    THROTTLED = "throttled"
    LOCKED = "locked"


@dataclass(frozen=True)
class Outcome:
    """The result of one check, and the dispatcher that evaluated it.

    ``handler`` is kept for callers that continue with the same dispatcher
    (activation calls ``handler.confirm_activation()``). ``locked_now`` is set
    when this very failure locked the user.
    """

    result: Result
    handler: AbstractMessageDispatcher
    retry_after: int | None = None
    locked_now: bool = False

    @property
    def ok(self) -> bool:
        """Whether the factor was verified (by its own code or a backup code)."""
        return self.result in (Result.VERIFIED, Result.BACKUP_CODE)

    @property
    def used_backup_code(self) -> bool:
        """Whether a backup code was used up."""
        return self.result is Result.BACKUP_CODE

    def raise_if_refused(self) -> None:
        """Raise 429 (:class:`Locked` or :class:`Throttled`) for a refused check."""
        if self.result is Result.LOCKED:
            raise Locked(self.retry_after or 1)
        if self.result is Result.THROTTLED:
            raise Throttled(self.retry_after or 1)


@sensitive_variables()
def require_well_formed(
    handler: AbstractMessageDispatcher, code: str, *, allow_backup: bool
) -> tuple[bool, bool]:
    """(method format, backup format) of ``code``; refused when neither fits.

    The refusal counts nothing: 401 ``invalid_code`` at login, else the 400
    field error of :func:`~trench_mfa.services.protection.reject_malformed_code`.
    """
    plausible = is_plausible_code(code)
    method_format = (
        is_plausible_code(code, handler.max_code_length) if handler.max_code_length else plausible
    ) and handler.is_well_formed(code)
    backup_format = plausible and allow_backup and backup_codes.is_well_formed(code)
    if not (method_format or backup_format):
        reject_malformed_code(at_login=handler.purpose == CodePurpose.LOGIN)
    return method_format, backup_format


@dataclass(frozen=True)
class FactorCheck:
    """One code check: whose, which method, the code, and what the code is for.

    ``allow_backup`` defaults to every purpose except activation;
    ``require_active`` (default: login and protected actions) fails the check
    when the method row is not active under the lock. ``challenge_id`` binds
    a login code to its challenge.
    """

    user: AnyUser
    method: MFAMethod
    code: str = field(repr=False)
    purpose: CodePurpose
    challenge_id: int | None = None
    request: AnyRequest = None
    allow_backup: bool | None = None
    require_active: bool | None = None

    @property
    def backups_allowed(self) -> bool:
        """Whether a backup code may answer (never while activating)."""
        if self.allow_backup is None:
            return self.purpose != CodePurpose.ACTIVATION
        return self.allow_backup

    @property
    def active_required(self) -> bool:
        """Whether the row must be active (verification and passcodes use inactive rows)."""
        if self.require_active is None:
            return self.purpose not in (CodePurpose.ACTIVATION, CodePurpose.VERIFICATION)
        return self.require_active

    def dispatcher(self) -> AbstractMessageDispatcher:
        """The method's dispatcher for this purpose."""
        return get_mfa_handler(
            self.method,
            purpose=self.purpose,
            challenge_id=self.challenge_id,
            request=self.request,
        )


@dataclass(frozen=True)
class LockedRows:
    """What a caller read inside its own transaction: the user's rows, locked.

    ``backup`` is the backup code candidate read along with them (login step 2);
    ``writes`` collects the method row's success write for the caller to send
    with its own (login step 2, see :mod:`trench_mfa.state.step_writes`).
    """

    rows: Sequence[MFAMethod]
    backup: backup_codes.BackupCandidate | None = None
    writes: StepWrites | None = None


@sensitive_variables()
def verify_factor(check: FactorCheck) -> Outcome:
    """Check a code under the back-off and lockout, in a transaction of its own.

    A malformed code is refused (see :func:`require_well_formed`) and counts
    nothing; a refused check returns ``THROTTLED``/``LOCKED`` with
    ``retry_after`` (call :meth:`Outcome.raise_if_refused`). Errors of the
    method itself (e.g. a YubiKey server that does not answer: 503)
    propagate and count nothing. Never raises for a wrong code: the caller
    chooses the error (401 at login, 400 elsewhere).
    """
    handler = check.dispatcher()
    formats = require_well_formed(handler, check.code, allow_backup=check.backups_allowed)
    # A savepoint keeps an outer transaction (ATOMIC_REQUESTS) usable after a
    # method error such as a 503.
    with transaction.atomic():
        rows = lock_methods(check.user.pk)
        return _verify(check, handler, formats, LockedRows(rows))


@sensitive_variables()
def verify_locked(check: FactorCheck, locked: LockedRows) -> Outcome:
    """:func:`verify_factor` inside the caller's transaction, which holds ``locked.rows``.

    Login step 2 reads the rows with the challenge, in one statement; the
    check then joins its transaction, so the caller's own writes commit or
    roll back with it.
    """
    handler = check.dispatcher()
    formats = require_well_formed(handler, check.code, allow_backup=check.backups_allowed)
    return _verify(check, handler, formats, locked)


@sensitive_variables()
def _verify(
    check: FactorCheck,
    handler: AbstractMessageDispatcher,
    formats: tuple[bool, bool],
    locked: LockedRows,
) -> Outcome:
    """Steps 2 to 4 (see the module), under the locks of ``locked.rows``."""
    method_format, backup_format = formats
    rows, method = locked.rows, check.method
    row = next((r for r in rows if r.pk == method.pk), None)
    current = row or method
    refusal = backoff.check_attempt(current, rows)
    staged = None
    if refusal is not None:
        result = Result.LOCKED if refusal.locked else Result.THROTTLED
    elif check.active_required and (row is None or not row.is_active):
        # Deactivated since the caller read it (a parallel request): the state
        # under the lock decides, so nothing verifies any more.
        result = Result.INVALID
    else:
        answer = handler.check_code(check.code) if method_format else None
        if answer is not None and answer.ok:
            result, staged = Result.VERIFIED, answer.staged
        elif backup_format and backup_codes.use_backup_code(
            check.user.pk, check.code, locked.backup
        ):
            result = Result.BACKUP_CODE
        else:
            result = Result.INVALID
    if current.is_phantom and result in (Result.VERIFIED, Result.BACKUP_CODE):
        # A decoy's row (trench_mfa.state.phantoms) runs the whole check, its
        # writes to the code's attempts included, but it never lets anyone in.
        result = Result.INVALID
    if result in (Result.VERIFIED, Result.BACKUP_CODE) and not backoff.record_success(
        current,
        rows,
        # A backup code is not a use of the method: its own row records it.
        touch=check.purpose != CodePurpose.ACTIVATION and result is Result.VERIFIED,
        staged=staged if result is Result.VERIFIED else None,
        writes=locked.writes,
    ):
        result = Result.INVALID  # the TOTP replay guard: this step was used meanwhile
    locked_now = False
    if result is Result.INVALID and (not method_format or handler.failure_counts()):
        locked_now = backoff.record_failure(current, rows)
    # Inside the transaction: the audit row commits with the state change.
    _announce(check, result, locked_now)
    return Outcome(
        result=result,
        handler=handler,
        retry_after=refusal.retry_after if refusal else None,
        locked_now=locked_now,
    )


def _announce(check: FactorCheck, result: Result, locked_now: bool) -> None:
    common = {
        "user": check.user,
        "method": check.method.name,
        "request": check.request,
        "purpose": str(check.purpose),
    }
    if result is Result.VERIFIED:
        audit.send(signals.code_verified, __name__, **common)
    elif result is Result.BACKUP_CODE:
        audit.send(signals.backup_code_used, __name__, **common)
    else:
        audit.send(signals.verification_failed, __name__, reason=result.value, **common)
    if locked_now:
        audit.send(signals.locked_out, __name__, **common)


@sensitive_variables()
def verify_protected_action(
    user: AnyUser,
    method: MFAMethod,
    code: str | None,
    *,
    request: AnyRequest = None,
) -> None:
    """Require a current code of ``method`` (or a backup code) for a sensitive change.

    Raises 400 ``otp_code_missing`` / ``code_invalid_or_expired`` or 429.
    """
    if not code:
        raise OTPCodeMissing()
    outcome = verify_factor(FactorCheck(user, method, code, CodePurpose.ACTION, request=request))
    outcome.raise_if_refused()
    if not outcome.ok:
        raise CodeInvalidOrExpired()
