"""Passwordless login with a passkey: a flow of its own, through the same checks.

On when ``TRENCH_AUTH["PASSKEY_LOGIN"]`` is true and a WebAuthn method is
configured. Two steps:

* :func:`begin`: an ephemeral token whose challenge has no user yet (flow
  :data:`~trench_mfa.state.tokens.PASSKEY_FLOW`) and the options for
  ``navigator.credentials.get()``: no credential named (the browser offers
  the user's discoverable credentials) and user verification required;
* :func:`finish`: the signed answer. Its credential names the user; the
  answer is then checked like any second factor, by
  :func:`~trench_mfa.services.verification.verify_factor` on that user's
  WebAuthn method row: back-off, lockout, audit, the challenge bound to this
  token, the user handle, user verification and the signature counter. A
  wrong answer counts against the token (``MAX_CODE_ATTEMPTS``) too.

No answer reveals whether a credential exists: an unknown credential, an
inactive user and a failed check are all 401 ``invalid_code``.
"""

from __future__ import annotations

import sys
from typing import Any

from django.db import transaction

from trench_mfa.backends.provider import get_mfa_handler
from trench_mfa.backends.webauthn_answer import decode_answer
from trench_mfa.conf import mfa_settings
from trench_mfa.exceptions import InvalidCode, InvalidToken, Locked, PasskeyLoginOff, Throttled
from trench_mfa.login.amr import VerifiedFactor
from trench_mfa.login.steps import LoginStep
from trench_mfa.models import CodePurpose, MFAMethod
from trench_mfa.services.verification import FactorCheck, Result, verify_factor
from trench_mfa.state import tokens, webauthn_credentials
from trench_mfa.user import AnyRequest

_WEBAUTHN_MODULE = "trench_mfa.backends.webauthn"


def passkey_method() -> str:
    """The WebAuthn method passkeys log in with; 404 when passkey login is off."""
    if mfa_settings.PASSKEY_LOGIN:
        # The dispatcher's module is loaded once a configured handler imported
        # it, so the optional py_webauthn is never imported just to look.
        base = getattr(sys.modules.get(_WEBAUTHN_MODULE), "WebAuthnDispatcher", None)
        for name, config in mfa_settings.methods.items():
            if isinstance(base, type) and issubclass(config.handler, base):
                return name
    raise PasskeyLoginOff()


def begin(request: AnyRequest) -> tuple[str, dict[str, Any]]:
    """A new passkey login: its ephemeral token and the browser's options."""
    name = passkey_method()
    token, challenge = tokens.issue_token(None, name, flow=tokens.PASSKEY_FLOW)
    # A method row without a user: the options name no credential.
    handler = get_mfa_handler(
        MFAMethod(name=name), purpose=CodePurpose.LOGIN, challenge_id=challenge.pk, request=request
    )
    result = handler.dispatch_message()
    return token, dict(result.extra["options"])


def _owner(code: str, name: str) -> MFAMethod | None:
    """The active WebAuthn method row (with its active user) the answer's credential names."""
    answer = decode_answer(code)
    row = webauthn_credentials.find(answer.credential_id) if answer else None
    method = row.method if row is not None else None
    if method is None or method.name != name or not method.is_active:
        return None
    if not getattr(method.user, mfa_settings.USER_ACTIVE_FIELD, False):
        return None
    return method


def finish(token: str, code: str, *, request: AnyRequest = None) -> LoginStep:
    """Check the passkey's answer; the user to issue tokens for.

    401 ``invalid_token`` for a token that is not a live passkey login's,
    401 ``invalid_code`` for an answer that does not verify, 429 under the
    back-off or lockout of the credential's user.
    """
    name = passkey_method()
    challenge = tokens.resolve_token(token, passkey=True)
    method = _owner(code, name)
    if method is None:
        if not tokens.record_failure(challenge):
            raise InvalidToken()
        raise InvalidCode()
    check = FactorCheck(
        method.user,
        method,
        code,
        CodePurpose.LOGIN,
        challenge_id=challenge.pk,
        request=request,
        allow_backup=False,
    )
    with transaction.atomic():
        outcome = verify_factor(check)
        if outcome.result is Result.LOCKED:
            error: Exception | None = Locked(outcome.retry_after or 1)
        elif outcome.result is Result.THROTTLED:
            error = Throttled(outcome.retry_after or 1)
        elif outcome.ok:
            if not tokens.consume_challenge(challenge):
                raise InvalidToken()
            error = None
        else:
            if not tokens.record_failure(challenge):
                raise InvalidToken()
            error = InvalidCode()
    # Raised after the commit: a wrong answer's counts must stay written.
    if error is not None:
        raise error
    factor = VerifiedFactor.code(name, amr=outcome.handler.answer_amr())
    return LoginStep(user=method.user, verified=(factor,))
