"""Delivering security notifications: now, or from a Celery task; never raising.

:func:`deliver` runs after the commit of the change it reports (see
:mod:`trench_mfa.services.notifications`). With ``DISPATCH = "sync"`` it
sends the email at once; with ``"celery"`` it queues the task
``trench_mfa.send_notification`` (:mod:`trench_mfa.tasks`), whose arguments
hold the kind, the user's primary key, the language and the context (method
name, time, IP address, device name: nothing secret). Any failure is logged
with its class name only and swallowed: the request that made the change has
already succeeded.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from django.contrib.auth import get_user_model

from trench_mfa.backends import notification_email
from trench_mfa.conf import mfa_settings

logger = logging.getLogger("trench_mfa.notifications")

#: The Celery task that sends a queued notification (:func:`trench_mfa.tasks.send_notification`).
SEND_NOTIFICATION_TASK = "trench_mfa.send_notification"


@dataclass(frozen=True)
class Notification:
    """One notification to send: what happened, to whom, in which language."""

    kind: str
    user_pk: str
    context: dict[str, Any]
    language: str | None = None


def deliver(job: Notification) -> None:
    """Send ``job`` now, or queue it (``DISPATCH = "celery"``); log any failure."""
    try:
        if mfa_settings.DISPATCH == "celery":
            _enqueue(job)
        else:
            send(job)
    except Exception as exc:
        logger.warning(
            "Could not send the %s security notification: %s", job.kind, type(exc).__name__
        )


def _enqueue(job: Notification) -> None:
    # Imported when used: Celery is an optional extra.
    from celery import current_app

    current_app.tasks[SEND_NOTIFICATION_TASK].apply_async(kwargs=asdict(job))


def send(job: Notification) -> bool:
    """Render and send ``job``'s email; ``False`` when the user or address is gone."""
    model = get_user_model()
    user = model._default_manager.filter(pk=job.user_pk).first()
    if user is None:
        return False
    return notification_email.send(job.kind, user, job.context, language=job.language)
