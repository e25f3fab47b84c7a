"""The code factors of a flow login: open the challenge, answer each factor, resend.

The challenge row (:class:`~trench_mfa.models.LoginChallenge`) remembers the
flow, the factors still to answer (the current one first) and those done.
Each factor's code is checked by
:func:`~trench_mfa.services.verification.verify_factor`, so codes, back-off,
lockout and audit are those of every other check. ``passcode`` factors use
the identifier's channel row (see :mod:`trench_mfa.services.identifiers`)
and accept no backup code; method factors and the MFA method added on top
accept backup codes, as django-trench's step 2 does. Every answer but the
last carries the same ephemeral token and names the next factor.

The last answer's :class:`~trench_mfa.services.login.LoginStep` lists what
the login verified (for the tokens' ``amr`` claim): the flow's knowledge
secrets, read from the challenge's flow label, and the code factors, kept in
the challenge's ``done`` list between steps (see
:meth:`~trench_mfa.amr.VerifiedFactor.as_done`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trench_mfa import tokens
from trench_mfa.amr import VerifiedFactor
from trench_mfa.backends.base import DispatchResult
from trench_mfa.backends.provider import get_mfa_handler
from trench_mfa.conf import mfa_settings
from trench_mfa.exceptions import InvalidCode, InvalidToken, MethodDoesNotExist, MFAError
from trench_mfa.flows import KNOWLEDGE_SECRETS, MFA_FACTOR, PASSCODE_FACTOR, Factor, Flow
from trench_mfa.models import CodePurpose, LoginChallenge, MFAMethod
from trench_mfa.services import decoys, identifiers, login
from trench_mfa.services.delivery import deliver
from trench_mfa.services.login import LoginStep
from trench_mfa.user import AnyUser

if TYPE_CHECKING:
    from django.http import HttpRequest
    from rest_framework.request import Request

    AnyRequest = Request | HttpRequest | None


def _usable_active(user: AnyUser) -> list[MFAMethod]:
    active = MFAMethod.objects.for_user(user).active().order_by("-is_primary", "created_at")
    return [m for m in active if mfa_settings.method(m.name) is not None]


def code_factors(flow: Flow, user: AnyUser) -> list[Factor] | None:
    """The factors ``user`` must answer, or ``None`` when they cannot answer them."""
    if flow.factors:
        named = [f.method for f in flow.factors if f.kind != PASSCODE_FACTOR]
        if named and not set(named) <= {m.name for m in _usable_active(user)}:
            return None
        return list(flow.factors)
    usable = _usable_active(user)
    if usable:
        return [Factor(MFA_FACTOR, usable[0].name)]
    if MFAMethod.objects.for_user(user).active().exists():
        raise MethodDoesNotExist()  # MFA is on but nothing usable: fail closed
    return []


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
    handler = get_mfa_handler(method, purpose=CodePurpose.LOGIN, challenge_id=challenge_id)
    handler.request = request
    return deliver(handler)


def _step(user: AnyUser, token: str, current: Factor, rest: list[Factor]) -> LoginStep:
    others = []
    if current.kind == MFA_FACTOR:
        others = [m.name for m in _usable_active(user) if m.name != current.method]
    return LoginStep(
        user=user,
        ephemeral_token=token,
        method=current.method,
        other_methods=others,
        factors_remaining=[f.method for f in rest],
    )


def _knowledge(label: str) -> tuple[VerifiedFactor, ...]:
    """The knowledge secrets of the flow labelled ``label`` (``identifier+secret+...``)."""
    secrets = label.split("+")[1:]
    return tuple(VerifiedFactor.secret(s) for s in secrets if s in KNOWLEDGE_SECRETS)


def open_challenge(
    request: AnyRequest, flow: Flow, user: AnyUser, factors: list[Factor]
) -> LoginStep:
    """Tokens when ``factors`` is empty, else a challenge with the first factor's code sent."""
    if not factors:
        return LoginStep(user=user, verified=_knowledge(flow.label))
    current = factors[0]
    token, challenge = tokens.issue_token(
        user, current.method, flow=flow.label, factors=[f.as_json() for f in factors]
    )
    method = _factor_row(user, current.kind, current.method)
    try:
        if method is None:  # pragma: no cover - code_factors checked it
            raise MethodDoesNotExist()
        _send(request, challenge.pk, method)
    except MFAError:
        # No token reaches the client: the challenge row must not outlive it.
        LoginChallenge.objects.filter(pk=challenge.pk).delete()
        raise
    return _step(user, token, current, factors[1:])


def _current(challenge: LoginChallenge, method_name: str | None) -> tuple[Factor, str]:
    """The current factor and the method answering it (another active one for MFA)."""
    factor = Factor.from_json(challenge.factors[0])
    name = challenge.method
    if method_name and method_name != name:
        if factor.kind != MFA_FACTOR:
            raise InvalidCode()
        name = method_name
    return factor, name


def advance_login(
    token: str, code: str, method_name: str | None = None, *, request: AnyRequest = None
) -> LoginStep:
    """Answer the current factor: the next factor's challenge, or the user for tokens."""
    challenge = tokens.resolve_token(token, allow_decoy=True)
    if challenge.user_id is None:
        decoys.answer(challenge, code, method_name)
    if not challenge.factors:
        # A challenge issued before FLOWS was set: django-trench's step 2.
        completed = login.complete_login(token, code, method_name, request=request)
        return LoginStep(user=completed.user, verified=completed.verified)
    user = challenge.user
    try:
        factor, name = _current(challenge, method_name)
    except InvalidCode:
        tokens.record_failure(challenge)
        raise
    method = _factor_row(user, factor.kind, name)
    if method is None:
        tokens.record_failure(challenge)
        raise InvalidCode()
    passcode = factor.kind == PASSCODE_FACTOR
    outcome = login.answer_challenge(
        challenge,
        method,
        code,
        request=request,
        allow_backup=not passcode,
        require_active=not passcode,
    )
    answered = VerifiedFactor.code(name, backup_code=outcome.used_backup_code)
    rest = [Factor.from_json(f) for f in challenge.factors[1:]]
    if not rest:
        if not tokens.consume_challenge(challenge):
            raise InvalidToken()
        codes = (*(VerifiedFactor.from_done(e) for e in challenge.done), answered)
        return LoginStep(user=user, verified=(*_knowledge(challenge.flow), *codes))
    following = rest[0]
    remaining = [f.as_json() for f in rest]
    done = answered.as_done()
    if not tokens.advance_challenge(challenge, following.method, remaining, done=done):
        raise InvalidToken()
    nxt = _factor_row(user, following.kind, following.method)
    if nxt is None:
        raise MethodDoesNotExist()  # deactivated meanwhile: fail closed
    _send(request, challenge.pk, nxt)
    return _step(user, token, following, rest[1:])


def resend_flow_code(
    token: str, method_name: str | None = None, *, request: AnyRequest = None
) -> DispatchResult:
    """Send the current factor's code again (or another active method's, for MFA)."""
    challenge = tokens.resolve_token(token, allow_decoy=True)
    if challenge.user_id is None:
        return decoys.resend(challenge, method_name)
    if not challenge.factors:
        return login.resend_login_code(token, method_name, request=request)
    factor, name = _current(challenge, method_name)
    method = _factor_row(challenge.user, factor.kind, name)
    if method is None:
        raise InvalidCode()
    if name != challenge.method:
        LoginChallenge.objects.filter(pk=challenge.pk).update(method=name)
    return _send(request, challenge.pk, method)
