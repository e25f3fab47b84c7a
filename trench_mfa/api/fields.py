"""Strict serializer fields: strings only, ASCII where a code is expected."""

from __future__ import annotations

from typing import Any, NoReturn

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from trench_mfa.api.schema import document_field
from trench_mfa.backends.webauthn_answer import (
    MAX_ANSWER_LENGTH,
    encode_answer,
    is_credential_shape,
)
from trench_mfa.conf import mfa_settings

#: The only characters trimmed from the ends of a code (DRF's ``strip()``
#: would also drop Unicode spaces and ASCII separators such as ``\x1c``).
_OUTER_WHITESPACE = " \t\r\n"


class StrictCharField(serializers.CharField):
    """A ``CharField`` that refuses numbers, booleans, lists and objects.

    DRF's ``CharField`` turns ``123456`` into ``"123456"``; for codes that
    would let ``12345`` pass as a five-digit string, so only JSON strings are
    accepted. NUL and lone surrogates are refused by ``CharField`` itself.
    """

    default_error_messages = {
        "not_a_string": _("Not a valid string."),
        "not_ascii": _("Only ASCII characters are allowed."),
    }

    def __init__(self, *, ascii_only: bool = False, **kwargs: Any) -> None:
        self.ascii_only = ascii_only
        super().__init__(**kwargs)

    def run_validation(self, data: Any = serializers.empty) -> Any:
        """Refuse non-string JSON values before any conversion."""
        if data is not serializers.empty and data is not None and not isinstance(data, str):
            self.fail("not_a_string")
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> str:
        """Check the ASCII rule on top of ``CharField``'s conversion."""
        if self.ascii_only and isinstance(data, str) and not data.isascii():
            # Checked before trimming: str.strip() removes Unicode spaces.
            self.fail("not_ascii")
        return super().to_internal_value(data)


class CodeField(serializers.CharField):
    """A one-time code, backup code or device OTP, read as django-trench reads it.

    Like DRF's ``CharField`` (django-trench's field): a JSON string or number,
    never ``null``, blank, a boolean, a list or an object, with DRF's messages
    for those. Only ASCII spaces, tabs and line breaks are trimmed (``strip()``
    would also drop Unicode spaces and ASCII separators such as ``\x1c``).
    The format (length, alphabet) is judged by the service that checks the
    code, before any work: a malformed code then gets the answer django-trench
    gives to any code it cannot verify at that endpoint.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs["trim_whitespace"] = False  # trimmed in run_validation, ASCII only
        super().__init__(**kwargs)

    def run_validation(self, data: Any = serializers.empty) -> Any:
        """Trim ASCII whitespace only, then validate as ``CharField`` does."""
        if isinstance(data, str):
            data = data.strip(_OUTER_WHITESPACE)
        return super().run_validation(data)


class MethodChoiceField(serializers.ChoiceField):
    """One of the configured method names, read per request, as django-trench's choice.

    Its error repeats the input (``"sms" is not a valid choice.``), so the
    echo is made printable: lone surrogates would make the JSON renderer
    fail, and an overlong name is cut.
    """

    def __init__(self, **kwargs: Any) -> None:
        # Serializers copy their declared fields per instance, which runs this
        # again: the choices are the settings of the request (or schema) at hand.
        super().__init__(choices=_configured_method_names(), **kwargs)

    def fail(self, key: str, **kwargs: Any) -> NoReturn:
        """Echo the input safely."""
        if "input" in kwargs:
            shown = str(kwargs["input"]).encode("utf-8", "backslashreplace").decode()
            kwargs["input"] = shown[:_ECHO_LIMIT]
        super().fail(key, **kwargs)
        raise AssertionError("unreachable")  # pragma: no cover - fail() always raises


#: The longest part of an unknown method name repeated in an error message.
_ECHO_LIMIT = 100


def _configured_method_names() -> list[str]:
    """The configured names; none while the settings are broken (the checks report it)."""
    try:
        return list(mfa_settings.methods)
    except ImproperlyConfigured:
        return []


class MethodNameField(StrictCharField):
    """The name of an MFA method, looked up by the service in the settings.

    Names are exact keys: no whitespace is trimmed and no length is imposed,
    so every unknown name (``EMAIL``, ``email ``, 300 characters) gets the
    endpoint's single "unknown method" answer. A name is only ever compared
    with the configured names, never stored or hashed. NUL and lone
    surrogates remain field errors.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)


class TokenField(StrictCharField):
    """An ephemeral login token: any JSON string, judged by the token module.

    Length, NUL and non-ASCII are left to :func:`trench_mfa.state.tokens.resolve_token`,
    which rejects them before any hashing or database access, so every string
    that is not a live token gets the same ``401 invalid_token``.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)
        # CharField adds the NUL and surrogate validators; the token check
        # refuses those values itself, with the uniform answer.
        self.validators = []


@document_field(
    {
        "type": "object",
        "description": (
            "A WebAuthn credential in its JSON form (PublicKeyCredential.toJSON()): "
            "a registration response on activation, an authentication response otherwise."
        ),
        "required": ["id", "rawId", "type", "response"],
        "properties": {
            "id": {"type": "string"},
            "rawId": {"type": "string"},
            "type": {"type": "string", "enum": ["public-key"]},
            "response": {"type": "object", "additionalProperties": True},
        },
        "additionalProperties": True,
    }
)
class CredentialField(serializers.Field):
    """A WebAuthn credential: the JSON object ``PublicKeyCredential.toJSON()`` gives.

    Only its shape is checked here (base64url members, ``type``, the kind of
    response, the size); the WebAuthn dispatcher checks the rest.
    """

    default_error_messages = {"invalid": _("Not a valid WebAuthn credential.")}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        """The credential object, when it has the shape of one."""
        if not is_credential_shape(data):
            self.fail("invalid")
        try:
            too_long = len(encode_answer(data)) > MAX_ANSWER_LENGTH
        except (ValueError, RecursionError):  # nested beyond what JSON text can hold here
            too_long = True
        if too_long:
            self.fail("invalid")
        return dict(data)

    def to_representation(self, value: Any) -> Any:
        """Never rendered (input only)."""
        return value
