"""Row locks, always taken in one order: the user row, then their method rows by key.

Plus one lock that is not a row's: :func:`lock_value`, for claims of one
identifier value across accounts.
"""

from __future__ import annotations

import hashlib
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Model, QuerySet

from trench_mfa.models import MFAMethod
from trench_mfa.user import UserPk

_M = TypeVar("_M", bound=Model)


def locking(queryset: QuerySet[_M], **options: Any) -> QuerySet[_M]:
    """``queryset`` locking its rows for this package's state changes.

    ``FOR NO KEY UPDATE`` where the database has it (PostgreSQL): it
    serialises our writers exactly like ``FOR UPDATE`` but does not block the
    key-share locks that inserts referencing the row take (an audit event or
    a code pointing at the user or method), which would otherwise deadlock
    against a writer holding that row.
    """
    no_key = connections[queryset.db].features.has_select_for_no_key_update
    return queryset.select_for_update(no_key=no_key, **options)


def lock_user(user_id: UserPk) -> None:
    """Serialise state changes of one user (a row lock on PostgreSQL)."""
    list(locking(get_user_model().objects.filter(pk=user_id)).values_list("pk"))


def lock_methods(user_id: UserPk) -> list[MFAMethod]:
    """Every method row of the user, locked, in primary-key order.

    The lock order of the package is: the user row (:func:`lock_user`), then
    the user's method rows by primary key. A code check takes only the method
    rows: they carry every counter it reads and writes (back-off, lockout,
    replay guard), so one query reads the state and serialises the checks of
    one user across methods.
    """
    return list(locking(MFAMethod.objects.for_user(user_id)).order_by("pk"))


def lock_account(user_id: UserPk) -> None:
    """Lock the user row, then all their method rows: before changing several rows.

    Writers that change more than one method row of a user take the locks in
    the package's order first, so they never deadlock with a code check
    (which locks the method rows by primary key).
    """
    lock_user(user_id)
    lock_methods(user_id)


def lock_value(field: str, digest: str, *, using: str = "default") -> None:
    """Serialise, until the transaction ends, the claims of one identifier value.

    Two accounts confirming the same address at once must not both win
    (:func:`trench_mfa.services.identifiers.confirm_link`): the check that no
    other account holds it and the write must not interleave, and the rows
    involved belong to different users, so no row lock covers them. On
    PostgreSQL this is a transaction-level advisory lock keyed by the value's
    keyed digest; SQLite has one writer, and a second claimant's write fails
    rather than interleaves. Call inside ``transaction.atomic()``.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    name = f"trench_mfa.claim:{field}:{digest}".encode()
    key = int.from_bytes(hashlib.sha256(name).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
