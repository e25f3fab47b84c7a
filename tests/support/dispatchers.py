"""Dispatchers written django-trench style, for the custom-method tests.

They implement only ``dispatch_message()``: create a code with
``self.create_code()``, "send" it (here: record it in :data:`SENT`) and
return a result. Everything else (storage, expiry, validation) comes from
the base class, as it would for a project porting its own dispatcher.
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.response import Response

from trench_mfa.backends.base import AbstractMessageDispatcher, DispatchResult

#: (method name, recipient, code) of every "sent" message.
SENT: list[tuple[str, str | None, str]] = []


class RecordingDispatcher(AbstractMessageDispatcher):
    """Returns a :class:`DispatchResult`, the trench_mfa way."""

    def dispatch_message(self) -> DispatchResult:
        """Record the code instead of sending it."""
        code = self.create_code()
        SENT.append((self.mfa_method.name, self._to, code))
        return DispatchResult.sent("Code recorded.")


class ResponseDispatcher(AbstractMessageDispatcher):
    """Returns a DRF ``Response``, as django-trench 0.3 dispatchers do."""

    def dispatch_message(self) -> Any:
        """Record the code and answer like trench's ``SuccessfulDispatchResponse``."""
        code = self.create_code()
        SENT.append((self.mfa_method.name, self._to, code))
        return Response({"details": "SMS message with MFA code has been sent."})


class FailingResponseDispatcher(AbstractMessageDispatcher):
    """Creates a code, then reports failure like trench's ``FailedDispatchResponse``."""

    def dispatch_message(self) -> Any:
        """The provider refused the message."""
        code = self.create_code()
        SENT.append((self.mfa_method.name, self._to, code))
        return Response({"details": "Provider error."}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
