"""The enrolment policy: who must have MFA, and the token that lets them set it up.

``REQUIRE_MFA_FOR`` names who must have MFA: ``"staff"``, ``"superusers"``,
a callable taking the user and answering ``True``/``False``, or its dotted
path, or a list of these (any of them). Such a user without an active
method gets no tokens at login step 1, but an enrolment token: signed,
bound to the user and their password (a password change voids it), valid
for ``EPHEMERAL_TOKEN_VALIDITY`` seconds, and accepted only by the
activation endpoints (``<method>/activate/`` and its ``confirm/``), in the
header ``Authorization: MFA-Enrolment <token>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core import signing
from django.utils.module_loading import import_string

from trench_mfa.conf import mfa_settings
from trench_mfa.state import crypto
from trench_mfa.state.tokens import user_state
from trench_mfa.user import AnyUser

_SALT = "trench_mfa.enrolment-token"
#: The ``Authorization`` scheme of an enrolment token.
KEYWORD = "MFA-Enrolment"
_NAMED: dict[str, Callable[[AnyUser], bool]] = {
    "staff": lambda user: bool(getattr(user, "is_staff", False)),
    "superusers": lambda user: bool(getattr(user, "is_superuser", False)),
}


def _rule(entry: Any) -> Callable[[AnyUser], bool]:
    if isinstance(entry, str):
        return _NAMED.get(entry) or import_string(entry)
    return entry


def _rules() -> list[Callable[[AnyUser], bool]]:
    setting = mfa_settings.REQUIRE_MFA_FOR
    if not setting:
        return []
    entries: Iterable[Any] = [setting] if isinstance(setting, str) or callable(setting) else setting
    return [_rule(entry) for entry in entries]


def is_required(user: AnyUser) -> bool:
    """Whether ``REQUIRE_MFA_FOR`` says ``user`` must have MFA."""
    return any(rule(user) for rule in _rules())


def _fingerprint(user: AnyUser) -> str:
    return crypto.keyed_hash("enrolment", user_state(user))[:32]


def issue_token(user: AnyUser) -> str:
    """A signed, expiring enrolment token for ``user``."""
    payload = {"u": str(user.pk), "s": _fingerprint(user)}
    return signing.dumps(payload, salt=_SALT, compress=False)


def user_for_token(token: str, lookup: Callable[[str], AnyUser | None]) -> AnyUser | None:
    """The active user an enrolment token was issued to, while it is valid; else ``None``.

    ``lookup`` finds a user by the primary key as a string.
    """
    if len(token) > 512 or not token.isascii():
        return None
    try:
        payload = signing.loads(token, salt=_SALT, max_age=mfa_settings.EPHEMERAL_TOKEN_VALIDITY)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), str):
        return None
    user = lookup(payload["u"])
    if user is None or not getattr(user, mfa_settings.USER_ACTIVE_FIELD, False):
        return None
    if not crypto.constant_time_equals(str(payload.get("s", "")), _fingerprint(user)):
        return None
    return user
