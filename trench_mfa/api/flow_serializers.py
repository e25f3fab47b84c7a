"""Input shapes of login flows, hardcodes and identifier verification.

Like every serializer of trench_mfa they check shape only: which fields are
there, their types and lengths. Whether a secret is right is the services'
business.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from trench_mfa import flows
from trench_mfa.api.fields import CodeField, MethodNameField, StrictCharField, TokenField
from trench_mfa.api.serializers import InputSerializer
from trench_mfa.conf import mfa_settings

#: Longest identifier value accepted (an email address has at most 254).
MAX_IDENTIFIER_LENGTH = 255
MAX_PASSWORD_LENGTH = 4096
MAX_HARDCODE_LENGTH = 128


def _secret_field(**kwargs: Any) -> StrictCharField:
    return StrictCharField(
        max_length=kwargs.pop("max_length"), trim_whitespace=False, write_only=True, **kwargs
    )


def _required() -> list[ErrorDetail]:
    return [ErrorDetail(str(serializers.Field.default_error_messages["required"]), "required")]


class FlowLoginSerializer(InputSerializer):
    """Login step 1: the identifier and knowledge secrets of an active flow.

    Without ``FLOWS`` the one flow is django-trench's: ``USERNAME_FIELD`` and
    ``password``.

    Every identifier field named by a flow, ``password`` and ``hardcode`` are
    optional one by one; the body must hold the identifier and the knowledge
    secrets of at least one flow. When it holds none, the fields missing for
    the first flow are reported as required (400), as django-trench does for
    ``username`` and ``password``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in flows.login_fields():
            self.fields[name] = StrictCharField(max_length=MAX_IDENTIFIER_LENGTH, required=False)
        self.fields[flows.PASSWORD] = _secret_field(max_length=MAX_PASSWORD_LENGTH, required=False)
        self.fields[flows.HARDCODE] = _secret_field(max_length=MAX_HARDCODE_LENGTH, required=False)
        # A remembered device's token: any string; one that is no live token is ignored.
        self.fields["device_token"] = TokenField(required=False, write_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """At least one flow must have all its step-1 fields."""
        configured = flows.active_flows()
        for flow in configured:
            if flow.identifier in attrs and all(name in attrs for name in flow.knowledge):
                return attrs
        first = configured[0]
        missing = [name for name in (first.identifier, *first.knowledge) if name not in attrs]
        raise serializers.ValidationError({name: _required() for name in missing})


class HardcodeSerializer(InputSerializer):
    """A new hardcode, confirmed by the current password or a code."""

    hardcode = _secret_field(max_length=MAX_HARDCODE_LENGTH)
    password = _secret_field(max_length=MAX_PASSWORD_LENGTH, required=False)
    code = CodeField(required=False)
    method = MethodNameField(required=False)

    def validate_hardcode(self, value: str) -> str:
        """At least ``HARDCODE_MIN_LENGTH`` characters."""
        shortest = int(mfa_settings.HARDCODE_MIN_LENGTH)
        if len(value) < shortest:
            raise serializers.ValidationError(
                _("Ensure this field has at least %(count)d characters.") % {"count": shortest},
                code="min_length",
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """``password`` or ``code`` must be there."""
        if "password" not in attrs and "code" not in attrs:
            raise serializers.ValidationError({"password": _required()})
        return attrs


class VerificationRequestSerializer(InputSerializer):
    """Which identifier field to send a verification code for."""

    field = StrictCharField(max_length=150)


class DetailsResponseSerializer(serializers.Serializer[Any]):
    """A short confirmation text."""

    details = serializers.CharField()


class LinkResponseSerializer(serializers.Serializer[Any]):
    """What a confirmation link does (``GET``), and how to make it do it."""

    details = serializers.CharField()
    confirm = serializers.CharField()
