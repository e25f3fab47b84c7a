"""Registered WebAuthn credentials: add, find, count their use, remove.

A credential's id is unique across all users (a unique column holds its
SHA-256). Its signature counter only moves forward: :func:`record_use`
stores the new value by a conditional ``UPDATE``, so of two parallel
answers with the same counter only one is accepted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from trench_mfa.models import MFAMethod, WebAuthnChallenge, WebAuthnCredential
from trench_mfa.user import AnyUser

#: The longest credential id the WebAuthn spec allows (1023 bytes), base64url.
MAX_ID_LENGTH = 1364


def digest(credential_id: str) -> str:
    """The stored lookup key of a credential id (base64url, as browsers send it)."""
    return hashlib.sha256(credential_id.encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True)
class NewCredential:
    """What a verified registration yields, to be stored."""

    credential_id: str
    public_key: bytes
    sign_count: int
    transports: Sequence[str]
    backup_eligible: bool
    backed_up: bool
    name: str


def of_method(method: MFAMethod) -> QuerySet[WebAuthnCredential]:
    """The credentials of one method row, oldest first."""
    return WebAuthnCredential.objects.filter(method_id=method.pk).order_by("pk")


def of_user(user: AnyUser, method_name: str) -> QuerySet[WebAuthnCredential]:
    """The credentials of the user's method ``method_name``, oldest first."""
    return WebAuthnCredential.objects.filter(
        method__user_id=user.pk, method__name=method_name
    ).order_by("pk")


def is_registered(credential_id: str) -> bool:
    """Whether any user has registered this credential id."""
    return WebAuthnCredential.objects.filter(credential_digest=digest(credential_id)).exists()


def find(credential_id: str) -> WebAuthnCredential | None:
    """The credential with this id, with its method row and user, or ``None``."""
    if not credential_id.isascii() or len(credential_id) > MAX_ID_LENGTH:
        return None
    return (
        WebAuthnCredential.objects.select_related("method__user")
        .filter(credential_digest=digest(credential_id))
        .first()
    )


def add(method: MFAMethod, new: NewCredential) -> WebAuthnCredential | None:
    """Store ``new`` for ``method``; ``None`` when its id is taken (by anyone)."""
    try:
        with transaction.atomic():
            return WebAuthnCredential.objects.create(
                method=method,
                name=new.name,
                credential_id=new.credential_id,
                credential_digest=digest(new.credential_id),
                public_key=new.public_key,
                sign_count=new.sign_count,
                transports=list(new.transports),
                backup_eligible=new.backup_eligible,
                backed_up=new.backed_up,
            )
    except IntegrityError:
        return None


def record_use(credential: WebAuthnCredential, sign_count: int, *, backed_up: bool) -> bool:
    """Store the counter of an accepted answer; ``False`` when a parallel one got there first."""
    updated = WebAuthnCredential.objects.filter(
        pk=credential.pk, sign_count=credential.sign_count
    ).update(sign_count=sign_count, backed_up=backed_up, last_used_at=timezone.now())
    return updated == 1


def forget_methods(method_ids: Sequence[int]) -> int:
    """Delete the credentials of deactivated methods and void their live challenges.

    Returns the number of credentials deleted. A re-activation starts with
    no credential, so a key removed from an account never comes back.
    """
    WebAuthnChallenge.objects.filter(method_id__in=method_ids, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    deleted, _ = WebAuthnCredential.objects.filter(method_id__in=method_ids).delete()
    return deleted
