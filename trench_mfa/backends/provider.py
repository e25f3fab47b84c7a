"""Build the dispatcher of a method row from the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trench_mfa.backends.base import AbstractMessageDispatcher, DispatchResult
from trench_mfa.backends.silent import silent_class
from trench_mfa.conf import mfa_settings
from trench_mfa.exceptions import MethodDoesNotExist
from trench_mfa.models import CodePurpose, MFAMethod
from trench_mfa.user import AnyRequest

if TYPE_CHECKING:
    pass


def get_mfa_handler(
    mfa_method: MFAMethod,
    *,
    purpose: CodePurpose = CodePurpose.LOGIN,
    challenge_id: int | None = None,
    request: AnyRequest = None,
) -> AbstractMessageDispatcher:
    """The configured dispatcher for ``mfa_method``.

    ``request`` is the current request, for dispatchers that log or audit
    it. A phantom row (a decoy login's, see :mod:`trench_mfa.state.phantoms`)
    gets the configured dispatcher made silent
    (:func:`~trench_mfa.backends.silent.silent_class`). Raises
    :class:`MethodDoesNotExist` when the method is no longer configured.
    """
    config = mfa_settings.method(mfa_method.name)
    if config is None:
        raise MethodDoesNotExist()
    handler_class = config.handler
    if mfa_method.is_phantom:
        # A decoy login's row: the method's own rules, but nothing is sent.
        handler_class = silent_class(handler_class)
    handler: AbstractMessageDispatcher = handler_class(mfa_method, config)
    # Set after construction so that dispatchers with django-trench's
    # two-argument constructor keep working.
    handler.purpose = purpose
    handler.challenge_id = challenge_id
    handler.request = request
    return handler


def as_dispatch_result(value: Any) -> DispatchResult:
    """Accept a django-trench style ``Response`` from a ported dispatcher."""
    if isinstance(value, DispatchResult):
        return value
    status_code = getattr(value, "status_code", 500)
    data = getattr(value, "data", None) or {}
    details = str(data.get("details", "")) if isinstance(data, dict) else ""
    if status_code < 400:
        return DispatchResult.sent(details)
    return DispatchResult.failed()
