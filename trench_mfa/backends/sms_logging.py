"""Keep SMS client libraries from logging codes and account details.

Several official clients log every request at DEBUG or INFO level: botocore
logs the SNS ``Message`` parameter (the code), the Vonage SDK logs the form
data, Twilio and urllib3 log URLs that carry the account id. While a
dispatcher calls its library, :func:`silence_loggers` drops the records of
that library's loggers, in the calling context (thread or task) only: the
same libraries used elsewhere in the project keep logging as configured.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_active: ContextVar[bool] = ContextVar("trench_mfa_silenced_provider_call", default=False)

#: Shared by every SMS dispatcher: urllib3 logs request lines and retries.
COMMON_LOGGERS: tuple[str, ...] = ("urllib3", "requests")


class _ProviderCallFilter(logging.Filter):
    """Drops records emitted while the current context is inside a provider call."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _active.get()


_FILTER = _ProviderCallFilter()


def _attach(prefixes: Iterable[str]) -> None:
    # A logger filter only sees records made by that very logger, so every
    # existing descendant gets the filter too. Libraries create their loggers
    # at import time, which has happened once the client is importable.
    wanted = tuple(prefixes)
    names = {
        name
        for name in list(logging.Logger.manager.loggerDict)
        if any(name == p or name.startswith(f"{p}.") for p in wanted)
    }
    for name in names.union(wanted):
        target = logging.getLogger(name)
        if _FILTER not in target.filters:
            target.addFilter(_FILTER)


@contextmanager
def silence_loggers(prefixes: Iterable[str]) -> Iterator[None]:
    """Drop records of the ``prefixes`` loggers (and urllib3) made inside the block."""
    wanted = (*COMMON_LOGGERS, *prefixes)
    _attach(wanted)
    token = _active.set(True)
    try:
        yield
    finally:
        _active.reset(token)
