"""Every log record at DEBUG, captured: for the tests that search logs for secrets.

The ``logs`` fixture is loaded for every folder by ``tests/conftest.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

#: The fake validation server's own HTTP log shows the OTP it received; it
#: stands for YubiCloud and is not part of the system under test.
FOREIGN_LOGGERS = ("werkzeug", "pytest_httpserver")


class Capture(logging.Handler):
    """Every record, formatted, with its arguments and exception text."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(FOREIGN_LOGGERS):
            return
        exc = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        self.lines.append(f"{record.name} {record.getMessage()} {record.args!r} {exc}")


@pytest.fixture
def logs() -> Iterator[Capture]:
    """Every logger at DEBUG, captured (also those that do not propagate)."""
    handler = Capture()
    loggers = [logging.getLogger()] + [
        logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
    ]
    saved = [(lg, lg.level, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
        if lg is logging.getLogger() or not lg.propagate:
            lg.addHandler(handler)
    yield handler
    for lg, level, disabled in saved:
        lg.setLevel(level)
        lg.disabled = disabled
        lg.removeHandler(handler)


def ok(response: Any, status: int = 200) -> Any:
    """Assert the status; the JSON body (or ``None``)."""
    assert response.status_code == status, response.content
    return response.json() if response.content else None
