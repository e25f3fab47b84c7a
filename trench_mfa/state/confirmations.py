"""Which identifier values (email, phone) are confirmed: the ``VerifiedIdentifier`` rows.

Read by the login (only confirmed values name a user), by the delivery of
activation codes (they go only to a confirmed value) and by the
identifier use cases in :mod:`trench_mfa.services.identifiers`, which also
write the rows.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from trench_mfa.exceptions import IdentifierNotConfirmed
from trench_mfa.flows import identifiers
from trench_mfa.models import VerifiedIdentifier
from trench_mfa.state import identity
from trench_mfa.user import AnyUser


def is_confirmed(user: AnyUser, field: str) -> bool:
    """Whether ``user``'s current value of ``field`` is confirmed.

    Fields that ``IDENTIFIERS`` does not name are not verified at all and
    count as confirmed; an empty value never is.
    """
    if field not in identifiers():
        return True
    value = identity.current_value(user, field)
    if value is None:
        return False
    return VerifiedIdentifier.objects.filter(
        user_id=user.pk,
        field=field,
        value_digest=identity.value_digest(field, value),
        confirmed_at__isnull=False,
    ).exists()


def confirmed_user_ids(field: str, value: Any) -> QuerySet[VerifiedIdentifier, Any]:
    """Primary keys of the users whose confirmed value of ``field`` is ``value`` (a subquery)."""
    return VerifiedIdentifier.objects.filter(
        field=field, value_digest=identity.value_digest(field, value), confirmed_at__isnull=False
    ).values("user_id")


def confirmed_by_another(user: AnyUser, field: str, value: Any) -> bool:
    """Whether a user other than ``user`` has ``value`` of ``field`` confirmed now.

    A row only counts while it matches that user's *current* value, as in
    :func:`is_confirmed`: a row left behind by a change that bypassed the
    save signal (``QuerySet.update``) must not keep the value taken.
    """
    others = confirmed_user_ids(field, value).exclude(user_id=user.pk)
    holders = get_user_model()._default_manager.filter(pk__in=others)
    return any(is_confirmed(other, field) for other in holders)


def require_confirmed(user: AnyUser, field: str) -> None:
    """Raise :class:`IdentifierNotConfirmed` unless :func:`is_confirmed`."""
    if not is_confirmed(user, field):
        raise IdentifierNotConfirmed()
