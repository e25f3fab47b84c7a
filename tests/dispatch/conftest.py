"""Fixtures of the dispatch tests: Celery (``TRENCH_AUTH["DISPATCH"] = "celery"``).

The SMTP server (``mailbox``) comes from :mod:`tests.support.smtp`.

Unit tests run the task eagerly (in the test process, retries included) and
run ``transaction.on_commit`` callbacks with pytest-django's
``django_capture_on_commit_callbacks``: inside the test's transaction they
would otherwise never run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import pytest
from celery import current_app

from tests.support import sms_outbox as outbox
from trench_mfa import signals
from trench_mfa.dispatch.queue import SEND_CODE_TASK

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


@dataclass
class EagerQueue:
    """Async dispatch with the send task run in the test process (see :func:`eager`)."""

    #: The Celery app, set to run tasks eagerly.
    app: Any
    #: What each ``send_code.apply_async`` received (the task then runs as usual).
    published: list[dict[str, Any]]
    #: pytest-django's ``django_capture_on_commit_callbacks``.
    capture: Callable[..., AbstractContextManager[list[Callable[[], Any]]]]

    def commit(self) -> AbstractContextManager[list[Callable[[], Any]]]:
        """A block whose ``on_commit`` callbacks, the queued sends, run as it ends.

        The test's transaction never commits; this stands for the commit
        that would start the tasks.
        """
        return self.capture(execute=True)

    def hold(self) -> AbstractContextManager[list[Callable[[], Any]]]:
        """A block whose ``on_commit`` callbacks are kept, not run: the test runs them later."""
        return self.capture()


@pytest.fixture
def eager(
    celery_app: Any,
    trench_auth: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> EagerQueue:
    """``DISPATCH = "celery"`` with the task run eagerly; errors do not propagate.

    Its publishing is recorded; ``with eager.commit():`` runs what a block queues.
    """
    celery_app.conf.update(task_always_eager=True, task_eager_propagates=False)
    trench_auth(DISPATCH="celery")
    published: list[dict[str, Any]] = []
    # The queue finds the task by its registered name, on the current app.
    task = current_app.tasks[SEND_CODE_TASK]
    real = task.apply_async

    def spy(*args: Any, **kwargs: Any) -> Any:
        published.append({"args": list(args), "kwargs": kwargs})
        return real(*args, **kwargs)

    monkeypatch.setattr(task, "apply_async", spy)
    return EagerQueue(celery_app, published, django_capture_on_commit_callbacks)


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
