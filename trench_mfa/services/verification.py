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
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from trench_mfa import signals
from trench_mfa.backends.base import AbstractMessageDispatcher
from trench_mfa.backends.provider import get_mfa_handler
from trench_mfa.exceptions import CodeInvalidOrExpired, Locked, OTPCodeMissing, Throttled
from trench_mfa.models import CodePurpose, MFAMethod
from trench_mfa.services.protection import is_plausible_code, reject_malformed_code
from trench_mfa.state import audit, backoff, backup_codes
from trench_mfa.state.locks import lock_methods
from trench_mfa.user import AnyUser

if TYPE_CHECKING:
    from django.http import HttpRequest
    from rest_framework.request import Request


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


def require_well_formed(
    handler: AbstractMessageDispatcher, code: str, *, allow_backup: bool
) -> tuple[bool, bool]:
    """(method format, backup format) of ``code``; refused when neither fits.

    The refusal counts nothing: 401 ``invalid_code`` at login, else the 400
    field error of :func:`~trench_mfa.services.protection.reject_malformed_code`.
    """
    plausible = is_plausible_code(code)
    method_format = plausible and handler.is_well_formed(code)
    backup_format = plausible and allow_backup and backup_codes.is_well_formed(code)
    if not (method_format or backup_format):
        reject_malformed_code(at_login=handler.purpose == CodePurpose.LOGIN)
    return method_format, backup_format


def _evaluate(handler: AbstractMessageDispatcher, code: str) -> bool:
    if handler.purpose == CodePurpose.ACTIVATION:
        return handler.validate_confirmation_code(code)
    return handler.validate_code(code)


def verify_factor(
    user: AnyUser,
    method: MFAMethod,
    code: str,
    *,
    purpose: CodePurpose,
    challenge_id: int | None = None,
    request: Request | HttpRequest | None = None,
    allow_backup: bool | None = None,
    require_active: bool | None = None,
    handler: AbstractMessageDispatcher | None = None,
    rows: Sequence[MFAMethod] | None = None,
    backup: backup_codes.BackupCandidate | None = None,
) -> Outcome:
    """Check ``code`` for ``method`` of ``user`` under the back-off and lockout.

    ``purpose`` selects the code (a login code only verifies with its
    ``challenge_id``); ``allow_backup`` defaults to every purpose except
    activation; ``require_active`` (default: login and protected actions)
    fails the check when the method row is not active under the lock. A
    malformed code raises a 400 field error and counts nothing; a refused
    check returns ``THROTTLED``/``LOCKED`` with
    ``retry_after`` (call :meth:`Outcome.raise_if_refused`). Errors of the
    method itself (e.g. a YubiKey server that does not answer: 503) propagate
    and count nothing. Never raises for a wrong code: the caller chooses the
    error (401 at login, 400 elsewhere).

    ``rows`` are the user's method rows when the caller already holds their
    locks inside its own transaction (login step 2 reads them with the
    challenge, in one query); the check then joins that transaction, so the
    caller's own writes commit or roll back with it. ``backup`` is the
    backup code candidate the caller read along with them.
    """
    if handler is None:
        handler = get_mfa_handler(method, purpose=purpose, challenge_id=challenge_id)
    handler.request = request
    if allow_backup is None:
        allow_backup = purpose != CodePurpose.ACTIVATION
    if require_active is None:
        # Activation confirms a pending row; identifier verification and
        # passcode logins use a user's inactive channel row (see
        # trench_mfa.services.identifiers).
        require_active = purpose not in (CodePurpose.ACTIVATION, CodePurpose.VERIFICATION)
    method_format, backup_format = require_well_formed(handler, code, allow_backup=allow_backup)
    handler.stage_writes, handler.staged = True, None
    locked_now = False
    # With ``rows`` the caller's transaction is ours (no savepoint to pay
    # for); without, a savepoint keeps an outer transaction (ATOMIC_REQUESTS)
    # usable after a method error such as a 503.
    with transaction.atomic(savepoint=rows is None):
        # The user's method rows, locked: their counters are read under the
        # locks, so parallel wrong codes all get counted and parallel right
        # codes verify once. Nothing else is read (see throttling).
        if rows is None:
            rows = lock_methods(user.pk)
        row = next((r for r in rows if r.pk == method.pk), None)
        current = row or method
        refusal = backoff.check_attempt(current, rows)
        if refusal is not None:
            result = Result.LOCKED if refusal.locked else Result.THROTTLED
        elif require_active and (row is None or not row.is_active):
            # Deactivated since the caller read it (a parallel request): the
            # state under the lock decides, so nothing verifies any more.
            result = Result.INVALID
        elif method_format and _evaluate(handler, code):
            result = Result.VERIFIED
        elif backup_format and backup_codes.use_backup_code(user.pk, code, backup):
            result = Result.BACKUP_CODE
        else:
            result = Result.INVALID
        if result in (Result.VERIFIED, Result.BACKUP_CODE) and not backoff.record_success(
            current,
            rows,
            # A backup code is not a use of the method: its own row records it.
            touch=purpose != CodePurpose.ACTIVATION and result is Result.VERIFIED,
            staged=handler.staged if result is Result.VERIFIED else None,
        ):
            result = Result.INVALID  # the TOTP replay guard: this step was used meanwhile
        if result is Result.INVALID and (not method_format or handler.failure_counts()):
            locked_now = backoff.record_failure(current, rows)
        # Inside the transaction: the audit row commits with the state change.
        _announce(user, method.name, purpose, request, result, locked_now)
    return Outcome(
        result=result,
        handler=handler,
        retry_after=refusal.retry_after if refusal else None,
        locked_now=locked_now,
    )


def _announce(
    user: AnyUser,
    name: str,
    purpose: CodePurpose,
    request: Request | HttpRequest | None,
    result: Result,
    locked_now: bool,
) -> None:
    common = {"user": user, "method": name, "request": request, "purpose": str(purpose)}
    if result is Result.VERIFIED:
        audit.send(signals.code_verified, __name__, **common)
    elif result is Result.BACKUP_CODE:
        audit.send(signals.backup_code_used, __name__, **common)
    else:
        audit.send(signals.verification_failed, __name__, reason=result.value, **common)
    if locked_now:
        audit.send(signals.locked_out, __name__, **common)


def verify_protected_action(
    user: AnyUser,
    method: MFAMethod,
    code: str | None,
    *,
    request: Request | HttpRequest | None = None,
) -> None:
    """Require a current code of ``method`` (or a backup code) for a sensitive change.

    Raises 400 ``otp_code_missing`` / ``code_invalid_or_expired`` or 429.
    """
    if not code:
        raise OTPCodeMissing()
    outcome = verify_factor(user, method, code, purpose=CodePurpose.ACTION, request=request)
    outcome.raise_if_refused()
    if not outcome.ok:
        raise CodeInvalidOrExpired()
