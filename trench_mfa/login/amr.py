"""What a login verified, and the ``amr`` and ``mfa_at`` claims it gives (RFC 8176).

Every login records the factors it verified as :class:`VerifiedFactor`
values: the knowledge secrets of step 1 (``password``, ``hardcode``) and each
code factor with the method that answered it, or the fact that a backup code
answered it. :func:`token_claims` turns them into the claims that the JWT
login views put into the refresh token (simplejwt copies them into every
access token made from it):

``amr``
    RFC 8176 authentication method references, in the order first seen:
    ``pwd`` for the password, ``pin`` for a hardcode, the dispatcher's
    ``amr_values`` for a method's code (``otp``; ``otp`` and ``sms`` for SMS
    methods; ``hwk`` and ``otp`` for a YubiKey), ``otp`` for a backup code,
    and ``mfa`` last when a code and at least one other factor were verified.
    A WebAuthn answer gives ``hwk`` (a key in hardware) or ``swk`` (a synced
    passkey), plus ``user`` when the authenticator verified the user (PIN or
    biometrics); such an answer is two factors by itself (something the
    user has, verified by something they know or are), so it makes ``mfa``
    even alone (a passkey login).
``mfa_at``
    When the login's last code was verified (Unix time, integer seconds);
    absent when no code was.

A password and a hardcode are both something the user knows: together they
never make ``mfa``.

A login whose code factors a remembered device skipped
(:mod:`trench_mfa.services.devices`) records ``device`` instead of a code:
``amr`` is then e.g. ``["pwd", "device"]``, without ``mfa`` and without
``mfa_at`` (no code was verified by this login). ``device`` is not in RFC
8176's registry; add it to ``MFA_ACCEPTED_AMR`` to let such logins pass
:class:`~trench_mfa.permissions.IsMFAAuthenticated`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from trench_mfa.conf import mfa_settings

#: Claim names.
AMR_CLAIM = "amr"
MFA_AT_CLAIM = "mfa_at"

#: RFC 8176 values this module emits itself.
PWD = "pwd"  # noqa: S105 - an RFC 8176 method name, not a secret
PIN = "pin"
OTP = "otp"
MFA = "mfa"
#: The ``amr`` value of a remembered device that skipped the code factors.
DEVICE_AMR = "device"
#: The authenticator verified the user (WebAuthn user verification).
USER = "user"

#: Kinds of :class:`VerifiedFactor`: the knowledge secrets, a code, a backup code.
PASSWORD = "password"  # noqa: S105 - the name of a secret, not a secret
HARDCODE = "hardcode"
CODE = "code"
BACKUP_CODE = "backup_code"
DEVICE = "device"

_FACTOR_AMR = {PASSWORD: PWD, HARDCODE: PIN, DEVICE: DEVICE_AMR}
#: Ends a ``LoginChallenge.done`` entry whose factor a backup code answered.
_BACKUP_SUFFIX = ":backup_code"
#: Separates a ``done`` entry's method from the amr values of its answer.
_AMR_SEPARATOR = ":amr:"


@dataclass(frozen=True)
class VerifiedFactor:
    """One factor a login verified: a knowledge secret, a method's code or a backup code."""

    kind: str
    #: The method whose factor a code (or backup code) answered; empty for secrets.
    method: str = ""
    #: The answer's own amr values (WebAuthn); empty: the method's ``amr_values``.
    amr: tuple[str, ...] = ()

    @classmethod
    def secret(cls, name: str) -> VerifiedFactor:
        """A knowledge secret checked in login step 1 (``password`` or ``hardcode``)."""
        return cls(kind=name)

    @classmethod
    def device(cls) -> VerifiedFactor:
        """A remembered device's token, presented in login step 1 in place of the codes."""
        return cls(kind=DEVICE)

    @classmethod
    def code(
        cls, method: str, *, backup_code: bool = False, amr: tuple[str, ...] | None = None
    ) -> VerifiedFactor:
        """A code of ``method`` (with its answer's ``amr`` values), or a backup code."""
        if backup_code:
            return cls(kind=BACKUP_CODE, method=method)
        return cls(kind=CODE, method=method, amr=tuple(amr or ()))

    @property
    def is_code(self) -> bool:
        """Whether a one-time code (not a static secret) was verified."""
        return self.kind in (CODE, BACKUP_CODE)

    @property
    def stands_for_mfa(self) -> bool:
        """Whether this factor is MFA: a code, or a device remembered after an MFA login."""
        return self.is_code or self.kind == DEVICE

    def as_done(self) -> str:
        """The entry a flow login keeps in ``LoginChallenge.done`` for this code factor."""
        if self.kind == BACKUP_CODE:
            return self.method + _BACKUP_SUFFIX
        if self.amr:
            return self.method + _AMR_SEPARATOR + ",".join(self.amr)
        return self.method

    @classmethod
    def from_done(cls, entry: str) -> VerifiedFactor:
        """Read an entry of ``LoginChallenge.done`` back (see :meth:`as_done`)."""
        if entry.endswith(_BACKUP_SUFFIX):
            return cls.code(entry.removesuffix(_BACKUP_SUFFIX), backup_code=True)
        method, _, amr = entry.partition(_AMR_SEPARATOR)
        return cls.code(method, amr=tuple(v for v in amr.split(",") if v))


def _method_amr(name: str) -> tuple[str, ...]:
    config = mfa_settings.method(name)
    values = getattr(config.handler, "amr_values", None) if config is not None else None
    if isinstance(values, str):
        values = (values,)  # a custom dispatcher that wrote amr_values = "otp"
    return tuple(str(v) for v in values) if values else (OTP,)


def _values_of(factor: VerifiedFactor) -> tuple[str, ...]:
    if factor.kind == CODE:
        return factor.amr or _method_amr(factor.method)
    if factor.kind == BACKUP_CODE:
        return (OTP,)
    return (_FACTOR_AMR[factor.kind],) if factor.kind in _FACTOR_AMR else ()


def is_multi_factor(factors: Sequence[VerifiedFactor]) -> bool:
    """Whether a code and another factor were verified (or a user-verifying WebAuthn answer)."""
    if any(f.kind == CODE and USER in f.amr for f in factors):
        return True
    return len(factors) >= 2 and any(f.is_code for f in factors)


def amr_values(factors: Sequence[VerifiedFactor]) -> list[str]:
    """The ``amr`` claim for ``factors``: each value once, ``mfa`` last when it applies."""
    values: list[str] = []
    for factor in factors:
        values.extend(v for v in _values_of(factor) if v not in values and v != MFA)
    if is_multi_factor(factors):
        values.append(MFA)
    return values


def token_claims(
    factors: Iterable[VerifiedFactor], *, now: datetime | None = None
) -> dict[str, Any]:
    """``{"amr": [...], "mfa_at": ...}`` for a login that verified ``factors``.

    Empty when nothing is known about the login (no claims rather than
    wrong ones); ``mfa_at`` only when a code was verified.
    """
    factors = tuple(factors)
    if not factors:
        return {}
    claims: dict[str, Any] = {AMR_CLAIM: amr_values(factors)}
    if any(f.is_code for f in factors):
        claims[MFA_AT_CLAIM] = int((now or timezone.now()).timestamp())
    return claims
