"""Small cryptographic helpers: random codes and keyed hashes.

Everything random comes from :mod:`secrets`; every keyed hash uses Django's
``salted_hmac`` (HMAC-SHA256 under ``SECRET_KEY``), so a database leak alone
does not reveal a code, and rotating ``SECRET_KEY`` voids outstanding codes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.utils.crypto import salted_hmac
from django.views.decorators.debug import sensitive_variables

_DIGITS = "0123456789"


@sensitive_variables()
def generate_numeric_code(length: int) -> str:
    """A zero-padded string of ``length`` random ASCII digits."""
    return "".join(secrets.choice(_DIGITS) for _ in range(length))


@sensitive_variables()
def generate_string(alphabet: str, length: int) -> str:
    """A random string of ``length`` characters drawn from ``alphabet``."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


@sensitive_variables()
def keyed_hash(purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` under a key derived for ``purpose`` (hex)."""
    return salted_hmac(f"trench_mfa.{purpose}", value, algorithm="sha256").hexdigest()


@sensitive_variables()
def plain_hash(value: str) -> str:
    """SHA-256 of a high-entropy random value (hex); not for guessable input."""
    return hashlib.sha256(value.encode("ascii")).hexdigest()


@sensitive_variables()
def constant_time_equals(left: str, right: str) -> bool:
    """Compare two ASCII strings in constant time (bytes, never ``str``).

    ``hmac.compare_digest`` raises ``TypeError`` on non-ASCII ``str``; comparing
    UTF-8 bytes keeps any input a plain mismatch.
    """
    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))
