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


def assert_no_secret_logged_or_stored(logs: Capture, secrets: list[str], min_events: int) -> None:
    """Assert no secret is in a captured record or in an MFAEvent row.

    ``min_events``: the flows must have recorded more events than this, so
    an empty table cannot pass the search by having nothing to search.
    """
    # Imported here: this module is loaded by tests/conftest.py before Django is set up.
    from trench_mfa.models import MFAEvent

    text = "\n".join(logs.lines)
    leaked = [s for s in secrets if s and s in text]
    assert leaked == [], [line for line in logs.lines if any(s in line for s in leaked)]
    events = list(MFAEvent.objects.values_list("method", "event", "purpose", "outcome", "ip"))
    assert len(events) > min_events
    stored = "\n".join(" ".join(str(v) for v in row) for row in events)
    assert [s for s in secrets if s and s in stored] == []
