"""Login step 2 with a passkey next to TOTP (trench_mfa only: django-trench has no WebAuthn).

A small software authenticator (P-256 key, ``none`` attestation, built with
``cryptography`` and ``cbor2``, both installed with py_webauthn) registers
one credential for the seeded user through the API, once and untimed. Each
measured operation then runs step 1 untimed, asks for the passkey's options
(``login/code/request/`` with ``method: webauthn``) and signs them untimed,
and times only step 2: the same request with a TOTP code (``step2_totp``)
or with the signed answer (``step2_passkey``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from typing import Any

import cbor2
from bench_common.flows import Api, Seed, UnexpectedStatus, adapter
from bench_common.scenarios import _bounded
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

ORIGIN = "https://bench.example"
RP_ID = "bench.example"
#: Flags of the authenticator data: user present, user verified, attested data.
_UP, _UV, _AT = 0x01, 0x04, 0x40


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftKey:
    """One credential on a software authenticator that counts its signatures."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.user_handle = b""
        self.counter = 0

    def _client_data(self, kind: str, challenge: str) -> bytes:
        body = {"type": kind, "challenge": challenge, "origin": ORIGIN, "crossOrigin": False}
        return json.dumps(body, separators=(",", ":")).encode()

    def create(self, options: dict[str, Any]) -> dict[str, Any]:
        """The registration response to creation options (JSON form)."""
        self.user_handle = _unb64(options["user"]["id"])
        numbers = self.key.public_key().public_numbers()
        cose = {
            1: 2,
            3: -7,
            -1: 1,
            -2: numbers.x.to_bytes(32, "big"),
            -3: numbers.y.to_bytes(32, "big"),
        }
        attested = bytes(16) + len(self.credential_id).to_bytes(2, "big") + self.credential_id
        auth_data = (
            hashlib.sha256(RP_ID.encode()).digest()
            + bytes([_UP | _UV | _AT])
            + (0).to_bytes(4, "big")
            + attested
            + cbor2.dumps(cose)
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"])
        return self._credential(
            {
                "clientDataJSON": _b64(client_data),
                "attestationObject": _b64(attestation),
                "transports": ["internal"],
            }
        )

    def get(self, options: dict[str, Any]) -> dict[str, Any]:
        """The assertion for request options (JSON form), its counter one up."""
        self.counter += 1
        client_data = self._client_data("webauthn.get", options["challenge"])
        auth_data = (
            hashlib.sha256(RP_ID.encode()).digest()
            + bytes([_UP | _UV])
            + self.counter.to_bytes(4, "big")
        )
        signed = auth_data + hashlib.sha256(client_data).digest()
        return self._credential(
            {
                "clientDataJSON": _b64(client_data),
                "authenticatorData": _b64(auth_data),
                "signature": _b64(self.key.sign(signed, ec.ECDSA(hashes.SHA256()))),
                "userHandle": _b64(self.user_handle),
            }
        )

    def _credential(self, response: dict[str, Any]) -> dict[str, Any]:
        """The PublicKeyCredential JSON around ``response`` (the only part that differs)."""
        return {
            "id": _b64(self.credential_id),
            "rawId": _b64(self.credential_id),
            "type": "public-key",
            "response": response,
        }


_KEYS: dict[str, SoftKey] = {}


def _registered(api: Api, seed: Seed) -> SoftKey:
    """The seeded user's passkey, registered through the API on first use (untimed)."""
    key = _KEYS.get(seed.username)
    if key is None:
        key = SoftKey()
        api.sign_in(seed)
        started = api.call("POST", "/auth/webauthn/activate/", expect=200).json()
        api.call(
            "POST",
            "/auth/webauthn/activate/confirm/",
            {"credential": key.create(started["options"]), "name": "bench key"},
            expect=200,
        )
        api.access = None
        _KEYS[seed.username] = key
    return key


def step2_totp(api: Api, seed: Seed, n: int, budget: float) -> dict[str, Any]:
    """Login step 2 with the app's TOTP code (step 1 untimed)."""

    def one() -> float | None:
        adapter().reset_state()
        token = api.ephemeral_token(seed)
        code = seed.totp()
        started = time.perf_counter()
        response = api.step2(token, code)
        elapsed = time.perf_counter() - started
        return elapsed if response.status_code == 200 else None

    return _bounded(n, budget, one)


def step2_passkey(api: Api, seed: Seed, n: int, budget: float) -> dict[str, Any]:
    """Login step 2 with a passkey's signed answer (step 1 and the options untimed)."""
    key = _registered(api, seed)

    def one() -> float:
        adapter().reset_state()
        token = api.ephemeral_token(seed)
        options = api.call(
            "POST",
            "/auth/jwt/login/code/request/",
            {"ephemeral_token": token, "method": "webauthn"},
            expect=200,
        ).json()["options"]
        body = {"ephemeral_token": token, "credential": key.get(options), "method": "webauthn"}
        started = time.perf_counter()
        response = api.call("POST", "/auth/jwt/login/code/", body)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise UnexpectedStatus(f"passkey step 2: {response.status_code} {response.content!r}")
        return elapsed

    return _bounded(n, budget, one)
