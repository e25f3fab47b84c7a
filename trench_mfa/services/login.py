"""Two-step login: password first, then a code of the challenged method."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.contrib.auth import authenticate, get_user_model
from django.utils import timezone

from trench_mfa import signals, tokens
from trench_mfa.backends.base import DispatchResult
from trench_mfa.backends.provider import get_mfa_handler
from trench_mfa.conf import mfa_settings
from trench_mfa.exceptions import InvalidCode, InvalidToken, MethodDoesNotExist, Unauthenticated
from trench_mfa.models import CodePurpose, LoginChallenge, MFAMethod
from trench_mfa.services import backup_codes
from trench_mfa.services.delivery import deliver
from trench_mfa.services.protection import reject_malformed_code
from trench_mfa.user import AnyUser

if TYPE_CHECKING:
    from django.http import HttpRequest


@dataclass
class LoginStep:
    """The outcome of a login step: either a user to issue tokens for, or a challenge."""

    user: AnyUser
    ephemeral_token: str | None = None
    method: str | None = None
    other_methods: list[str] = field(default_factory=list)

    @property
    def needs_code(self) -> bool:
        """Whether the client must answer a challenge before getting tokens."""
        return self.ephemeral_token is not None


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
        return LoginStep(user=user)
    usable = [m for m in active if mfa_settings.method(m.name) is not None]
    if not usable:
        # MFA is on but no method is configured any more: fail closed.
        raise MethodDoesNotExist()
    chosen = usable[0]
    chosen.user = user
    token, challenge = tokens.issue_token(user, chosen.name)
    handler = get_mfa_handler(chosen, purpose=CodePurpose.LOGIN, challenge_id=challenge.pk)
    handler.request = request
    deliver(handler)
    return LoginStep(
        user=user,
        ephemeral_token=token,
        method=chosen.name,
        other_methods=[m.name for m in usable[1:]],
    )


def _challenged_method(challenge: LoginChallenge, name: str | None) -> MFAMethod | None:
    name = name or challenge.method
    if mfa_settings.method(name) is None:
        return None
    method = MFAMethod.objects.for_user(challenge.user).active().filter(name=name).first()
    if method is not None:
        method.user = challenge.user
    return method


def complete_login(token: str, code: str, method_name: str | None = None) -> AnyUser:
    """Verify the code of the challenged (or named) method, or a backup code."""
    challenge = tokens.resolve_token(token)
    user = challenge.user
    method = _challenged_method(challenge, method_name)
    if method is None:
        tokens.record_failure(challenge)
        raise InvalidCode()
    handler = get_mfa_handler(method, purpose=CodePurpose.LOGIN, challenge_id=challenge.pk)
    method_format = handler.is_well_formed(code)
    backup_format = backup_codes.is_well_formed(code)
    if not (method_format or backup_format):
        reject_malformed_code()
    # No surrounding transaction: each step is one conditional UPDATE, and a
    # failure must stay counted even though an error is raised afterwards.
    verified = method_format and handler.validate_code(code)
    used_backup = not verified and backup_format and backup_codes.use_backup_code(user.pk, code)
    if not (verified or used_backup):
        tokens.record_failure(challenge)
        signals.verification_failed.send(sender=__name__, user=user, method=method.name)
        raise InvalidCode()
    if not tokens.consume_challenge(challenge):
        raise InvalidToken()
    MFAMethod.objects.filter(pk=method.pk).update(last_used_at=timezone.now())
    if used_backup:
        signals.backup_code_used.send(sender=__name__, user=user, method=None)
    else:
        signals.code_verified.send(sender=__name__, user=user, method=method.name)
    return user


def resend_login_code(token: str, method_name: str | None = None) -> DispatchResult:
    """Send the login code again (or for another active method of the user)."""
    challenge = tokens.resolve_token(token)
    method = _challenged_method(challenge, method_name)
    if method is None:
        raise InvalidCode()
    if method.name != challenge.method:
        LoginChallenge.objects.filter(pk=challenge.pk).update(method=method.name)
    handler = get_mfa_handler(method, purpose=CodePurpose.LOGIN, challenge_id=challenge.pk)
    return deliver(handler)
