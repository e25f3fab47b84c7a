"""The address or number an email or SMS method is bound to, encrypted at rest.

Activation captures the user's value of ``SOURCE_FIELD`` on the method row
(``MFAMethod.destination``) and sends the activation code there; confirming
that code activates the row with it, so the destination is proven. From then
on the method's codes go to that destination only, whatever the profile
says later: a stolen session that edits the address or number does not move
the factor. Moving it means activating the method again.

The value is a Fernet token (:mod:`trench_mfa.state.secrets_at_rest`): a
database dump does not list users' addresses and numbers next to their
factors, and ``manage.py rotate_mfa_keys`` re-encrypts it with the secrets.
"""

from __future__ import annotations

from trench_mfa.models import MFAMethod
from trench_mfa.state.secrets_at_rest import decrypt_secret, encrypt_secret


def seal(value: str | None) -> str:
    """The column value for ``value``: a Fernet token, or ``""`` for none."""
    return encrypt_secret(value) if value else ""


def read(method: MFAMethod) -> str | None:
    """The destination stored on ``method``, or ``None`` when it has none.

    Raises :class:`~trench_mfa.state.secrets_at_rest.SecretDecryptionError`
    when no configured key opens it: a destination that cannot be read is
    never replaced by the profile's value.
    """
    token = method.destination
    return decrypt_secret(token) if token else None


def mask(value: str) -> str:
    """``value`` with most characters hidden, for staff pages.

    ``jane@example.com`` becomes ``j***@example.com`` and ``+48600100200``
    becomes ``+48*******00``: enough to tell two destinations apart, not
    enough to write to one.
    """
    local, at, domain = value.rpartition("@")
    if at:
        return f"{local[:1]}***@{domain}"
    if len(value) <= 5:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 5) + value[-2:]
