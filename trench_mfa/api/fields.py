"""Strict serializer fields: strings only, ASCII where a code is expected."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


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
        value = super().to_internal_value(data)
        if self.ascii_only and not value.isascii():
            self.fail("not_ascii")
        return value


class CodeField(StrictCharField):
    """A one-time code, backup code or device OTP: short ASCII text."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 128)
        kwargs.setdefault("ascii_only", True)
        super().__init__(**kwargs)


class MethodNameField(StrictCharField):
    """The name of an MFA method (checked against the settings by the service)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 255)
        super().__init__(**kwargs)
