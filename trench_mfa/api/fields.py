"""Strict serializer fields: strings only, ASCII where a code is expected."""

from __future__ import annotations

import re
from typing import Any, NoReturn

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

#: Printable ASCII (space included: backup codes may be typed in groups).
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
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


class CodeField(StrictCharField):
    """A one-time code, backup code or device OTP: short printable ASCII.

    Rule: outer spaces, tabs and line breaks are trimmed; what remains must be
    printable ASCII of at most ``max_length`` characters. Every malformed
    value (wrong type, null, blank, too long, NUL, control or non-ASCII
    characters) gets the same message, the one the services use for a code
    of the wrong format, so the answer never says which check failed.
    """

    default_error_messages = {"invalid_input": _("Code has an invalid format.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 128)
        kwargs["trim_whitespace"] = False  # trimmed in run_validation, ASCII only
        super().__init__(**kwargs)

    def fail(self, key: str, **kwargs: Any) -> NoReturn:
        """One message for every failure except a missing field."""
        if key == "required":
            super().fail(key, **kwargs)
        raise serializers.ValidationError(
            self.error_messages["invalid_input"], code="invalid_input"
        )

    def run_validation(self, data: Any = serializers.empty) -> Any:
        """Trim ASCII whitespace only, then validate as usual."""
        if isinstance(data, str):
            data = data.strip(_OUTER_WHITESPACE)
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> str:
        """Length first (nothing else looks at an overlong value), then the alphabet."""
        if not isinstance(data, str) or (self.max_length and len(data) > self.max_length):
            self.fail("invalid_input")
        if not _PRINTABLE_ASCII.fullmatch(data):
            self.fail("invalid_input")
        return data


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

    Length, NUL and non-ASCII are left to :func:`trench_mfa.tokens.resolve_token`,
    which rejects them before any hashing or database access, so every string
    that is not a live token gets the same ``401 invalid_token``.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)
        # CharField adds the NUL and surrogate validators; the token check
        # refuses those values itself, with the uniform answer.
        self.validators = []
