"""Identifier values in stored form, and the signed keys of confirmation links.

No database access here: the email dispatcher builds links with it, in a
request or in a Celery worker alike.

* :func:`value_digest` is what the database keeps of an email address or
  phone number: a keyed hash of the normalised value, never the value.
* A link key is ``django.core.signing`` output (HMAC-SHA256, timestamped,
  salted for this use only) over the user's primary key, the field and a
  digest of the value the link was sent to. It expires after
  ``VERIFICATION_LINK_VALIDITY`` seconds, and a changed value no longer
  matches its digest, so a link for an old value confirms nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import FieldDoesNotExist
from django.db.models import EmailField
from django.views.decorators.debug import sensitive_variables

from trench_mfa.conf import mfa_settings
from trench_mfa.state import crypto

_LINK_SALT = "trench_mfa.identifier-link"
#: Hex characters of the value digest carried in a link key (128 bits).
_LINK_DIGEST_LENGTH = 32
#: Longer keys are refused before any signature work.
MAX_LINK_KEY_LENGTH = 512


def normalise(value: Any) -> str:
    """The compared form of an identifier value: stripped and case-folded."""
    return str(value).strip().casefold()


def ignores_case(field: str) -> bool:
    """Whether a login by ``field`` finds its user whatever the case of the value.

    Email fields do (``iexact``), except ``USERNAME_FIELD``, which is looked
    up like Django does (``get_by_natural_key``: exact).
    """
    model = get_user_model()
    if field == model.USERNAME_FIELD:
        return False
    try:
        return isinstance(model._meta.get_field(field), EmailField)
    except FieldDoesNotExist:
        return False


def login_form(field: str, value: str) -> str:
    """The part of ``value`` that decides whom a login by ``field`` finds (case-folded or not)."""
    return value.casefold() if ignores_case(field) else value


def as_text(value: Any) -> str | None:
    """An identifier value as stripped text, or ``None`` when empty."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def current_value(user: Any, field: str) -> str | None:
    """The user's value of ``field`` as text, or ``None`` when empty."""
    return as_text(getattr(user, field, None))


def value_digest(field: str, value: Any) -> str:
    """The stored form of ``value`` for ``field`` (hex HMAC-SHA256)."""
    return crypto.keyed_hash("identifier", f"{field}:{normalise(value)}")


@sensitive_variables()
def link_key(user: Any, field: str, value: Any) -> str:
    """A signed, expiring key confirming ``value`` as ``user``'s ``field``."""
    digest = value_digest(field, value)[:_LINK_DIGEST_LENGTH]
    return signing.dumps([str(user.pk), field, digest], salt=_LINK_SALT)


@sensitive_variables()
def read_link_key(key: str) -> tuple[str, str, str] | None:
    """``(user pk, field, value digest prefix)`` of a valid key, else ``None``.

    ``None`` covers every failure alike: too long, tampered, expired, or not
    the expected shape.
    """
    if len(key) > MAX_LINK_KEY_LENGTH or not key.isascii():
        return None
    try:
        payload = signing.loads(
            key, salt=_LINK_SALT, max_age=int(mfa_settings.VERIFICATION_LINK_VALIDITY)
        )
    except signing.BadSignature:
        return None
    if (
        not isinstance(payload, list)
        or len(payload) != 3
        or not all(isinstance(part, str) for part in payload)
    ):
        return None
    pk, field, digest = payload
    return pk, field, digest


def digest_matches(field: str, value: Any, digest_prefix: str) -> bool:
    """Whether a link key's digest prefix is that of ``value``."""
    expected = value_digest(field, value)[:_LINK_DIGEST_LENGTH]
    return crypto.constant_time_equals(expected, digest_prefix)


@sensitive_variables()
def link_url(user: Any, field: str, value: Any) -> str | None:
    """``VERIFICATION_LINK_URL`` with the key filled in; ``None`` when unset."""
    template = mfa_settings.VERIFICATION_LINK_URL
    if not template:
        return None
    return str(template).replace("{key}", link_key(user, field, value))
