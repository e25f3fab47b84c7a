"""WebAuthn challenges: random, single use, expiring, bound to what they were issued for.

A challenge is 32 bytes from :mod:`secrets`. Only a keyed hash of it is
stored (:class:`~trench_mfa.models.WebAuthnChallenge`): the browser sends the
challenge back inside the signed ``clientDataJSON``, and the answer is looked
up by that hash. Using one is a single conditional ``UPDATE``, so of two
requests carrying the same answer only one gets the challenge, on any
database. Issuing a new challenge for the same binding voids the older ones.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from trench_mfa.models import CodePurpose, MFAMethod, WebAuthnChallenge
from trench_mfa.state import crypto

#: Bytes of randomness per challenge (the WebAuthn spec asks for at least 16).
CHALLENGE_BYTES = 32


def encode(raw: bytes) -> str:
    """base64url without padding, as WebAuthn's JSON forms write binary values."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _digest(encoded: str) -> str:
    return crypto.keyed_hash("webauthn-challenge", encoded)


@dataclass(frozen=True)
class Binding:
    """What a challenge answers: a method's registration or action, or one login.

    ``method`` is ``None`` only for a passkey login (the credential names
    the user); a login challenge is bound to its ephemeral token's row.
    """

    purpose: CodePurpose
    method: MFAMethod | None = None
    login_challenge_id: int | None = None

    def _filter(self) -> Q:
        if self.purpose == CodePurpose.LOGIN:
            return Q(purpose=self.purpose, login_challenge_id=self.login_challenge_id)
        assert self.method is not None  # registration and actions belong to a method row
        return Q(purpose=self.purpose, method_id=self.method.pk, login_challenge_id__isnull=True)


def issue(binding: Binding, *, validity: int, user_verification: bool) -> bytes:
    """A new challenge for ``binding``, valid ``validity`` seconds; older ones stop working."""
    raw = secrets.token_bytes(CHALLENGE_BYTES)
    now = timezone.now()
    WebAuthnChallenge.objects.filter(binding._filter(), used_at__isnull=True).update(used_at=now)
    WebAuthnChallenge.objects.create(
        method=binding.method,
        purpose=binding.purpose,
        login_challenge_id=binding.login_challenge_id,
        challenge_digest=_digest(encode(raw)),
        user_verification=user_verification,
        expires_at=now + timedelta(seconds=validity),
    )
    return raw


def consume(binding: Binding, encoded: str) -> WebAuthnChallenge | None:
    """Use the live challenge ``encoded`` (base64url) of ``binding``; ``None`` if there is none.

    Expired, used, voided, unknown or issued for anything else: ``None``.
    """
    if not encoded.isascii() or len(encoded) > 4 * CHALLENGE_BYTES:
        return None
    now = timezone.now()
    live = WebAuthnChallenge.objects.filter(
        binding._filter(),
        challenge_digest=_digest(encoded),
        used_at__isnull=True,
        expires_at__gt=now,
    )
    row = live.first()
    if row is None or live.filter(pk=row.pk).update(used_at=now) != 1:
        return None
    return row
