"""A code dispatcher with its own code storage, for the async-mode tests.

It overrides ``create_code``/``discard_code`` (codes are not ``OneTimeCode``
rows), so the worker can neither look its codes up nor void one by one: it
must send without that check and void through ``discard_code()``.
"""

from __future__ import annotations

from typing import Any

from trench_mfa.backends.base import CodeDispatcher, CodeMessage, DispatchError

#: The code this dispatcher hands out.
OWN_CODE = "135790"
#: ``("send", code)`` and ``("discard", purpose)`` calls, in order.
calls: list[tuple[str, Any]] = []
#: Whether ``send`` fails.
failing = False


class OwnStorageDispatcher(CodeDispatcher):
    """Keeps its codes elsewhere (here: nowhere) and records what it is asked."""

    def create_code(self) -> str:
        """A code from the dispatcher's own store."""
        return OWN_CODE

    def discard_code(self) -> None:
        """Forget the code in the dispatcher's own store."""
        calls.append(("discard", str(self.purpose)))

    def send(self, recipient: str, message: CodeMessage) -> None:
        """Record the send, or fail like a provider outage."""
        calls.append(("send", message.code))
        if failing:
            raise DispatchError("own storage: outage")
