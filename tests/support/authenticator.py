"""A software WebAuthn authenticator and browser, built from fido2's pieces.

:class:`SoftAuthenticator` answers the options trench_mfa hands out the way
a browser with one authenticator would (``PublicKeyCredential.toJSON()``):
a registration response with ``none`` attestation, and assertions signed
with its P-256 key. Everything a refusal test needs to bend is a parameter:
the origin the "browser" reports, the RP ID it hashes, the signature
counter, user verification, the user handle. It keeps the credentials it
made (discoverable ones return their user handle).
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
)

ORIGIN = "https://example.com"
RP_ID = "example.com"

#: The method settings the tests configure (``trench_auth(methods=...)``).
WEBAUTHN_METHOD: dict[str, Any] = {
    "VERBOSE_NAME": "passkey",
    "HANDLER": "trench_mfa.backends.webauthn.WebAuthnDispatcher",
    "RP_ID": RP_ID,
    "RP_NAME": "Example",
    "ORIGINS": [ORIGIN],
}

_FLAG = AuthenticatorData.FLAG


def b64url(raw: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """Decode base64url with or without padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftCredential:
    """One credential the authenticator holds."""

    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    @property
    def id(self) -> str:
        """The credential id as browsers send it."""
        return b64url(self.credential_id)


@dataclass
class SoftAuthenticator:
    """A platform authenticator with user verification, and the browser around it."""

    origin: str = ORIGIN
    #: Counts every signature up by one (0: keeps no counter, like many passkeys).
    counter_step: int = 1
    #: Marks its credentials backup eligible and backed up (a synced passkey).
    synced: bool = False
    credentials: list[SoftCredential] = field(default_factory=list)

    def _flags(self, *, verified: bool, attested: bool = False) -> AuthenticatorData.FLAG:
        flags = _FLAG.UP | (_FLAG.UV if verified else 0)
        if self.synced:
            flags |= _FLAG.BE | _FLAG.BS
        if attested:
            flags |= _FLAG.AT
        return AuthenticatorData.FLAG(flags)

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        verified: bool = True,
        credential_id: bytes | None = None,
    ) -> dict[str, Any]:
        """The registration response to ``options`` (creation options in JSON form)."""
        rp = rp_id or options["rp"]["id"]
        key = ec.generate_private_key(ec.SECP256R1())
        cred_id = credential_id or os.urandom(32)
        credential = SoftCredential(cred_id, key, rp, unb64url(options["user"]["id"]))
        self.credentials.append(credential)
        client_data = CollectedClientData.create(
            type="webauthn.create", challenge=options["challenge"], origin=origin or self.origin
        )
        attested = AttestedCredentialData.create(
            b"\0" * 16, cred_id, ES256.from_cryptography_key(key.public_key())
        )
        auth_data = AuthenticatorData.create(
            hashlib.sha256(rp.encode()).digest(),
            self._flags(verified=verified, attested=True),
            0,
            attested,
        )
        attestation = AttestationObject.create("none", auth_data, {})
        return _public_key_credential(
            credential,
            client_data,
            attestationObject=b64url(bytes(attestation)),
            transports=["internal"],
        )

    def get(
        self,
        options: dict[str, Any],
        *,
        credential: SoftCredential | None = None,
        origin: str | None = None,
        rp_id: str | None = None,
        verified: bool = True,
        sign_count: int | None = None,
        user_handle: bytes | None = None,
    ) -> dict[str, Any]:
        """The assertion for ``options`` (request options in JSON form).

        With no credential named, the first one the options allow (or, for a
        passkey login naming none, the first one held).
        """
        if credential is None:
            allowed = {c["id"] for c in options.get("allowCredentials", [])}
            credential = next(c for c in self.credentials if not allowed or c.id in allowed)
        if sign_count is None:
            credential.sign_count += self.counter_step
            sign_count = credential.sign_count
        rp = rp_id or options.get("rpId") or credential.rp_id
        client_data = CollectedClientData.create(
            type="webauthn.get", challenge=options["challenge"], origin=origin or self.origin
        )
        auth_data = AuthenticatorData.create(
            hashlib.sha256(rp.encode()).digest(), self._flags(verified=verified), sign_count
        )
        signature = credential.key.sign(
            bytes(auth_data) + client_data.hash, ec.ECDSA(hashes.SHA256())
        )
        handle = credential.user_handle if user_handle is None else user_handle
        return _public_key_credential(
            credential,
            client_data,
            authenticatorData=b64url(bytes(auth_data)),
            signature=b64url(signature),
            userHandle=b64url(handle),
        )


def _public_key_credential(
    credential: SoftCredential, client_data: CollectedClientData, **response: Any
) -> dict[str, Any]:
    """A PublicKeyCredential in JSON, as a browser posts it: ``response`` besides clientDataJSON.

    Registration and assertion differ only in their ``response`` members.
    """
    return {
        "id": credential.id,
        "rawId": credential.id,
        "type": "public-key",
        "authenticatorAttachment": "platform",
        "clientExtensionResults": {},
        "response": {"clientDataJSON": b64url(bytes(client_data)), **response},
    }
