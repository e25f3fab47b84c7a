"""Identifier verification: confirm an email address or phone number.

``TRENCH_AUTH["IDENTIFIERS"]`` names the fields to verify and the method that
sends their codes. A code goes to the value through that method's dispatcher
with the purpose ``verification`` (same one-time-code table, expiry, attempt
cap, cooldown and per-number cap as every other code), from the user's row
of that method: an inactive "channel" row when the user has not activated
the method for MFA. Such a row is never listed, never primary and never used
as a second factor; it only carries the codes and the failure counters, so
back-off and lockout count verification codes like any other.

A value is confirmed by its code (:func:`confirm_code`) or, for email, by the
signed link in the message (:func:`confirm_link`). Only a digest of the
confirmed value is stored (:class:`~trench_mfa.models.VerifiedIdentifier`);
a changed value is unconfirmed until confirmed again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from trench_mfa.backends.base import DispatchResult
from trench_mfa.backends.provider import get_mfa_handler
from trench_mfa.dispatch.delivery import deliver
from trench_mfa.exceptions import (
    CodeInvalidOrExpired,
    IdentifierAlreadyConfirmed,
    IdentifierTaken,
    InvalidInput,
    InvalidLink,
    UnknownIdentifier,
)
from trench_mfa.flows import Identifier, identifiers
from trench_mfa.models import CodePurpose, MFAMethod, VerifiedIdentifier
from trench_mfa.services.verification import FactorCheck, verify_factor
from trench_mfa.state import codes, identity
from trench_mfa.state.confirmations import confirmed_by_another

# Re-exported: checking a confirmation is part of this service's API; the
# rows are read in the state layer, where the delivery of codes reads them too.
from trench_mfa.state.confirmations import confirmed_user_ids as confirmed_user_ids
from trench_mfa.state.confirmations import is_confirmed as is_confirmed
from trench_mfa.state.confirmations import require_confirmed as require_confirmed
from trench_mfa.state.locks import lock_value
from trench_mfa.user import AnyRequest, AnyUser

if TYPE_CHECKING:
    pass


def channel_method(user: AnyUser, name: str) -> MFAMethod:
    """The user's row of method ``name``, created inactive when missing."""
    method, _created = MFAMethod.objects.get_or_create(user_id=user.pk, name=name)
    method.user = user
    return method


def _configured(field: str) -> Identifier:
    ident = identifiers().get(field)
    if ident is None:
        raise UnknownIdentifier()
    return ident


def mark_confirmed(user: AnyUser, field: str) -> None:
    """Record ``user``'s current value of ``field`` as confirmed (support tools, sign-up)."""
    value = identity.current_value(user, field)
    if value is None:
        return
    VerifiedIdentifier.objects.update_or_create(
        user_id=user.pk,
        field=field,
        defaults={
            "value_digest": identity.value_digest(field, value),
            "confirmed_at": timezone.now(),
            "pending_digest": "",
        },
    )
    _void_codes(user, field)


def _claim(user: AnyUser, field: str, value: str) -> None:
    """Confirm ``value`` for ``user``; :class:`IdentifierTaken` if another account holds it.

    A second confirmed holder would make a login by ``value`` match nobody
    (:func:`trench_mfa.login.start.find_user`): whoever signs up with the
    owner's address, and gets a mail filter to open the link, would switch
    the owner's passwordless login off. The first confirmation keeps the
    value; nothing is written for the second, also when both confirm at once
    (the value's lock serialises the check and the write).
    """
    using = router.db_for_write(VerifiedIdentifier)
    with transaction.atomic(using=using):
        lock_value(field, identity.value_digest(field, value), using=using)
        if confirmed_by_another(user, field, value):
            raise IdentifierTaken()
        mark_confirmed(user, field)


def reset(user: AnyUser, field: str) -> None:
    """Forget any confirmation of ``field`` and void its live verification codes."""
    VerifiedIdentifier.objects.filter(user_id=user.pk, field=field).update(
        value_digest="", confirmed_at=None, pending_digest=""
    )
    _void_codes(user, field)


def _void_codes(user: AnyUser, field: str) -> None:
    ident = identifiers().get(field)
    if ident is None:
        return
    method = MFAMethod.objects.for_user(user).filter(name=ident.method).first()
    if method is not None:
        codes.void_codes(method, CodePurpose.VERIFICATION)


def request_code(user: AnyUser, field: str, *, request: AnyRequest = None) -> DispatchResult:
    """Send a verification code (and, by email, a link) to ``user``'s ``field``.

    400 for an unknown field, a missing value or a value already confirmed;
    the cooldown and per-number cap apply (429), a failed send is 503.
    """
    ident = _configured(field)
    value = identity.current_value(user, field)
    if value is None:
        raise InvalidInput(_("This account has no value to verify for this field."))
    if is_confirmed(user, field):
        raise IdentifierAlreadyConfirmed()
    method = channel_method(user, ident.method)
    result = deliver(get_mfa_handler(method, purpose=CodePurpose.VERIFICATION, request=request))
    # Recorded once the code exists: the code confirms this value only.
    VerifiedIdentifier.objects.update_or_create(
        user_id=user.pk,
        field=field,
        defaults={"pending_digest": identity.value_digest(field, value)},
    )
    return result


@sensitive_variables()
def confirm_code(user: AnyUser, field: str, code: str, *, request: AnyRequest = None) -> None:
    """Confirm ``field`` with the code sent to its current value.

    The code goes through :func:`~trench_mfa.services.verification.verify_factor`
    (format 400, back-off and lockout 429, audit); a wrong code, or a code
    sent to a value the user has changed since, is 400
    ``code_invalid_or_expired``. Backup codes are not accepted.
    """
    ident = _configured(field)
    method = MFAMethod.objects.for_user(user).filter(name=ident.method).first()
    if method is None:
        raise CodeInvalidOrExpired()
    method.user = user
    check = FactorCheck(
        user, method, code, CodePurpose.VERIFICATION, request=request, allow_backup=False
    )
    outcome = verify_factor(check)
    outcome.raise_if_refused()
    if not outcome.ok:
        raise CodeInvalidOrExpired()
    value = identity.current_value(user, field)
    pending = VerifiedIdentifier.objects.filter(user_id=user.pk, field=field).first()
    if (
        value is None
        or pending is None
        or pending.pending_digest != identity.value_digest(field, value)
    ):
        raise CodeInvalidOrExpired()
    _claim(user, field, value)


@sensitive_variables()
def _link_target(key: str) -> tuple[AnyUser, str, str]:
    """The user, field and current value a link key confirms; :class:`InvalidLink` otherwise."""
    parts = identity.read_link_key(key)
    if parts is None:
        raise InvalidLink()
    pk, field, digest = parts
    if field not in identifiers():
        raise InvalidLink()
    try:
        user = get_user_model()._default_manager.filter(pk=pk).first()
    except (ValueError, TypeError, ValidationError):
        user = None
    value = identity.current_value(user, field) if user is not None else None
    if user is None or value is None or not identity.digest_matches(field, value, digest):
        raise InvalidLink()
    return user, field, value


@sensitive_variables()
def confirm_link(key: str) -> None:
    """Confirm the value a link was sent to; :class:`InvalidLink` otherwise.

    Tampered, expired and foreign keys, keys for a field that is no longer
    verified, and keys for a value the user has changed since, all fail
    alike. Using a valid link again changes nothing. A value another
    account has confirmed is :class:`IdentifierTaken`.
    """
    user, field, value = _link_target(key)
    _claim(user, field, value)


@sensitive_variables()
def check_link(key: str) -> None:
    """Raise :class:`InvalidLink` unless ``key`` would confirm something; change nothing.

    The ``GET`` of a link answers with this: a mail scanner that opens the
    link must not confirm the address, and the answer for a bad key is the
    same ``invalid_link`` a ``POST`` gets, so ``GET`` tells no more than it.
    """
    _link_target(key)


def describe(user: AnyUser) -> dict[str, Any]:
    """``{field: confirmed}`` for every verified identifier field (support tools)."""
    return {field: is_confirmed(user, field) for field in identifiers()}
