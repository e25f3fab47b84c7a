"""Managing a user's methods: activate, confirm, deactivate, primary, codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import reduce
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from trench_mfa import signals
from trench_mfa.backends.base import DispatchResult
from trench_mfa.backends.provider import get_mfa_handler
from trench_mfa.conf import mfa_settings
from trench_mfa.dispatch.delivery import deliver
from trench_mfa.exceptions import (
    BackupCodesRegenerationDisabled,
    CodeInvalidOrExpired,
    DeactivationOfPrimary,
    MethodAlreadyActive,
    MethodDoesNotExist,
    MFAError,
    NoPrimaryMethod,
    NotEnabled,
    OTPCodeMissing,
    PrimaryMethodInactive,
    SourceFieldDoesNotExist,
)
from trench_mfa.models import CodePurpose, MFAMethod
from trench_mfa.services import devices
from trench_mfa.services.protection import require_config, usable_methods
from trench_mfa.services.verification import (
    FactorCheck,
    Outcome,
    require_well_formed,
    verify_factor,
    verify_protected_action,
)
from trench_mfa.state import (
    audit,
    authtokens,
    backup_codes,
    codes,
    destinations,
    webauthn_credentials,
)
from trench_mfa.state.locks import lock_account
from trench_mfa.user import AnyRequest, AnyUser

if TYPE_CHECKING:
    pass


_MISSING = object()


def _has_source_field(user: AnyUser, path: str) -> bool:
    value = reduce(lambda obj, attr: getattr(obj, attr, _MISSING), path.split("."), user)
    return value is not _MISSING


def _user_method(user: AnyUser, name: str) -> MFAMethod:
    method = MFAMethod.objects.for_user(user).filter(name=name).first()
    if method is None:
        raise MethodDoesNotExist()
    method.user = user  # saves a query when the dispatcher reads the user
    return method


def active_method(user: AnyUser, name: str) -> MFAMethod:
    """The user's method ``name``; 400 when it was never started or is not active."""
    method = _user_method(user, name)
    if not method.is_active:
        raise NotEnabled()
    return method


def _factor_in_use(user: AnyUser) -> MFAMethod | None:
    """The method whose code confirms adding another: the primary (else the oldest).

    ``None`` when MFA is off. Active rows of methods no longer configured
    fail closed, as at login: MFA stays on, and no code can be checked.
    """
    usable = usable_methods(user)
    if not usable and MFAMethod.objects.for_user(user).active().exists():
        raise MethodDoesNotExist()
    if not usable:
        return None
    usable[0].user = user
    return usable[0]


@sensitive_variables()
def _check_existing_factor(user: AnyUser, code: str | None, request: AnyRequest) -> bool:
    """With MFA on, require a code of the method in use (or a backup code).

    Returns whether a code was checked. Adding a method binds a new
    authenticator, so it needs a fresh proof of one the user already has;
    a stolen session alone cannot add one.
    """
    if not mfa_settings.CONFIRM_ACTIVATION_WITH_CODE:
        return False
    in_use = _factor_in_use(user)
    if in_use is None:
        return False
    verify_protected_action(user, in_use, code, request=request)
    return True


@sensitive_variables()
def activate_method(
    user: AnyUser, name: str, code: str | None = None, *, request: AnyRequest = None
) -> DispatchResult:
    """Start activating ``name``: create the pending row and send its code.

    When the user already has an active method, ``code`` must be a current
    code of it (the primary) or a backup code (``CONFIRM_ACTIVATION_WITH_CODE``).
    When the dispatch fails (400, 429, 503) the row is put back as it was, so
    a failed activation changes nothing.
    """
    config = require_config(name)
    if config.source_field and not _has_source_field(user, config.source_field):
        raise SourceFieldDoesNotExist(config.source_field, type(user).__name__)
    # django-trench's order: the method's state before the code.
    if MFAMethod.objects.for_user(user).filter(name=name, is_active=True).exists():
        if not getattr(config.handler, "adds_credentials", False):
            raise MethodAlreadyActive()
        return _add_credential(user, name, code, request)
    # Checked outside the transaction below: a wrong code must stay counted.
    checked = _check_existing_factor(user, code, request)
    with transaction.atomic():
        lock_account(user.pk)
        if not checked and mfa_settings.CONFIRM_ACTIVATION_WITH_CODE and _factor_in_use(user):
            # A parallel confirmation turned MFA on after the check above.
            raise OTPCodeMissing()
        try:
            method, created = MFAMethod.objects.get_or_create(user_id=user.pk, name=name)
        except IntegrityError:
            raise MethodAlreadyActive() from None
        if method.is_active:
            raise MethodAlreadyActive()
        before = (
            method.activation_started_at,
            method.secret,
            method.last_used_step,
            method.destination,
        )
        method.user = user
        method.activation_started_at = timezone.now()
        handler = get_mfa_handler(method, purpose=CodePurpose.ACTIVATION, request=request)
        # Captured with the start: the activation code goes here, so the
        # code that confirms the activation proves this address or number,
        # and the method keeps it whatever the profile says later.
        captured = handler.destination_from_profile() if handler.sends_codes else None
        method.destination = destinations.seal(captured)
        method.save(update_fields=["activation_started_at", "destination"])
        handler.prepare_activation()
    try:
        return deliver(handler)
    except MFAError:
        # Only a row still in the state this request left it in is put back:
        # a parallel activation of the same method may have taken it over
        # (and sent the code that made this one throttled).
        pending = MFAMethod.objects.filter(
            pk=method.pk, is_active=False, activation_started_at=method.activation_started_at
        )
        if created:
            pending.delete()
        else:
            started, secret, step, destination = before
            pending.update(
                activation_started_at=started,
                secret=secret,
                last_used_step=step,
                destination=destination,
            )
        raise


@dataclass(frozen=True)
class Confirmed:
    """What confirming an activation hands to the client (both shown once)."""

    #: The user's new set when this method turned MFA on, else ``[]``.
    backup_codes: list[str] = field(repr=False)
    #: The user's new authtoken key, when the old one was replaced for a
    #: caller that authenticated with it (see :func:`confirm_activation`).
    auth_token: str | None = field(default=None, repr=False)


@sensitive_variables()
def _replace_authtoken(user: AnyUser, *, reissue: bool) -> str | None:
    """MFA has just gone on: the key of a password-only login must stop working.

    Called inside the confirmation's transaction, under the user's lock.
    Returns the new key when ``reissue``, for the client that confirmed.
    """
    if not mfa_settings.ROTATE_AUTHTOKEN_ON_ENABLE:
        return None
    authtokens.delete_key(user.pk)
    return authtokens.issue_key(user) if reissue else None


@sensitive_variables()
def _add_credential(
    user: AnyUser, name: str, code: str | None, request: AnyRequest
) -> DispatchResult:
    """Start registering one more credential with an active method (WebAuthn: a key).

    MFA is on, so a code of the method in use (or a backup code) is required
    first; the method row stays as it is while the new credential registers.
    """
    _check_existing_factor(user, code, request)
    method = active_method(user, name)
    with transaction.atomic():
        lock_account(user.pk)
        started = timezone.now()
        MFAMethod.objects.filter(pk=method.pk).update(activation_started_at=started)
        method.activation_started_at = started
        handler = get_mfa_handler(method, purpose=CodePurpose.ACTIVATION, request=request)
        handler.prepare_activation()
    return deliver(handler)


@sensitive_variables()
def _checked_activation_code(
    user: AnyUser, method: MFAMethod, code: str, request: AnyRequest
) -> tuple[datetime, Outcome]:
    """Check ``code`` against ``method``'s started activation; when it started, and the outcome.

    Raises ``400 code_invalid_or_expired`` for a malformed, wrong or late
    code and ``429`` while the method backs off or is locked.
    """
    check = FactorCheck(user, method, code, CodePurpose.ACTIVATION, request=request)
    require_well_formed(check.dispatcher(), code, allow_backup=False)
    started = method.activation_started_at
    window = timedelta(seconds=mfa_settings.ACTIVATION_VALIDITY)
    if started is None or started + window <= timezone.now():
        raise CodeInvalidOrExpired()
    outcome = verify_factor(check)
    outcome.raise_if_refused()
    if not outcome.ok:
        raise CodeInvalidOrExpired()
    return started, outcome


@sensitive_variables()
def _confirm_credential(
    user: AnyUser, method: MFAMethod, code: str, request: AnyRequest
) -> Confirmed:
    """Store the credential whose registration ``code`` answers, for the active ``method``."""
    started, outcome = _checked_activation_code(user, method, code, request)
    with transaction.atomic():
        lock_account(user.pk)
        if not MFAMethod.objects.filter(
            pk=method.pk, is_active=True, activation_started_at=started
        ).update(activation_started_at=None):
            raise CodeInvalidOrExpired()
        outcome.handler.confirm_activation(code)
    return Confirmed([])


@sensitive_variables()
def confirm_activation(
    user: AnyUser,
    name: str,
    code: str,
    *,
    request: AnyRequest = None,
    reissue_key: bool = False,
) -> Confirmed:
    """Confirm a pending method with its code; backup codes (or ``[]``) and maybe a key.

    The code is checked by :func:`verify_factor` (back-off and lockout on the
    pending method's row; no backup code). When this turns MFA on and
    ``ROTATE_AUTHTOKEN_ON_ENABLE`` is set, the user's DRF authtoken key is
    deleted in the same transaction; ``reissue_key`` (the caller
    authenticated with that key) gives the caller a new one.
    """
    config = require_config(name)
    method = _user_method(user, name)
    if method.is_active:
        if getattr(config.handler, "adds_credentials", False):
            return _confirm_credential(user, method, code, request)
        raise MethodAlreadyActive()
    started, outcome = _checked_activation_code(user, method, code, request)
    with transaction.atomic():
        lock_account(user.pk)
        # Conditional on the activation read above: one that was restarted
        # or voided since (see below) is not confirmed by this code. The
        # destination its code went to becomes the one the method is bound to.
        if not MFAMethod.objects.filter(
            pk=method.pk,
            is_active=False,
            activation_started_at=started,
            destination=method.destination,
        ).update(is_active=True, activation_started_at=None):
            if MFAMethod.objects.filter(pk=method.pk, is_active=True).exists():
                raise MethodAlreadyActive()
            raise CodeInvalidOrExpired()
        mine = MFAMethod.objects.for_user(user)
        first = not mine.active().exclude(pk=method.pk).exists()
        if first and mfa_settings.CONFIRM_ACTIVATION_WITH_CODE:
            # Other activations were started while MFA was off, without a
            # code of an existing method; MFA is on now, so they start over.
            mine.filter(is_active=False, activation_started_at__isnull=False).update(
                activation_started_at=None, destination=""
            )
        if not mine.primary().exists():
            mine.filter(pk=method.pk).update(is_primary=True)
        outcome.handler.confirm_activation(code)
        confirmed = (
            Confirmed(
                backup_codes.replace_backup_codes(user.pk),
                _replace_authtoken(user, reissue=reissue_key),
            )
            if first
            else Confirmed([])
        )
    audit.send(signals.mfa_method_activated, __name__, user=user, method=name, request=request)
    return confirmed


@sensitive_variables()
def deactivate_method(
    user: AnyUser, name: str, code: str | None, *, request: AnyRequest = None
) -> None:
    """Deactivate ``name``; the last method turns MFA off and drops backup codes."""
    require_config(name)
    method = active_method(user, name)
    require_deactivation_allowed(user, method)
    if mfa_settings.CONFIRM_DISABLE_WITH_CODE:
        verify_protected_action(user, method, code, request=request)
    with transaction.atomic():
        lock_account(user.pk)
        switch_off(user, method, request=request)
    audit.send(signals.mfa_method_deactivated, __name__, user=user, method=name, request=request)


def require_deactivation_allowed(user: AnyUser, method: MFAMethod) -> None:
    """Refuse to deactivate the primary method while other methods are active."""
    others = MFAMethod.objects.for_user(user).active().exclude(pk=method.pk)
    if method.is_primary and others.exists():
        raise DeactivationOfPrimary()


def switch_off(user: AnyUser, method: MFAMethod, *, request: AnyRequest = None) -> None:
    """Deactivate ``method`` (the caller holds the account's locks and audits it).

    Its codes, WebAuthn credentials and challenges go; the last method takes
    the backup codes with it; remembered devices are revoked.
    """
    mine = MFAMethod.objects.for_user(user)
    # The bound destination goes with the activation: activating again
    # captures the profile's value of that moment.
    mine.filter(pk=method.pk).update(is_active=False, is_primary=False, destination="")
    codes.void_codes(method)
    webauthn_credentials.forget_methods([method.pk])
    mfa_off = not mine.active().exclude(pk=method.pk).exists()
    if mfa_off:
        backup_codes.delete_backup_codes(user.pk)
    # A device remembered with the removed method must prove the others.
    reason = devices.MFA_DISABLED if mfa_off else devices.METHOD_REMOVED
    devices.revoke_all(user, reason=reason, request=request)


def require_regeneration_allowed() -> None:
    """Refuse regeneration when ``ALLOW_BACKUP_CODES_REGENERATION`` is off.

    django-trench checks this before anything else of the request.
    """
    if not mfa_settings.ALLOW_BACKUP_CODES_REGENERATION:
        raise BackupCodesRegenerationDisabled()


@sensitive_variables()
def regenerate_backup_codes(
    user: AnyUser, name: str, code: str | None, *, request: AnyRequest = None
) -> list[str]:
    """Replace the user's backup codes (a code of ``name`` confirms it)."""
    require_regeneration_allowed()
    require_config(name)
    method = active_method(user, name)
    if mfa_settings.CONFIRM_BACKUP_CODES_REGENERATION_WITH_CODE:
        verify_protected_action(user, method, code, request=request)
    with transaction.atomic():
        lock_account(user.pk)
        codes = backup_codes.replace_backup_codes(user.pk)
        # Regenerating is what a user does who fears their codes leaked.
        devices.revoke_all(user, reason=devices.BACKUP_CODES_REGENERATED, request=request)
    audit.send(signals.backup_codes_regenerated, __name__, user=user, method=name, request=request)
    return codes


def request_code(user: AnyUser, name: str | None, *, request: AnyRequest = None) -> DispatchResult:
    """Send a code for a protected action (default: the primary method)."""
    if name:
        require_config(name)
        method = active_method(user, name)
    else:
        method = require_primary_method(user)
    return deliver(get_mfa_handler(method, purpose=CodePurpose.ACTION, request=request))


def require_primary_method(
    user: AnyUser, missing: type[MFAError] = MethodDoesNotExist
) -> MFAMethod:
    """The user's primary method, active and configured; else raise ``missing``.

    Both errors say "Requested MFA method does not exist."; ``NoPrimaryMethod``
    is the bare-list answer of ``change-primary-method/``.
    """
    primary = MFAMethod.objects.for_user(user).primary().first()
    if primary is None or mfa_settings.method(primary.name) is None:
        raise missing()
    primary.user = user
    return primary


@sensitive_variables()
def change_primary_method(
    user: AnyUser, name: str, code: str | None, *, request: AnyRequest = None
) -> None:
    """Make ``name`` primary; a code of the current primary confirms it.

    django-trench's order: the current primary, its code, then the new one
    (a method never started does not exist; a started one must be active).
    """
    require_config(name)
    current = require_primary_method(user, NoPrimaryMethod)
    verify_protected_action(user, current, code, request=request)
    mine = MFAMethod.objects.for_user(user)
    target = mine.filter(name=name).first()
    if target is None:
        raise MethodDoesNotExist()
    if not target.is_active:
        raise PrimaryMethodInactive()
    if current.pk == target.pk:
        return
    with transaction.atomic():
        lock_account(user.pk)
        mine.filter(is_primary=True).update(is_primary=False)
        mine.filter(pk=target.pk, is_active=True).update(is_primary=True)
    audit.send(signals.primary_method_changed, __name__, user=user, method=name, request=request)


def list_active_methods(user: AnyUser) -> list[dict[str, Any]]:
    """The user's active, configured methods: name and primary flag only."""
    configured = mfa_settings.methods
    # In the order they were created, as django-trench lists them.
    rows = MFAMethod.objects.for_user(user).active().order_by("pk")
    return [
        {"name": name, "is_primary": primary}
        for name, primary in rows.values_list("name", "is_primary")
        if name in configured
    ]


def config_info() -> dict[str, Any]:
    """What the client may offer: method names and the confirmation policy."""
    return {
        "methods": list(mfa_settings.methods),
        "confirm_disable_with_code": mfa_settings.CONFIRM_DISABLE_WITH_CODE,
        "confirm_activation_with_code": mfa_settings.CONFIRM_ACTIVATION_WITH_CODE,
        "confirm_regeneration_with_code": mfa_settings.CONFIRM_BACKUP_CODES_REGENERATION_WITH_CODE,
        "allow_backup_codes_regeneration": mfa_settings.ALLOW_BACKUP_CODES_REGENERATION,
    }
