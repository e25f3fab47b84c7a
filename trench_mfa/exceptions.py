"""Domain errors of trench_mfa.

Every error is an :class:`MFAError` (a DRF ``APIException``) with a stable
``default_code``. The API renders it as django-trench 0.3.1 does at that
endpoint: ``{"error": <message>, "error_code": <code>}`` by default, or as a
DRF field error ``{"<field>": [<message>]}`` whose ``ErrorDetail.code`` is the
error code (see :mod:`trench_mfa.api.errors`). Messages shared with
django-trench are kept word for word.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException


class MFAError(APIException):
    """Base class: a failure a client can act on, with a stable error code."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_detail = _("Multi-factor authentication error.")
    default_code = "mfa_error"
    #: The request field this error is about wherever it is raised (rendered
    #: as a field error); ``None``: the view decides (by default the envelope).
    field: str | None = None
    #: Rendered as a bare list of messages (``["<message>"]``).
    as_list: bool = False

    def __init__(self, detail: Any = None, code: str | None = None) -> None:
        super().__init__(detail=detail, code=code)

    @property
    def error_code(self) -> str:
        """The machine-readable code of this error."""
        return str(getattr(self.detail, "code", self.default_code))

    def payload(self) -> dict[str, Any]:
        """The response body for this error."""
        return {"error": str(self.detail), "error_code": self.error_code}

    def headers(self) -> dict[str, str]:
        """Extra response headers for this error."""
        return {}


class CodeInvalidOrExpired(MFAError):
    """A code given to a management endpoint did not verify."""

    default_detail = _("Code invalid or expired.")
    default_code = "code_invalid_or_expired"


class MalformedCode(CodeInvalidOrExpired):
    """A code that no accepted format matches (wrong length, alphabet or type).

    Worded as django-trench words any code it cannot verify, and always a
    field error of ``code``; its own error code tells it apart for clients.
    """

    default_code = "invalid_input"
    field = "code"


class OTPCodeMissing(MFAError):
    """A protected action needs a code and none was given."""

    default_detail = _("OTP code not provided.")
    default_code = "otp_code_missing"


class MethodDoesNotExist(MFAError):
    """The method name is not configured, or the user never started it."""

    default_detail = _("Requested MFA method does not exist.")
    default_code = "mfa_method_does_not_exist"


class NoPrimaryMethod(MethodDoesNotExist):
    """The user has no primary method to confirm a change of it with.

    django-trench answers this case of ``change-primary-method/`` with a bare
    list of messages (a non-field ``ValidationError``), so it is rendered so.
    """

    as_list = True


class PrimaryMethodInactive(MFAError):
    """The method chosen as the new primary is not active."""

    default_detail = _("MFA Method selected as new primary method is not active")
    default_code = "new_primary_method_inactive"


class MethodAlreadyActive(MFAError):
    """Activation of a method that is already active."""

    default_detail = _("MFA method already active.")
    default_code = "method_already_active"


class DeactivationOfPrimary(MFAError):
    """Deactivating the primary method while other methods are active."""

    default_detail = _("Deactivation of MFA method that is set as primary is not allowed.")
    default_code = "deactivation_of_primary"


class NotEnabled(MFAError):
    """The method (or MFA as a whole) is not active for this user."""

    default_detail = _("2FA is not enabled.")
    default_code = "not_enabled"


class InvalidToken(MFAError):
    """The ephemeral login token is bad, expired, used or tampered with."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = _("Invalid or expired token.")
    default_code = "invalid_token"


class InvalidCode(MFAError):
    """A wrong code at login step 2."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = _("Invalid or expired code.")
    default_code = "invalid_code"


class Unauthenticated(MFAError):
    """Login step 1 failed: unknown user, wrong password or inactive user."""

    default_detail = _("Unable to login with provided credentials.")
    default_code = "unauthenticated"


class SourceFieldDoesNotExist(MFAError):
    """The method's ``SOURCE_FIELD`` is not a field of the user model."""

    default_code = "source_field_not_exist"

    def __init__(self, field: str, model: str) -> None:
        super().__init__(
            _("Field name `{field}` is not valid for model `{model}`.").format(
                field=field, model=model
            )
        )


class BackupCodesRegenerationDisabled(MFAError):
    """``ALLOW_BACKUP_CODES_REGENERATION`` is off."""

    default_detail = _("Backup codes regeneration is not allowed.")
    default_code = "backup_codes_regeneration_disabled"


class InvalidInput(MFAError):
    """The request is well formed but cannot be acted on (e.g. no recipient)."""

    default_detail = _("Invalid input.")
    default_code = "invalid_input"


class DispatchFailed(MFAError):
    """The code could not be delivered; no usable code was left behind."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The code could not be sent. Please try again later.")
    default_code = "dispatch_failed"


class DatabaseUnavailable(MFAError):
    """The database connection failed mid-request; the transaction was rolled back whole.

    Answered instead of Django's 500 page so that a client (or a load
    balancer) knows that retrying, on this or another server, is safe.
    """

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The service is temporarily unavailable. Please try again later.")
    default_code = "service_unavailable"


class Throttled(MFAError):
    """Too many requests: retry after ``retry_after`` seconds."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = _("Too many attempts. Please try again later.")
    default_code = "throttled"

    def __init__(self, retry_after: int, detail: Any = None) -> None:
        super().__init__(detail)
        self.retry_after = max(1, int(retry_after))

    def payload(self) -> dict[str, Any]:
        """The error body plus ``retry_after`` in seconds."""
        return {**super().payload(), "retry_after": self.retry_after}

    def headers(self) -> dict[str, str]:
        """``Retry-After`` in seconds."""
        return {"Retry-After": str(self.retry_after)}


class Locked(Throttled):
    """The method is locked after too many consecutive failures."""

    default_detail = _("Too many failed attempts. This method is locked for a while.")
    default_code = "locked"


class IdentifierNotConfirmed(MFAError):
    """The address or number has not been confirmed, so it cannot be trusted yet."""

    default_detail = _("Confirm this address before using it.")
    default_code = "identifier_not_confirmed"


class IdentifierAlreadyConfirmed(MFAError):
    """A verification code was asked for an identifier that is already confirmed."""

    default_detail = _("This address is already confirmed.")
    default_code = "identifier_already_confirmed"


class IdentifierTaken(MFAError):
    """The value is already confirmed by another account; this one cannot confirm it too.

    Two accounts with the same confirmed value would make a login by that
    value match nobody, so a second confirmation would silently switch off
    the owner's passwordless login.
    """

    default_detail = _("This address is already confirmed by another account.")
    default_code = "identifier_taken"


class UnknownIdentifier(MFAError):
    """The field is not one of the verified identifiers (``IDENTIFIERS``)."""

    default_detail = _("This field cannot be verified.")
    default_code = "unknown_identifier"


class InvalidLink(MFAError):
    """A confirmation link that is tampered with, expired or for an old value."""

    default_detail = _("Invalid or expired link.")
    default_code = "invalid_link"


class InvalidPassword(MFAError):
    """The current password given to confirm a change is wrong."""

    default_detail = _("Invalid password.")
    default_code = "invalid_password"
