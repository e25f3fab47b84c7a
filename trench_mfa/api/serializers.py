"""Request and response serializers. They validate shape only; no side effects."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from trench_mfa.api.fields import (
    CodeField,
    MethodChoiceField,
    MethodNameField,
    StrictCharField,
    TokenField,
)
from trench_mfa.conf import mfa_settings
from trench_mfa.exceptions import MethodDoesNotExist


class InputSerializer(serializers.Serializer[Any]):
    """Base of input serializers: they never save anything."""

    def create(self, validated_data: Any) -> Any:
        """Input serializers do not create objects."""
        raise NotImplementedError

    def update(self, instance: Any, validated_data: Any) -> Any:
        """Input serializers do not update objects."""
        raise NotImplementedError


class CodeSerializer(InputSerializer):
    """A required code (activation confirmation)."""

    code = CodeField()


class OptionalCodeSerializer(InputSerializer):
    """A code that the settings may or may not require (checked by the service)."""

    code = CodeField(required=False, allow_blank=True)


class ProtectedActionSerializer(InputSerializer):
    """A code confirming a change; required when the setting says so.

    As in django-trench, a missing code is the field's "This field is
    required." when the confirmation setting is on, and a blank one is
    always "This field may not be blank.".
    """

    code = CodeField(required=False)

    def __init__(self, *args: Any, code_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].required = code_required


def _unknown_method() -> serializers.ValidationError:
    return serializers.ValidationError(
        MethodDoesNotExist.default_detail, code=MethodDoesNotExist.default_code
    )


class RequestCodeSerializer(InputSerializer):
    """Which method to send a code for (default: the primary).

    A name that is not configured is a field error of ``method``, as in
    django-trench.
    """

    method = serializers.CharField(max_length=255, required=False)

    def validate_method(self, value: str) -> str:
        """Only configured method names."""
        if value not in mfa_settings.methods:
            raise _unknown_method()
        return value


class ChangePrimaryMethodSerializer(InputSerializer):
    """The new primary method (one of the configured ones) and a code of the current one."""

    code = CodeField()
    method = MethodChoiceField()


class LoginSerializer(InputSerializer):
    """The user model's ``USERNAME_FIELD`` and the password."""

    password = StrictCharField(max_length=4096, trim_whitespace=False, write_only=True)
    #: A remembered device's token (also read from a header or cookie).
    device_token = TokenField(required=False, write_only=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[get_user_model().USERNAME_FIELD] = StrictCharField(max_length=255)

    @classmethod
    def username_field(cls) -> str:
        """The name of the identifier field in the request body."""
        return str(get_user_model().USERNAME_FIELD)


class LoginCodeSerializer(InputSerializer):
    """Login step 2: the ephemeral token, a code and optionally the method."""

    ephemeral_token = TokenField()
    code = CodeField()
    method = MethodNameField(required=False)
    #: Ask for a device token with the tokens (when remembered devices are on).
    remember_device = serializers.BooleanField(required=False, default=False)


class LoginCodeRequestSerializer(InputSerializer):
    """Re-send the login code: the ephemeral token and optionally the method."""

    ephemeral_token = TokenField()
    method = MethodNameField(required=False)


# Response shapes, used for the OpenAPI schema and documentation.


class DispatchResponseSerializer(serializers.Serializer[Any]):
    """A successful dispatch; the app method adds ``qr_code`` on activation."""

    details = serializers.CharField()
    qr_code = serializers.CharField(required=False)


class BackupCodesResponseSerializer(serializers.Serializer[Any]):
    """Backup codes, shown once (``[]`` when the user already has a set)."""

    backup_codes = serializers.ListField(child=serializers.CharField())


class ConfirmActivationResponseSerializer(BackupCodesResponseSerializer):
    """Backup codes, and the replacing authtoken key when this turned MFA on.

    ``auth_token`` is there only when the request was authenticated by the
    user's authtoken key and ``ROTATE_AUTHTOKEN_ON_ENABLE`` replaced it.
    """

    auth_token = serializers.CharField(required=False)


class ConfigResponseSerializer(serializers.Serializer[Any]):
    """The MFA configuration a client needs."""

    methods = serializers.ListField(child=serializers.CharField())
    confirm_disable_with_code = serializers.BooleanField()
    confirm_activation_with_code = serializers.BooleanField()
    confirm_regeneration_with_code = serializers.BooleanField()
    allow_backup_codes_regeneration = serializers.BooleanField()


class ActiveMethodSerializer(serializers.Serializer[Any]):
    """One active method of the user."""

    name = serializers.CharField()
    is_primary = serializers.BooleanField()


class JWTResponseSerializer(serializers.Serializer[Any]):
    """simplejwt tokens."""

    refresh = serializers.CharField()
    access = serializers.CharField()
    #: With ``remember_device`` (when remembered devices are on).
    device_token = serializers.CharField(required=False)
    device_expires_at = serializers.DateTimeField(required=False)


class AuthTokenResponseSerializer(serializers.Serializer[Any]):
    """A DRF authtoken key."""

    auth_token = serializers.CharField()
    #: With ``remember_device`` (when remembered devices are on).
    device_token = serializers.CharField(required=False)
    device_expires_at = serializers.DateTimeField(required=False)


class DeviceSerializer(serializers.Serializer[Any]):
    """One remembered device of the user."""

    id = serializers.IntegerField()
    name = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    last_ip = serializers.IPAddressField(allow_null=True)
    expires_at = serializers.DateTimeField()


class ErrorResponseSerializer(serializers.Serializer[Any]):
    """The error envelope of every domain error."""

    error = serializers.CharField()
    error_code = serializers.CharField()
    retry_after = serializers.IntegerField(required=False)


class DetailResponseSerializer(serializers.Serializer[Any]):
    """DRF's own errors: unreadable body (400), not authenticated (401), 405, 415."""

    detail = serializers.CharField()


#: The error envelope, inline (raw schemas cannot reference serializers).
_ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "error_code"],
    "properties": {
        "error": {"type": "string"},
        "error_code": {"type": "string"},
        "retry_after": {"type": "integer"},
    },
}

#: Error codes that a field error's message may carry as its DRF
#: ``ErrorDetail.code`` (besides DRF's own: required, blank, null, invalid,
#: invalid_choice, max_length, ...).
FIELD_ERROR_CODES = (
    "code_invalid_or_expired",
    "invalid_input",
    "method_already_active",
    "mfa_method_does_not_exist",
    "not_enabled",
    "otp_code_missing",
)

#: A 400 answer, in django-trench 0.3.1's shape for the endpoint: a domain
#: error (the envelope), field errors, a bare list of messages, or DRF's
#: ``{"detail"}`` for a body it cannot parse.
BAD_REQUEST_SCHEMA: dict[str, Any] = {
    "oneOf": [
        _ENVELOPE_SCHEMA,
        {
            "type": "object",
            "description": (
                "Field errors: each invalid field with its messages, e.g. "
                '{"code": ["Code invalid or expired."]}. Where django-trench '
                "reported a domain error from a field's validation, the message's "
                "error code (DRF ErrorDetail.code, kept by Python clients) is one of: "
                + ", ".join(FIELD_ERROR_CODES)
                + "."
            ),
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        {
            "type": "array",
            "description": (
                'Non-field errors: ["Requested MFA method does not exist."] from '
                "change-primary-method/ for a user without MFA (error code "
                "mfa_method_does_not_exist)."
            ),
            "items": {"type": "string"},
        },
        {
            "type": "object",
            "required": ["detail"],
            "properties": {"detail": {"type": "string"}},
            "additionalProperties": False,
        },
    ]
}


class JWTLoginResponseSerializer(serializers.Serializer[Any]):
    """Login step 1 (JWT): tokens when MFA is off, else a challenge."""

    refresh = serializers.CharField(required=False)
    access = serializers.CharField(required=False)
    ephemeral_token = serializers.CharField(required=False)
    method = serializers.CharField(required=False)
    other_methods = serializers.ListField(child=serializers.CharField(), required=False)
    factors_remaining = serializers.ListField(child=serializers.CharField(), required=False)
    #: ``REQUIRE_MFA_FOR``: a user without MFA gets this instead of tokens.
    enrolment_token = serializers.CharField(required=False)
    methods = serializers.ListField(child=serializers.CharField(), required=False)
    #: Step 2 under FLOWS with ``remember_device``.
    device_token = serializers.CharField(required=False)
    device_expires_at = serializers.DateTimeField(required=False)


class AuthTokenLoginResponseSerializer(serializers.Serializer[Any]):
    """Login step 1 (authtoken): a token when MFA is off, else a challenge."""

    auth_token = serializers.CharField(required=False)
    ephemeral_token = serializers.CharField(required=False)
    method = serializers.CharField(required=False)
    other_methods = serializers.ListField(child=serializers.CharField(), required=False)
    factors_remaining = serializers.ListField(child=serializers.CharField(), required=False)
    #: ``REQUIRE_MFA_FOR``: a user without MFA gets this instead of tokens.
    enrolment_token = serializers.CharField(required=False)
    methods = serializers.ListField(child=serializers.CharField(), required=False)
    #: Step 2 under FLOWS with ``remember_device``.
    device_token = serializers.CharField(required=False)
    device_expires_at = serializers.DateTimeField(required=False)
