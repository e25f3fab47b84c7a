"""Ways to tamper with an ephemeral login token (``challenge_id.secret:mac``)."""

from __future__ import annotations

from django.core import signing

from trench_mfa.state import tokens

#: The kinds :func:`tamper` knows.
TAMPER_KINDS = [
    "flip_mac",
    "flip_secret",
    "swap_id",
    "swap_id_resigned",
    "truncate",
    "drop_last",
    "empty",
    "ten_kb",
    "non_ascii",
    "only_mac",
]


def flip(char: str) -> str:
    """Another base64 character than ``char``."""
    return "A" if char != "A" else "B"


def tamper(token: str, how: str, other: str) -> str:
    """``token`` altered in the way named by ``how`` (one of :data:`TAMPER_KINDS`).

    ``other`` is another live token, for the kinds that swap challenge ids.
    """
    payload, _, mac = token.rpartition(":")
    challenge_id, _, secret = payload.partition(".")
    other_id = other.partition(".")[0]
    if how == "flip_mac":
        return f"{payload}:{mac[:-3]}{flip(mac[-3])}{mac[-2:]}"
    if how == "flip_secret":
        return f"{challenge_id}.{flip(secret[0])}{secret[1:]}:{mac}"
    if how == "swap_id":
        return f"{other_id}.{secret}:{mac}"
    if how == "swap_id_resigned":
        # A valid signature over another challenge's id: the secret must not match.
        return signing.Signer(salt=tokens._SALT, algorithm="sha256").sign(f"{other_id}.{secret}")
    if how == "truncate":
        return token[: len(token) // 2]
    if how == "drop_last":
        return token[:-1]
    if how == "empty":
        return ""
    if how == "ten_kb":
        return token + "A" * 10_000
    if how == "non_ascii":
        return token[:-1] + "é"
    if how == "only_mac":
        return mac
    raise AssertionError(how)
