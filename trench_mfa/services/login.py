"""Two-step login: password first, then a code of the challenged method."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.contrib.auth import authenticate, get_user_model

from trench_mfa import tokens
from trench_mfa.amr import PASSWORD, VerifiedFactor
from trench_mfa.backends.base import DispatchResult
from trench_mfa.backends.provider import get_mfa_handler
from trench_mfa.conf import mfa_settings
from trench_mfa.exceptions import (
    InvalidCode,
    InvalidToken,
    MethodDoesNotExist,
    MFAError,
    Unauthenticated,
)
from trench_mfa.models import CodePurpose, LoginChallenge, MFAMethod
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
    """
    challenge = tokens.resolve_token(token)
    if challenge.factors:
        raise InvalidToken()  # a flow login, but FLOWS is off now: start again
    user = challenge.user
    method = _challenged_method(challenge, method_name)
    if method is None:
        tokens.record_failure(challenge)
        raise InvalidCode()
    outcome = answer_challenge(challenge, method, code, request=request)
    if not tokens.consume_challenge(challenge):
        raise InvalidToken()
    return CompletedLogin(user, method.name, outcome.used_backup_code)


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

    Shared by every login step that answers a code (django-trench's step 2
    and each factor of a login flow). ``require_active=False`` lets the
    inactive channel row of a ``passcode`` factor answer.
    """
    handler = get_mfa_handler(method, purpose=CodePurpose.LOGIN, challenge_id=challenge.pk)
    require_well_formed(handler, code, allow_backup=allow_backup)  # 400 before anything counts
    # The token's attempt is taken before the check, atomically: parallel
    # requests cannot get more than MAX_CODE_ATTEMPTS answers evaluated.
    if not tokens.reserve_attempt(challenge):
        raise InvalidToken()
    try:
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
        )
    except Exception:
        tokens.refund_attempt(challenge)  # e.g. the YubiKey server is down (503)
        raise
    if outcome.result in (Result.THROTTLED, Result.LOCKED):
        tokens.refund_attempt(challenge)  # refused unevaluated
        outcome.raise_if_refused()
    if not outcome.ok:
        raise InvalidCode()
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
