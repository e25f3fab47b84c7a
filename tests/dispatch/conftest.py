"""Fixtures of the dispatch tests: Celery (``TRENCH_AUTH["DISPATCH"] = "celery"``).

The SMTP server (``mailbox``) comes from :mod:`tests.support.smtp`.

Unit tests run the task eagerly (in the test process, retries included) and
run ``transaction.on_commit`` callbacks with pytest-django's
``django_capture_on_commit_callbacks``: inside the test's transaction they
would otherwise never run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support import sms_outbox as outbox
from trench_mfa import signals

PHONE = "+48600100200"
#: Celery settings the tests change (and the ``celery_app`` fixture restores).
_TOUCHED = ("task_always_eager", "task_eager_propagates", "task_routes")


@pytest.fixture
def celery_app() -> Iterator[Any]:
    """The test project's Celery app; its settings are restored afterwards."""
    from testproject.celery_app import app

    saved = {key: app.conf[key] for key in _TOUCHED}
    yield app
    app.conf.update(saved)


@pytest.fixture
def eager(celery_app: Any, trench_auth: Callable[..., Any]) -> Any:
    """``DISPATCH = "celery"`` with the task run eagerly; errors do not propagate."""
    celery_app.conf.update(task_always_eager=True, task_eager_propagates=False)
    trench_auth(DISPATCH="celery")
    return celery_app


@pytest.fixture
def failures() -> Iterator[list[dict[str, Any]]]:
    """Keyword arguments of every ``dispatch_failed`` signal sent."""
    seen: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append(kwargs)

    signals.dispatch_failed.connect(receiver, dispatch_uid="tests.dispatch")
    yield seen
    signals.dispatch_failed.disconnect(dispatch_uid="tests.dispatch")


@pytest.fixture
def sms_outbox(trench_auth: Callable[..., Any]) -> Iterator[list[tuple[str, str]]]:
    """An in-memory SMS method ``sms_outbox``; yields its list of sent messages."""
    trench_auth(methods={"sms_outbox": outbox.OUTBOX})
    outbox.sent.clear()
    outbox.fail_next = 0
    yield outbox.sent
    outbox.sent.clear()
    outbox.fail_next = 0
