"""Two-step login: password first, then a code of the challenged method."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.contrib.auth import authenticate, get_user_model
from django.db import transaction

from trench_mfa import tokens
from trench_mfa.amr import PASSWORD, VerifiedFactor
from trench_mfa.backends.base import DispatchResult
from trench_mfa.backends.provider import get_mfa_handler
from trench_mfa.conf import mfa_settings
from trench_mfa.exceptions import (
    InvalidCode,
    InvalidToken,
    Locked,
    MethodDoesNotExist,
    MFAError,
    Throttled,
    Unauthenticated,
)
from trench_mfa.models import CodePurpose, LoginChallenge, MFAMethod
from trench_mfa.services import backup_codes
from trench_mfa.services.delivery import deliver
from trench_mfa.services.verification import Outcome, Result, require_well_formed, verify_factor
from trench_mfa.user import AnyUser

if TYPE_CHECKING:
    from django.http import HttpRequest
    from rest_framework.request import Request


@dataclass
class LoginStep:
    """The outcome of a login step: either a user to issue tokens for, or a challenge."""

    user: AnyUser
    ephemeral_token: str | None = None
    method: str | None = None
    other_methods: list[str] = field(default_factory=list)
    #: Code factors still to answer after ``method`` (login flows; else empty).
    factors_remaining: list[str] = field(default_factory=list)
    #: What the login verified, once it issues tokens (their ``amr`` claim).
    verified: tuple[VerifiedFactor, ...] = ()

    @property
    def needs_code(self) -> bool:
        """Whether the client must answer a challenge before getting tokens."""
        return self.ephemeral_token is not None


@dataclass(frozen=True)
class CompletedLogin:
    """What :func:`complete_login` verified: the user, and the code that answered."""

    user: AnyUser
    method: str
    used_backup_code: bool = False

    @property
    def verified(self) -> tuple[VerifiedFactor, ...]:
        """The password of step 1 and the code (or backup code) of step 2."""
        code = VerifiedFactor.code(self.method, backup_code=self.used_backup_code)
        return (VerifiedFactor.secret(PASSWORD), code)


def start_login(request: HttpRequest | None, username: str, password: str) -> LoginStep:
    """Check the password; challenge the primary method when MFA is on.

    Unknown users, wrong passwords and inactive users raise the same error
    and cost one password hash each (Django runs a dummy hash for unknown
    users).
    """
    credentials = {get_user_model().USERNAME_FIELD: username, "password": password}
    user = authenticate(request, **credentials)
    if user is None or not getattr(user, mfa_settings.USER_ACTIVE_FIELD, False):
        raise Unauthenticated()
    active = list(MFAMethod.objects.for_user(user).active().order_by("-is_primary", "created_at"))
    if not active:
        return LoginStep(user=user, verified=(VerifiedFactor.secret(PASSWORD),))
    usable = [m for m in active if mfa_settings.method(m.name) is not None]
    if not usable:
        # MFA is on but no method is configured any more: fail closed.
        raise MethodDoesNotExist()
    chosen = usable[0]
    chosen.user = user
    token, challenge = tokens.issue_token(user, chosen.name)
    handler = get_mfa_handler(chosen, purpose=CodePurpose.LOGIN, challenge_id=challenge.pk)
    handler.request = request
    try:
        deliver(handler)
    except MFAError:
        # No token reaches the client: the challenge row must not outlive it.
        LoginChallenge.objects.filter(pk=challenge.pk).delete()
        raise
    return LoginStep(
        user=user,
        ephemeral_token=token,
        method=chosen.name,
        other_methods=[m.name for m in usable[1:]],
    )


def _challenged_method(challenge: LoginChallenge, name: str | None) -> MFAMethod | None:
    name = name or challenge.method
    user = challenge.user
    if user is None or mfa_settings.method(name) is None:
        return None  # no user: a decoy of a passwordless flow
    method = MFAMethod.objects.for_user(user).active().filter(name=name).first()
    if method is not None:
        method.user = user
    return method


def _pick(rows: list[MFAMethod], challenge: LoginChallenge, name: str | None) -> MFAMethod | None:
    """The active method row that answers ``challenge`` (or the one named)."""
    name = name or challenge.method
    if mfa_settings.method(name) is None:
        return None
    return next((r for r in rows if r.name == name and r.is_active), None)


def complete_login(
    token: str,
    code: str,
    method_name: str | None = None,
    *,
    request: Request | HttpRequest | None = None,
) -> CompletedLogin:
    """Verify the code of the challenged (or named) method, or a backup code.

    The check runs through :func:`~trench_mfa.services.verification.verify_factor`
    (back-off and lockout: 429); a wrong code also counts against the
    ephemeral token, which dies after ``MAX_CODE_ATTEMPTS`` of them.

    One transaction: one query reads the challenge, the user, the user's
    method rows (locked) and the unused backup code in the submitted code's
    bucket; then the check, the token's use or failure count and the audit
    row are written and committed together.
    """
    with transaction.atomic():
        read = tokens.resolve_locked(token, backup_bucket=backup_codes.bucket_of(code))
        challenge, rows = read.challenge, read.rows
        if challenge.factors:
            raise InvalidToken()  # a flow login, but FLOWS is off now: start again
        method = _pick(rows, challenge, method_name)
        if method is None:
            if not tokens.record_failure(challenge):
                raise InvalidToken()
            error: MFAError | None = InvalidCode()
            used_backup = False
        else:
            error, outcome = _answer(
                challenge,
                method,
                code,
                request=request,
                rows=rows,
                backup=read.backup,
                consume=True,
            )
            used_backup = outcome.used_backup_code
    # Raised after the commit: a wrong code's counts must stay written.
    if error is not None or method is None:
        raise error or InvalidCode()
    return CompletedLogin(challenge.user, method.name, used_backup)


def _answer(
    challenge: LoginChallenge,
    method: MFAMethod,
    code: str,
    *,
    request: Request | HttpRequest | None,
    allow_backup: bool = True,
    require_active: bool = True,
    rows: list[MFAMethod] | None = None,
    backup: backup_codes.BackupCandidate | None = None,
    consume: bool = False,
) -> tuple[MFAError | None, Outcome]:
    """Check ``code`` inside the caller's transaction; the error to raise after it.

    Raises (rolling the transaction back) only when nothing may count: a
    malformed code (400), a failing method (e.g. 503), or a token that a
    parallel request used up meanwhile. ``consume`` marks the challenge used
    on success, in the same transaction.
    """
    handler = get_mfa_handler(method, purpose=CodePurpose.LOGIN, challenge_id=challenge.pk)
    outcome = verify_factor(
        challenge.user,
        method,
        code,
        purpose=CodePurpose.LOGIN,
        challenge_id=challenge.pk,
        request=request,
        allow_backup=allow_backup,
        require_active=require_active,
        handler=handler,
        rows=rows,
        backup=backup,
    )
    if outcome.result in (Result.THROTTLED, Result.LOCKED):
        # Refused unevaluated: the token's attempts are untouched.
        wait = outcome.retry_after or 1
        return (Locked(wait) if outcome.result is Result.LOCKED else Throttled(wait)), outcome
    if outcome.ok:
        # The token must still be answerable (the method rows' locks serialise
        # the answers of one user, but the challenge was read before them).
        if not (
            tokens.consume_challenge(challenge) if consume else tokens.is_answerable(challenge)
        ):
            raise InvalidToken()
        return None, outcome
    if not tokens.record_failure(challenge):
        raise InvalidToken()
    return InvalidCode(), outcome


def answer_challenge(
    challenge: LoginChallenge,
    method: MFAMethod,
    code: str,
    *,
    request: Request | HttpRequest | None = None,
    allow_backup: bool = True,
    require_active: bool = True,
) -> Outcome:
    """Check ``code`` of ``method`` for ``challenge``; raise unless it verified.

    Used by each factor of a login flow (django-trench's step 2 is
    :func:`complete_login`). ``require_active=False`` lets the inactive
    channel row of a ``passcode`` factor answer. A wrong code counts against
    the method and the token; the caller moves the challenge on.
    """
    handler = get_mfa_handler(method, purpose=CodePurpose.LOGIN, challenge_id=challenge.pk)
    require_well_formed(handler, code, allow_backup=allow_backup)  # 400 before anything counts
    with transaction.atomic():
        error, outcome = _answer(
            challenge,
            method,
            code,
            request=request,
            allow_backup=allow_backup,
            require_active=require_active,
        )
    if error is not None:
        raise error
    return outcome  # verified; ``used_backup_code`` tells which way


def resend_login_code(
    token: str,
    method_name: str | None = None,
    *,
    request: Request | HttpRequest | None = None,
) -> DispatchResult:
    """Send the login code again (or for another active method of the user)."""
    challenge = tokens.resolve_token(token)
    if challenge.factors:
        raise InvalidToken()  # a flow login, but FLOWS is off now: start again
    method = _challenged_method(challenge, method_name)
    if method is None:
        raise InvalidCode()
    if method.name != challenge.method:
        LoginChallenge.objects.filter(pk=challenge.pk).update(method=method.name)
    handler = get_mfa_handler(method, purpose=CodePurpose.LOGIN, challenge_id=challenge.pk)
    handler.request = request
    return deliver(handler)
