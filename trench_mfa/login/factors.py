"""The code factors of a login: open the challenge, answer the current factor, resend.

The challenge row (:class:`~trench_mfa.models.LoginChallenge`) remembers the
flow, the factors still to answer (the current one first) and those done.
django-trench's login has one factor, the user's primary method (another
active method may answer it when named, and a backup code always may).
Each answer is checked by :func:`~trench_mfa.services.verification.verify_factor`,
so codes, back-off, lockout and audit are those of every other check.
``passcode`` factors use the identifier's channel row (see
:mod:`trench_mfa.services.identifiers`) and accept no backup code. Every
answer but the last carries the same ephemeral token and names the next
factor; the last one uses the token up.

An answer is one transaction: one statement reads the challenge, the user,
the user's method rows (locked) and the backup code candidate
(:func:`trench_mfa.state.tokens.resolve_locked`); the check, the token's use or
failure count and the audit row are written and committed together. The
next factor's code is sent after the commit.

A decoy (a challenge without a user, :mod:`trench_mfa.login.decoys`) goes
through the same functions: its phantom row stands where the user's channel
row stands, read and locked in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import router, transaction
from django.views.decorators.debug import sensitive_variables

from trench_mfa.backends.base import DispatchResult
from trench_mfa.backends.provider import get_mfa_handler
from trench_mfa.conf import mfa_settings
from trench_mfa.dispatch.delivery import deliver
from trench_mfa.exceptions import (
    InvalidCode,
    InvalidToken,
    Locked,
    MethodDoesNotExist,
    MFAError,
    Throttled,
)
from trench_mfa.flows import MFA_FACTOR, PASSCODE_FACTOR, Factor, Flow
from trench_mfa.login import decoys
from trench_mfa.login.amr import VerifiedFactor
from trench_mfa.login.steps import FactorPlan, LoginStep, knowledge
from trench_mfa.models import CodePurpose, LoginChallenge, MFAMethod
from trench_mfa.services import identifiers
from trench_mfa.services.protection import usable_methods
from trench_mfa.services.verification import (
    FactorCheck,
    LockedRows,
    Outcome,
    Result,
    verify_locked,
)
from trench_mfa.state import audit, backup_codes, tokens
from trench_mfa.state.step_writes import StepWrites
from trench_mfa.user import AnyRequest, AnyUser


def code_factors(flow: Flow, user: AnyUser) -> FactorPlan | None:
    """What ``user`` must answer in ``flow``; ``None`` when they cannot answer it.

    A flow without code factors (django-trench's login) gets the primary MFA
    method, or nothing when MFA is off; MFA on with no configured method
    left fails closed.
    """
    if flow.factors:
        named = [f.method for f in flow.factors if f.kind != PASSCODE_FACTOR]
        # Read only when a method factor needs it: a passwordless flow's real
        # step 1 must cost what its decoy costs (see decoys).
        if named and not set(named) <= {m.name for m in usable_methods(user)}:
            return None
        return FactorPlan(list(flow.factors))
    usable = usable_methods(user)
    if usable:
        primary = usable[0]
        primary.user = user
        return FactorPlan(
            [Factor(MFA_FACTOR, primary.name)], [m.name for m in usable[1:]], first_row=primary
        )
    if MFAMethod.objects.for_user(user).active().exists():
        raise MethodDoesNotExist()  # MFA is on but nothing usable: fail closed
    return FactorPlan([])


def _factor_row(user: AnyUser, kind: str, name: str) -> MFAMethod | None:
    """The row whose code answers a factor: the channel row for a passcode."""
    if kind == PASSCODE_FACTOR:
        return identifiers.channel_method(user, name)
    if mfa_settings.method(name) is None:
        return None
    method = MFAMethod.objects.for_user(user).active().filter(name=name).first()
    if method is not None:
        method.user = user
    return method


def _send(request: AnyRequest, challenge_id: int, method: MFAMethod) -> DispatchResult:
    result = deliver(
        get_mfa_handler(
            method, purpose=CodePurpose.LOGIN, challenge_id=challenge_id, request=request
        )
    )
    if method.is_phantom:
        decoys.imitate_audit(challenge_id)
    return result


@sensitive_variables()
def open_challenge(
    request: AnyRequest, flow: Flow, user: AnyUser | None, plan: FactorPlan
) -> LoginStep:
    """Tokens when ``plan`` has no factor, else a challenge with the first factor's code sent.

    ``user=None`` opens a decoy (:mod:`trench_mfa.login.decoys`): the plan's
    first row is then a phantom row.
    """
    if not plan.factors:
        return LoginStep(user=user, verified=knowledge(flow.label))
    current = plan.factors[0]
    stored = [f.as_json() for f in plan.factors]
    stored[0].update(plan.first_data)
    token, challenge = tokens.issue_token(user, current.method, flow=flow.label, factors=stored)
    method = plan.first_row or _factor_row(user, current.kind, current.method)
    try:
        if method is None:  # pragma: no cover - code_factors checked it
            raise MethodDoesNotExist()
        sent = _send(request, challenge.pk, method)
    except MFAError:
        # No token reaches the client: the challenge row must not outlive it.
        LoginChallenge.objects.filter(pk=challenge.pk).delete()
        raise
    return LoginStep(
        user=user,
        ephemeral_token=token,
        method=current.method,
        other_methods=plan.other_methods,
        factors_remaining=[f.method for f in plan.factors[1:]],
        extra=dict(sent.extra),
    )


def _factors_of(challenge: LoginChallenge) -> list[Factor]:
    """The factors left; a challenge that recorded none is django-trench's one factor."""
    if not challenge.factors:
        return [Factor(MFA_FACTOR, challenge.method)]
    return [Factor.from_json(f) for f in challenge.factors]


def _answering_name(challenge: LoginChallenge, current: Factor, named: str | None) -> str | None:
    """The method answering ``current``: the challenged one, or another active one for MFA."""
    if not named or named == challenge.method:
        return challenge.method
    return named if current.kind == MFA_FACTOR else None


def _row_in(rows: list[MFAMethod], kind: str, name: str) -> MFAMethod | None:
    """The locked row answering a factor: an active, configured method, or a channel row.

    A decoy's phantom row answers any factor; never being active, it fails
    every method factor's check, with the back-off of a real failure.
    """
    if kind != PASSCODE_FACTOR and mfa_settings.method(name) is None:
        return None
    return next(
        (
            r
            for r in rows
            if r.name == name and (r.is_active or kind == PASSCODE_FACTOR or r.is_phantom)
        ),
        None,
    )


@sensitive_variables()
def _check(
    check: FactorCheck, challenge: LoginChallenge, locked: LockedRows, *, consume: bool
) -> tuple[MFAError | None, Outcome]:
    """Check the answer inside the caller's transaction; the error to raise after it.

    Raises (rolling the transaction back) only when nothing may count: a
    malformed code, a failing method (e.g. 503), or a token that a parallel
    request used up meanwhile. ``consume`` marks the challenge used on
    success, in the same transaction.
    """
    outcome = verify_locked(check, locked)
    if outcome.result in (Result.THROTTLED, Result.LOCKED):
        # Refused unevaluated: the token's attempts are untouched.
        wait = outcome.retry_after or 1
        return (Locked(wait) if outcome.result is Result.LOCKED else Throttled(wait)), outcome
    if outcome.ok:
        # The token must still be answerable (the method rows' locks serialise
        # the answers of one user, but the challenge was read before them).
        if not (
            tokens.consume_challenge(challenge, locked.writes)
            if consume
            else tokens.is_answerable(challenge)
        ):
            raise InvalidToken()
        return None, outcome
    if not tokens.record_failure(challenge):
        raise InvalidToken()
    return InvalidCode(), outcome


@dataclass
class _Answered:
    """What an answer inside the transaction leads to."""

    error: MFAError | None = None
    step: LoginStep | None = None
    #: The next factor's (kind, method), whose code is sent after the commit.
    send_next: Factor | None = None


@sensitive_variables()
def _with_users_mfa(
    challenge: LoginChallenge, left: list[Factor], rows: list[MFAMethod]
) -> list[Factor]:
    """``left``, plus the user's primary method when no factor of the login is one of theirs.

    A user who turned MFA on answers one of their active methods in every
    flow: a passwordless flow whose only factor is a passcode to the login
    address would otherwise let whoever controls that address (a stolen
    session can confirm a new one) skip the user's app, SMS or YubiKey.
    Decided when the last factor is reached, from the locked rows, so step
    1 costs the same for every identifier and only a right passcode learns
    that more is needed. Decoys' phantom rows are never active.
    """
    if len(left) != 1:
        return left
    active = sorted(
        (r for r in rows if r.is_active and mfa_settings.method(r.name) is not None),
        key=lambda r: (not r.is_primary, r.pk),
    )
    if not active:
        return left
    answered = {VerifiedFactor.from_done(e).method for e in challenge.done}
    names = {r.name for r in active}
    if left[0].method in names or answered & names:
        return left
    return [*left, Factor(MFA_FACTOR, active[0].name)]


def _answer_current(
    read: tokens.LockedChallenge,
    code: str,
    named: str | None,
    request: AnyRequest,
    writes: StepWrites,
) -> _Answered:
    challenge = read.challenge
    left = _with_users_mfa(challenge, _factors_of(challenge), read.rows)
    current = left[0]
    name = _answering_name(challenge, current, named)
    row = _row_in(read.rows, current.kind, name) if name else None
    if row is None:
        if not tokens.record_failure(challenge):
            raise InvalidToken()
        return _Answered(error=InvalidCode())
    last = len(left) == 1
    passcode = current.kind == PASSCODE_FACTOR
    check = FactorCheck(
        row.user,  # the challenge's user; a decoy's stand-in on a phantom row
        row,
        code,
        CodePurpose.LOGIN,
        challenge_id=challenge.pk,
        request=request,
        allow_backup=not passcode,
        require_active=not passcode,
    )
    locked = LockedRows(read.rows, None if passcode else read.backup, writes)
    error, outcome = _check(check, challenge, locked, consume=last)
    if error is not None:
        return _Answered(error=error)
    assert name is not None
    answered = VerifiedFactor.code(
        name, backup_code=outcome.used_backup_code, amr=outcome.handler.answer_amr()
    )
    if last:
        codes = (*(VerifiedFactor.from_done(e) for e in challenge.done), answered)
        verified = (*knowledge(challenge.flow), *codes)
        return _Answered(step=LoginStep(user=challenge.user, verified=verified))
    rest = left[1:]
    following = rest[0]
    remaining = [f.as_json() for f in rest]
    done = answered.as_done()
    if not tokens.advance_challenge(challenge, following.method, remaining, done=done):
        raise InvalidToken()
    return _Answered(send_next=following)


@sensitive_variables()
def answer(
    token: str, code: str, method_name: str | None = None, *, request: AnyRequest = None
) -> LoginStep:
    """Answer the current factor: the next factor's challenge, or the user for tokens.

    A wrong code counts against the method (back-off and lockout: 429) and
    the token, which dies after ``MAX_CODE_ATTEMPTS`` of them (401
    ``invalid_token``); a wrong code is 401 ``invalid_code``.
    """
    db = router.db_for_write(MFAMethod)
    with transaction.atomic(using=db):
        read = tokens.resolve_locked(
            token, backup_bucket=backup_codes.bucket_of(code), allow_decoy=True
        )
        if read.challenge.user_id is None:
            read = decoys.with_phantom(read)
        challenge = read.challenge
        # The method row's, the challenge's and the audit row's writes go
        # out together at the end (one round trip on PostgreSQL).
        writes = StepWrites(db)
        with audit.deferred_to(writes):
            answered = _answer_current(read, code, method_name, request, writes)
        writes.flush()
    # Raised after the commit: a wrong code's counts must stay written.
    if answered.error is not None:
        raise answered.error
    if answered.step is not None:
        return answered.step
    following = answered.send_next
    assert following is not None
    user = challenge.user
    nxt = _factor_row(user, following.kind, following.method)
    if nxt is None:
        raise MethodDoesNotExist()  # deactivated meanwhile: fail closed
    sent = _send(request, challenge.pk, nxt)
    rest = _factors_of(challenge)[2:]
    others = []
    if following.kind == MFA_FACTOR:
        others = [m.name for m in usable_methods(user) if m.name != following.method]
    return LoginStep(
        user=user,
        ephemeral_token=token,
        method=following.method,
        other_methods=others,
        factors_remaining=[f.method for f in rest],
        extra=dict(sent.extra),
    )


@sensitive_variables()
def resend(
    token: str, method_name: str | None = None, *, request: AnyRequest = None
) -> DispatchResult:
    """Send the current factor's code again (or another active method's, for MFA)."""
    challenge = tokens.resolve_token(token, allow_decoy=True)
    current = _factors_of(challenge)[0]
    name = _answering_name(challenge, current, method_name)
    if not name:
        method = None
    elif challenge.user_id is None:
        method = decoys.phantom_row(challenge)
    else:
        method = _factor_row(challenge.user, current.kind, name)
    if method is None:
        raise InvalidCode()
    if name != challenge.method:
        LoginChallenge.objects.filter(pk=challenge.pk).update(method=name)
    return _send(request, challenge.pk, method)
