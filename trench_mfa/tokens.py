"""Ephemeral login tokens: opaque, signed, single use, expiring.

A token is ``Signer``-signed ``"<challenge id>.<random secret>"``. The
signature is checked first, without touching the database; the challenge row
then holds the secret's hash, the expiry, the use flag, a failure count and
a keyed hash of the user's password hash (a password change kills the
token). Tokens carry 256 bits of randomness from :mod:`secrets`.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.core import signing
from django.db.models import F
from django.utils import timezone

from trench_mfa import crypto
from trench_mfa.conf import mfa_settings
from trench_mfa.exceptions import InvalidToken
from trench_mfa.models import LoginChallenge
from trench_mfa.user import AnyUser

_SALT = "trench_mfa.ephemeral-token"
MAX_TOKEN_LENGTH = 256


def _signer() -> signing.Signer:
    return signing.Signer(salt=_SALT, algorithm="sha256")


def user_state(user: AnyUser) -> str:
    """A keyed fingerprint of the user's password hash."""
    return crypto.keyed_hash("user-state", f"{user.pk}:{user.password}")


def issue_token(
    user: AnyUser | None,
    method: str,
    *,
    flow: str = "",
    factors: list[dict[str, Any]] | None = None,
) -> tuple[str, LoginChallenge]:
    """Start a login challenge for ``method``; return the token and its row.

    ``flow`` and ``factors`` record a flow login (see ``LoginChallenge``);
    ``user=None`` makes a decoy, which :func:`resolve_token` only returns
    when asked for decoys and which can never be answered.
    """
    secret = secrets.token_urlsafe(32)
    challenge = LoginChallenge.objects.create(
        user=user,
        method=method,
        flow=flow,
        factors=factors or [],
        secret_hash=crypto.plain_hash(secret),
        # A decoy has no password hash to fingerprint: any value will do.
        user_state=user_state(user) if user is not None else crypto.plain_hash(secret),
        expires_at=timezone.now() + timedelta(seconds=mfa_settings.EPHEMERAL_TOKEN_VALIDITY),
    )
    return _signer().sign(f"{challenge.pk}.{secret}"), challenge


def resolve_token(token: str, *, allow_decoy: bool = False) -> LoginChallenge:
    """The live challenge behind ``token``; raises :class:`InvalidToken`.

    Every failure (tampered, unknown, expired, used, too many wrong codes,
    inactive user, changed password) raises the same error. A decoy (no
    user) is returned only with ``allow_decoy``, under the same expiry, use
    and attempt rules as a real challenge.
    """
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise InvalidToken()
    try:
        payload = _signer().unsign(token)
    except signing.BadSignature:
        raise InvalidToken() from None
    challenge_id, _, secret = payload.partition(".")
    if not (challenge_id.isascii() and challenge_id.isdigit()) or not secret:
        raise InvalidToken()
    challenge = LoginChallenge.objects.select_related("user").filter(pk=int(challenge_id)).first()
    if challenge is None or not crypto.constant_time_equals(
        challenge.secret_hash, crypto.plain_hash(secret)
    ):
        raise InvalidToken()
    user = challenge.user
    if (
        challenge.used_at is not None
        or challenge.expires_at <= timezone.now()
        or challenge.failed_attempts >= mfa_settings.MAX_CODE_ATTEMPTS
    ):
        raise InvalidToken()
    if user is None:
        if not allow_decoy:
            raise InvalidToken()
        return challenge
    if not getattr(user, mfa_settings.USER_ACTIVE_FIELD, False) or not (
        crypto.constant_time_equals(challenge.user_state, user_state(user))
    ):
        raise InvalidToken()
    return challenge


def advance_challenge(
    challenge: LoginChallenge, method: str, factors: list[dict[str, Any]], *, done: str
) -> bool:
    """Move a flow login to its next factor; ``False`` when another request did first."""
    return (
        LoginChallenge.objects.filter(
            pk=challenge.pk, used_at__isnull=True, method=challenge.method
        ).update(method=method, factors=factors, done=[*challenge.done, done])
        == 1
    )


def consume_challenge(challenge: LoginChallenge) -> bool:
    """Mark the challenge used; ``False`` when another request did first."""
    return (
        LoginChallenge.objects.filter(pk=challenge.pk, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        == 1
    )


def reserve_attempt(challenge: LoginChallenge) -> bool:
    """Count one answer against the challenge *before* it is checked.

    A conditional ``UPDATE``: of any number of parallel requests, only as
    many as ``MAX_CODE_ATTEMPTS`` allows get ``True``; the others must be
    refused unevaluated. A successful answer uses the challenge up, so its
    reserved attempt never matters; give back the attempt of an answer that
    was not evaluated (:func:`refund_attempt`).
    """
    return (
        LoginChallenge.objects.filter(
            pk=challenge.pk,
            used_at__isnull=True,
            failed_attempts__lt=mfa_settings.MAX_CODE_ATTEMPTS,
        ).update(failed_attempts=F("failed_attempts") + 1)
        == 1
    )


def refund_attempt(challenge: LoginChallenge) -> None:
    """Give back an attempt reserved for an answer that was not evaluated."""
    LoginChallenge.objects.filter(pk=challenge.pk, failed_attempts__gt=0).update(
        failed_attempts=F("failed_attempts") - 1
    )


def record_failure(challenge: LoginChallenge) -> None:
    """Count a wrong code against the challenge (it dies at the cap)."""
    LoginChallenge.objects.filter(pk=challenge.pk).update(failed_attempts=F("failed_attempts") + 1)
