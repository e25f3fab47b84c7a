"""The WebAuthn answer as it travels through the code check: one JSON text.

Every check of a factor takes a string (:func:`trench_mfa.services.verification.verify_factor`).
A WebAuthn answer is the browser's credential (``PublicKeyCredential.toJSON()``:
a registration or an authentication response) and, when registering, the
name the user gave it; the API encodes both into one compact ASCII JSON text
(:func:`encode_answer`) and the WebAuthn dispatcher reads them back
(:func:`decode_answer`). Nothing here checks a signature.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The longest encoded answer taken (attestation certificates make a
#: registration response a few kilobytes; a login answer is far smaller).
MAX_ANSWER_LENGTH = 64 * 1024
#: base64url, with or without padding.
_B64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}", flags=re.ASCII)


@dataclass(frozen=True)
class Answer:
    """A decoded answer: the credential JSON object and the name to register it under."""

    credential: dict[str, Any]
    name: str = ""

    @property
    def credential_id(self) -> str:
        """The credential's id (base64url) as the browser sent it."""
        return str(self.credential["id"])

    @property
    def user_handle(self) -> str | None:
        """The user handle a discoverable credential returns (base64url), if any."""
        value = self.credential["response"].get("userHandle")
        return value if isinstance(value, str) and value else None

    @property
    def transports(self) -> list[str]:
        """The transports the browser reported at registration (strings only)."""
        value = self.credential["response"].get("transports")
        if not isinstance(value, list):
            return []
        return [t for t in value if isinstance(t, str) and len(t) <= 32][:8]


def is_b64url(value: Any) -> bool:
    """Whether ``value`` is a base64url string."""
    return isinstance(value, str) and _B64URL.fullmatch(value) is not None


def b64url_decode(value: str) -> bytes:
    """Decode base64url with or without padding; ``ValueError`` on anything else."""
    if not is_b64url(value):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def is_credential_shape(value: Any) -> bool:
    """Whether ``value`` looks like a ``PublicKeyCredential`` in its JSON form.

    ``id``, ``rawId`` and the response's binary members are base64url;
    ``type`` is ``public-key``; the response is a registration
    (``attestationObject``) or an authentication (``authenticatorData`` and
    ``signature``) response, both with ``clientDataJSON``.
    """
    if not isinstance(value, Mapping) or value.get("type") != "public-key":
        return False
    response = value.get("response")
    if not (is_b64url(value.get("id")) and is_b64url(value.get("rawId"))):
        return False
    if not isinstance(response, Mapping) or not is_b64url(response.get("clientDataJSON")):
        return False
    if "attestationObject" in response:
        return is_b64url(response["attestationObject"])
    user_handle = response.get("userHandle")
    return (
        is_b64url(response.get("authenticatorData"))
        and is_b64url(response.get("signature"))
        and (user_handle is None or is_b64url(user_handle))
    )


def encode_answer(credential: Mapping[str, Any], name: str = "") -> str:
    """The answer as one compact ASCII JSON text (keys sorted)."""
    body: dict[str, Any] = {"credential": credential}
    if name:
        body["name"] = name
    return json.dumps(body, separators=(",", ":"), ensure_ascii=True, sort_keys=True)


def decode_answer(text: str) -> Answer | None:
    """The answer in ``text``, or ``None`` when it is not one."""
    if len(text) > MAX_ANSWER_LENGTH or not text.startswith("{"):
        return None
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(body, dict) or not is_credential_shape(body.get("credential")):
        return None
    name = body.get("name", "")
    if not isinstance(name, str):
        return None
    return Answer(credential=body["credential"], name=name)


def client_challenge(answer: Answer) -> str | None:
    """The challenge (base64url) inside the answer's ``clientDataJSON``, unverified."""
    try:
        client_data = json.loads(b64url_decode(answer.credential["response"]["clientDataJSON"]))
    except (ValueError, RecursionError):
        return None
    challenge = client_data.get("challenge") if isinstance(client_data, dict) else None
    return challenge.rstrip("=") if isinstance(challenge, str) and is_b64url(challenge) else None
