"""Decoy logins: a passwordless flow answers an unknown identifier like a known one.

When the identifier of a passwordless flow names nobody who could log in
with it (unknown, ambiguous, inactive, unconfirmed, or missing a method the
flow needs), login step 1 still answers with a challenge: a real
``LoginChallenge`` row without a user, so its token looks like any other
and can never succeed. Nothing is sent. What a client can observe follows a
real challenge of the same channel:

* step 1: the same body; the channel's recipient check (400 for a value it
  refuses), its send limit (``SEND_LIMIT``) and per-number cap (429),
  reserved like a real send;
* ``login/code/request/``: the resend cooldown (429 with ``retry_after``),
  the send limit and the cap;
* ``login/code/``: a malformed code and a well-formed one are both 401
  ``invalid_code`` (the malformed one counts nothing); the token dies after
  ``MAX_CODE_ATTEMPTS`` wrong codes; back-off and lockout follow the rules of
  :mod:`trench_mfa.state.backoff`, counted per channel and identifier in the
  cache under a keyed hash (never
  the value), as a real method row counts them in the database.

These rules copy those of :mod:`trench_mfa.state.backoff` and
:mod:`trench_mfa.services.verification`; ``tests/flows/test_enumeration.py``
compares a decoy with a real login for each of them.
"""

from __future__ import annotations

import math
from typing import Any, NoReturn

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from trench_mfa.backends.base import AbstractMessageDispatcher, CodeDispatcher, DispatchResult
from trench_mfa.conf import mfa_settings
from trench_mfa.exceptions import (
    InvalidCode,
    InvalidInput,
    InvalidToken,
    Locked,
    MFAError,
    Throttled,
)
from trench_mfa.flows import PASSCODE_FACTOR, Factor, Flow
from trench_mfa.models import (
    CodePurpose,
    LoginChallenge,
    MFAMethod,
    OneTimeCode,
    VerifiedIdentifier,
)
from trench_mfa.services.protection import is_plausible_code, reject_malformed_code
from trench_mfa.state import (
    backoff,
    backup_codes,
    crypto,
    identity,
    secrets_at_rest,
    send_limits,
    tokens,
)

#: How long the cache keeps a decoy's counters (longer than any lock or back-off
#: that matters in practice).
STATE_TTL = 24 * 3600
_PREFIX = "trench_mfa:decoy:"


def _handler(method: str, field: str, value: str) -> AbstractMessageDispatcher:
    # An unsaved user holding only the submitted value: the dispatcher reads
    # its recipient from it exactly as it would from a real user.
    user = get_user_model()(**{field: value})
    config = mfa_settings.method(method)
    assert config is not None  # the flow was validated against the methods
    handler: AbstractMessageDispatcher = config.handler(MFAMethod(name=method, user=user), config)
    handler.purpose = CodePurpose.LOGIN
    return handler


def _now() -> float:
    return timezone.now().timestamp()


def _load(key: str) -> dict[str, Any]:
    try:
        state = cache.get(_PREFIX + key)
    except Exception:  # the cache is an imitation aid here, not a security control
        state = None
    return dict(state) if isinstance(state, dict) else {}


def _save(key: str, state: dict[str, Any]) -> None:
    try:
        cache.set(_PREFIX + key, state, STATE_TTL)
    except Exception:  # noqa: S110 - as in _load: an empty state is the fallback
        pass


def _cooldown_left(state: dict[str, Any], handler: AbstractMessageDispatcher) -> int | None:
    """Seconds of resend cooldown left on the imagined live code, if any."""
    sent = state.get("sent")
    cooldown = mfa_settings.RESEND_COOLDOWN
    if not cooldown or sent is None:
        return None
    elapsed = _now() - float(sent)
    usable = (
        elapsed < handler.validity_period
        and int(state.get("attempts", 0)) < mfa_settings.MAX_CODE_ATTEMPTS
    )
    if not usable or elapsed >= cooldown:
        return None
    return max(1, math.ceil(cooldown - elapsed))


def _imitate_send(
    handler: AbstractMessageDispatcher, state: dict[str, Any], *, first: bool
) -> None:
    """What ``CodeDispatcher.dispatch_message`` checks before sending; nothing is sent."""
    if not handler.sends_codes or not isinstance(handler, CodeDispatcher):
        return
    recipient = handler.get_recipient()
    if recipient is None:
        raise InvalidInput(_("This account has no valid address for this method."))
    left = _cooldown_left(state, handler)
    if left is not None:
        if first:
            return  # step 1 hands the live code to the new challenge: no send
        raise Throttled(left)
    now = _now()
    limit = mfa_settings.SEND_LIMIT
    window = int(mfa_settings.SEND_LIMIT_WINDOW or 0)
    sends = sorted(
        (float(t) for t in state.get("sends", []) if float(t) > now - window), reverse=True
    )
    if limit and len(sends) >= limit:
        raise Throttled(max(1, math.ceil(sends[limit - 1] + window - now)))
    quota = send_limits.reserve_recipient(
        handler.channel, handler.cap_identity(recipient), handler.recipient_limit()
    )
    if quota.retry_after:
        raise Throttled(quota.retry_after)
    state.update(sent=now, attempts=0, sends=[now, *sends][: max(int(limit or 0), 1)])


def _imitate_dispatch(method: str, challenge: LoginChallenge) -> None:
    """The queries and writes of a real step 1's send, without a user: comparable timing.

    A real passwordless step 1 reads the identifier's confirmation and the
    user's channel row, then, in one transaction under that row's lock,
    reads the live codes and stores the new one (or hands the live one
    over). A decoy asks the same tables the same questions about nobody, and
    rewrites its own challenge row with the values it has in that
    transaction: a commit that writes costs a log flush (an fsync on SQLite
    and PostgreSQL), which dwarfs the queries.
    """
    VerifiedIdentifier.objects.filter(user_id__isnull=True, confirmed_at__isnull=False).exists()
    nobody = MFAMethod.objects.filter(user_id__isnull=True, name=method)
    nobody.first()
    with transaction.atomic():
        list(nobody.select_for_update().values_list("pk"))
        live = OneTimeCode.objects.filter(
            method_id__isnull=True, purpose=CodePurpose.LOGIN, consumed_at__isnull=True
        )
        live.order_by("-created_at").first()
        live.update(challenge_id=None)
        LoginChallenge.objects.filter(pk=challenge.pk).update(done=challenge.done)


def _imitate_audit(challenge: LoginChallenge) -> None:
    """The audit row's commit of a real send (``AUDIT_LOG``), as a rewrite of the decoy's row."""
    if mfa_settings.AUDIT_LOG:
        LoginChallenge.objects.filter(pk=challenge.pk).update(done=challenge.done)


def start(flow: Flow, value: str) -> tuple[str, Factor]:
    """Step 1 for a passwordless flow nobody can use with ``value``: (token, first factor).

    In the order of a real step 1: the challenge row, the send (here its
    checks and its transaction; nothing is sent), the audit row. When the
    send is refused, the row goes again, as a real challenge's does.
    """
    first = flow.factors[0]
    key = crypto.keyed_hash("decoy", f"{first.method}:{identity.normalise(value)}")
    handler = _handler(first.method, flow.identifier, value)
    state = _load(key)
    # The value travels encrypted, for the recipient checks of a resend.
    sealed = secrets_at_rest.encrypt_secret(value)
    factors = [{**first.as_json(), "decoy": key, "field": flow.identifier, "to": sealed}]
    factors += [f.as_json() for f in flow.factors[1:]]
    token, challenge = tokens.issue_token(None, first.method, flow=flow.label, factors=factors)
    try:
        # One transaction, like a real send's: its reads, the recipient's
        # cap and the new code commit together (one log flush, not three).
        with transaction.atomic():
            _imitate_dispatch(first.method, challenge)
            _imitate_send(handler, state, first=True)
    except MFAError:
        LoginChallenge.objects.filter(pk=challenge.pk).delete()
        raise
    _imitate_audit(challenge)
    _save(key, state)
    return token, first


def _decoy_factor(challenge: LoginChallenge) -> tuple[Factor, str, AbstractMessageDispatcher]:
    data = challenge.factors[0]
    factor = Factor.from_json(data)
    value = secrets_at_rest.decrypt_secret(str(data["to"]))
    return factor, str(data["decoy"]), _handler(factor.method, str(data["field"]), value)


def answer(challenge: LoginChallenge, code: str, method_name: str | None) -> NoReturn:
    """Step 2 of a decoy: refuse the way a real challenge refuses a wrong code."""
    factor, key, handler = _decoy_factor(challenge)
    if method_name and method_name != challenge.method:
        tokens.record_failure(challenge)
        raise InvalidCode()
    backup_ok = factor.kind != PASSCODE_FACTOR and backup_codes.is_well_formed(code)
    if not (is_plausible_code(code) and (handler.is_well_formed(code) or backup_ok)):
        reject_malformed_code(at_login=True)
    # As a real answer: the token's attempt is taken first, and given back
    # when the back-off or lockout refuses the answer unevaluated.
    if not tokens.reserve_attempt(challenge):
        raise InvalidToken()
    state = _load(key)
    now = _now()
    locked_until = float(state.get("locked_until", 0))
    waits = [locked_until - now]
    delay = backoff.backoff_delay(int(state.get("failures", 0)))
    if delay and state.get("last_failure") is not None:
        waits.append(float(state["last_failure"]) + delay - now)
    wait = max(waits)
    if wait > 0:
        tokens.refund_attempt(challenge)
        retry_after = max(1, math.ceil(wait))
        raise Locked(retry_after) if locked_until > now else Throttled(retry_after)
    failures = int(state.get("failures", 0)) + 1
    state.update(failures=failures, last_failure=now, attempts=int(state.get("attempts", 0)) + 1)
    if failures >= mfa_settings.LOCKOUT_THRESHOLD:
        state["locked_until"] = now + mfa_settings.LOCKOUT_DURATION
    _save(key, state)
    raise InvalidCode()


def resend(challenge: LoginChallenge, method_name: str | None) -> DispatchResult:
    """``login/code/request/`` for a decoy: the cooldown and cap, and nothing sent."""
    _factor, key, handler = _decoy_factor(challenge)
    if method_name and method_name != challenge.method:
        raise InvalidCode()
    state = _load(key)
    if isinstance(handler, CodeDispatcher) and handler.sends_codes:
        _imitate_send(handler, state, first=False)
        _save(key, state)
        return DispatchResult.sent(str(handler.success_message))
    return handler.dispatch_message()
