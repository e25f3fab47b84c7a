"""The dispatcher of a phantom row: the configured one, except that nothing is sent.

A decoy login (:mod:`trench_mfa.login.decoys`) runs the real delivery and
check of its method on a phantom row (:mod:`trench_mfa.state.phantoms`): the
recipient check, the cooldown, the send limit and the per-recipient cap, the
stored code, its attempts. Only what would reach a person is left out:
:func:`silent_class` derives from the configured dispatcher class a subclass
whose :meth:`send` does nothing, so every other rule of the method (format,
recipient, validity, cap) stays its own.
"""

from __future__ import annotations

import functools
import types
from typing import Any, cast

from trench_mfa.backends.base import (
    AbstractMessageDispatcher,
    CodeDispatcher,
    CodeMessage,
    DispatchResult,
)


def _send_nothing(self: CodeDispatcher, recipient: str, message: CodeMessage) -> None:
    """Nothing leaves the server: a phantom row has nobody to send to."""


@functools.cache
def silent_class(
    handler_class: type[AbstractMessageDispatcher],
) -> type[AbstractMessageDispatcher]:
    """``handler_class`` whose sends go nowhere (one class per dispatcher class)."""
    dispatch = handler_class.dispatch_message

    def dispatch_message(self: AbstractMessageDispatcher) -> DispatchResult:
        """Instructions as the method gives them; a code is stored, never sent."""
        if not self.sends_codes:
            return dispatch(self)  # an app or a key: instructions only, nothing sent
        # A django-trench style dispatcher sends from dispatch_message(): it
        # must not run. Its code is stored as the default dispatchers store it.
        self.create_code()
        return DispatchResult.sent(str(CodeDispatcher.success_message))

    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__doc__": f"{handler_class.__name__} for a phantom row: nothing is sent.",
        "send": _send_nothing,
        "dispatch_message": dispatch_message,
    }
    name = f"Silent{handler_class.__name__}"
    made = types.new_class(name, (handler_class,), exec_body=lambda ns: ns.update(namespace))
    return cast("type[AbstractMessageDispatcher]", made)
