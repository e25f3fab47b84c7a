"""Celery task of the asynchronous dispatch mode (``TRENCH_AUTH["DISPATCH"] = "celery"``).

``trench_mfa.send_code`` is a shared task: it binds to the project's Celery
app, and its name is stable so it can be routed
(``CELERY_TASK_ROUTES = {"trench_mfa.send_code": {"queue": "mfa"}}``).
Retries are Celery's own and can be tuned with task annotations
(``max_retries``, ``retry_backoff``, ``retry_backoff_max``, ``retry_jitter``).
The work itself is in :mod:`trench_mfa.dispatch.queue`.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task

from trench_mfa.backends.base import DispatchError
from trench_mfa.dispatch import notifications as dispatch_notifications
from trench_mfa.dispatch import queue as dispatch_queue

logger = logging.getLogger("trench_mfa.dispatch")

#: Attempts after the first one; the whole series fits well inside the
#: 300-second default lifetime of an email or SMS code.
DEFAULT_MAX_RETRIES = 3


class SendCodeTask(Task):
    """Retries provider failures with exponential backoff, then gives up cleanly."""

    autoretry_for = (DispatchError, OSError)
    max_retries = DEFAULT_MAX_RETRIES
    # 2, 4, 8 seconds at most (full jitter), never more than a minute apart.
    retry_backoff = 2
    retry_backoff_max = 60
    retry_jitter = True
    # Nobody reads the result; no result backend is needed.
    ignore_result = True

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        """The last attempt failed (or the job could not run at all)."""
        try:
            names = ("method_id", "purpose", "challenge_id", "payload")
            dispatch_queue.give_up(**dict(zip(names, args, strict=False)), **kwargs, exc=exc)
        except Exception as cleanup_error:
            # Only the class: the message of a database error may quote values.
            logger.error(
                "Could not clean up after a failed MFA code task %s: %s",
                task_id,
                type(cleanup_error).__name__,
            )


@shared_task(bind=True, base=SendCodeTask, name=dispatch_queue.SEND_CODE_TASK)
def send_code(
    self: SendCodeTask, method_id: int, purpose: str, challenge_id: int | None, payload: str
) -> str:
    """Send one stored code; ``payload`` is the encrypted :class:`~dispatch_queue.QueuedCode`."""
    return dispatch_queue.run(
        method_id, purpose, challenge_id, payload, attempt=self.request.retries
    )


@shared_task(
    name=dispatch_notifications.SEND_NOTIFICATION_TASK,
    autoretry_for=(OSError,),
    max_retries=DEFAULT_MAX_RETRIES,
    retry_backoff=2,
    retry_backoff_max=60,
    ignore_result=True,
)
def send_notification(
    kind: str, user_pk: str, context: dict[str, Any], language: str | None = None
) -> bool:
    """Send one security notification (see :mod:`trench_mfa.dispatch.notifications`)."""
    job = dispatch_notifications.Notification(kind, user_pk, context, language)
    return dispatch_notifications.send(job)
