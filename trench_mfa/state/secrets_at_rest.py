"""Encryption of reversible secrets stored in the database.

TOTP seeds, bound YubiKey ids and any other secret that must be read back
are stored as Fernet tokens (AES-128-CBC with HMAC-SHA256, authenticated)
under a :class:`~cryptography.fernet.MultiFernet`:

* the keys are ``TRENCH_AUTH["ENCRYPTION_KEYS"]``, newest first; the first
  one encrypts, every one decrypts, so a new key can be put in front while
  rows under an old key keep working until ``manage.py rotate_mfa_keys``;
* without that setting the keys are derived with HKDF-SHA256 from
  ``SECRET_KEY`` and then each of ``SECRET_KEY_FALLBACKS`` (a system check
  recommends explicit keys, so rotating ``SECRET_KEY`` is not also a forced
  rotation of every stored secret).

A token that no configured key opens raises :class:`SecretDecryptionError`:
it is never treated as an empty or valid secret.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.views.decorators.debug import sensitive_variables

from trench_mfa.conf import mfa_settings

#: Context string of the HKDF derivation; changing it changes every derived key.
_HKDF_INFO = b"trench_mfa secrets at rest v1"


class SecretDecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key."""

    def __init__(self) -> None:
        super().__init__(
            "An MFA secret could not be decrypted with any key in "
            "TRENCH_AUTH['ENCRYPTION_KEYS'] (or, when that setting is unset, with "
            "the keys derived from SECRET_KEY and SECRET_KEY_FALLBACKS). Was a key "
            "removed before `manage.py rotate_mfa_keys` re-encrypted the secrets?"
        )


@sensitive_variables()
def derive_key(secret_key: str | bytes) -> bytes:
    """A Fernet key derived from a Django ``SECRET_KEY`` value (HKDF-SHA256)."""
    material = secret_key.encode() if isinstance(secret_key, str) else secret_key
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        material
    )
    return base64.urlsafe_b64encode(derived)


@sensitive_variables()
def configured_keys() -> tuple[bytes, ...]:
    """The Fernet keys in force, newest first.

    Raises ``ImproperlyConfigured`` when ``ENCRYPTION_KEYS`` is set but is
    not a non-empty list of Fernet keys.
    """
    explicit = mfa_settings.ENCRYPTION_KEYS
    if explicit is None:
        fallbacks = getattr(settings, "SECRET_KEY_FALLBACKS", None) or []
        return tuple(derive_key(key) for key in [settings.SECRET_KEY, *fallbacks])
    if isinstance(explicit, str | bytes) or not isinstance(explicit, Iterable):
        raise ImproperlyConfigured("TRENCH_AUTH['ENCRYPTION_KEYS'] must be a list of Fernet keys.")
    keys = tuple(key.encode() if isinstance(key, str) else key for key in explicit)
    for position, key in enumerate(keys):
        if not isinstance(key, bytes):
            # Caught here: an unhashable entry would fail the key cache with a TypeError.
            raise ImproperlyConfigured(
                f"TRENCH_AUTH['ENCRYPTION_KEYS'][{position}] must be a string, "
                f"not {type(key).__name__}."
            )
    if not keys:
        raise ImproperlyConfigured("TRENCH_AUTH['ENCRYPTION_KEYS'] must not be empty.")
    return keys


@lru_cache(maxsize=8)
@sensitive_variables()
def _multi_fernet(keys: tuple[bytes, ...]) -> MultiFernet:
    fernets = []
    for position, key in enumerate(keys):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            # The position, never the key itself, goes into the message.
            raise ImproperlyConfigured(
                f"TRENCH_AUTH['ENCRYPTION_KEYS'][{position}] is not a Fernet key "
                "(32 url-safe base64-encoded bytes; make one with "
                "cryptography.fernet.Fernet.generate_key())."
            ) from None
    return MultiFernet(fernets)


@sensitive_variables()
def get_fernet() -> MultiFernet:
    """The :class:`MultiFernet` over :func:`configured_keys` (cached per key set)."""
    return _multi_fernet(configured_keys())


@sensitive_variables()
def encrypt_secret(plaintext: str) -> str:
    """Encrypt ``plaintext`` with the newest key; the result is ASCII text."""
    return get_fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


@sensitive_variables()
def decrypt_secret(token: str) -> str:
    """Decrypt a value made by :func:`encrypt_secret` with any configured key.

    Raises :class:`SecretDecryptionError` when no key opens it (wrong key,
    tampered or truncated value, or a plaintext secret from before encryption).
    """
    try:
        return get_fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise SecretDecryptionError() from None


@sensitive_variables()
def rotate_secret(token: str) -> str:
    """Re-encrypt ``token`` with the newest key (any configured key may open it)."""
    try:
        return get_fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError):
        raise SecretDecryptionError() from None


@sensitive_variables()
def uses_newest_key(token: str) -> bool:
    """Whether ``token`` already opens with the newest key alone."""
    newest = Fernet(configured_keys()[0])
    try:
        newest.decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeError):
        return False
    return True
