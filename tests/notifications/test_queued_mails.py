"""Under ``DISPATCH = "celery"`` notifications leave through the Celery task."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.notifications.conftest import activate, subjects
from tests.support.smtp import Mailbox
from trench_mfa.dispatch import notifications

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def eager(trench_auth: Callable[..., Any]) -> Iterator[list[dict[str, Any]]]:
    """The task runs eagerly; yields the keyword arguments it was queued with."""
    from testproject.celery_app import app

    saved = {k: app.conf[k] for k in ("task_always_eager", "task_eager_propagates")}
    app.conf.update(task_always_eager=True, task_eager_propagates=False)
    trench_auth(DISPATCH="celery", SECURITY_NOTIFICATIONS=True)
    task = app.tasks[notifications.SEND_NOTIFICATION_TASK]
    queued: list[dict[str, Any]] = []
    real = task.apply_async

    def spy(*args: Any, **kwargs: Any) -> Any:
        queued.append(dict(kwargs.get("kwargs") or {}))
        return real(*args, **kwargs)

    task.apply_async = spy
    try:
        yield queued
    finally:
        del task.apply_async
        app.conf.update(saved)


def test_the_task_sends_the_mail_and_carries_nothing_secret(
    user: Any, api_client: APIClient, mailbox: Mailbox, eager: list[dict[str, Any]]
) -> None:
    codes = activate(api_client, mailbox)
    assert "A sign-in method was added to your account" in subjects(mailbox)
    assert [job["kind"] for job in eager] == ["method_added"]
    job = eager[0]
    assert set(job) == {"kind", "user_pk", "context", "language"}
    assert job["user_pk"] == str(user.pk)
    assert set(job["context"]) == {"kind", "method", "ip", "device", "when"}
    assert not any(code in repr(job) for code in codes)


def test_a_broker_outage_never_fails_the_request(
    user: Any, api_client: APIClient, mailbox: Mailbox, eager: list[dict[str, Any]]
) -> None:
    from testproject.celery_app import app

    task = app.tasks[notifications.SEND_NOTIFICATION_TASK]

    def down(*args: Any, **kwargs: Any) -> Any:
        raise OSError("broker unreachable")

    task.apply_async = down
    assert activate(api_client, mailbox)
    assert "A sign-in method was added to your account" not in subjects(mailbox)
