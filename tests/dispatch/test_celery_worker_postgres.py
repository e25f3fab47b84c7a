"""One real Celery worker: codes leave through Redis and arrive by SMTP.

The test starts ``celery -A testproject.celery_app worker`` as a subprocess on a queue
of its own, pointed at the test's PostgreSQL database and at an SMTP server
on loopback, and logs in end to end with the codes the worker mailed. It
runs in the PostgreSQL leg (SQLite's test database is not shared with
another process) and only when Redis answers on 127.0.0.1:6379.
"""

from __future__ import annotations

import email
import json
import os
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.conftest import credentials
from tests.support.processes import wait_or_kill
from tests.support.smtp import smtp_server
from trench_mfa.models import MFAMethod

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Bounds of every wait: the worker's start, and each message.
START_TIMEOUT = 60.0
MESSAGE_TIMEOUT = 30.0


def broker_url() -> str:
    """The Redis the test project uses (``CELERY_BROKER_URL`` or ``REDIS_URL``)."""
    return (
        os.environ.get("CELERY_BROKER_URL")
        or os.environ.get("REDIS_URL")
        or "redis://127.0.0.1:6379/0"
    )


@pytest.fixture(autouse=True)
def _needs_postgres_and_redis() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set TEST_DATABASE_URL)")
    import redis

    try:
        redis.Redis.from_url(broker_url(), socket_timeout=2, socket_connect_timeout=2).ping()
    except redis.RedisError:
        pytest.skip("needs Redis on 127.0.0.1:6379")


class Inbox:
    """An aiosmtpd handler that keeps messages and wakes up whoever waits."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the message."""
        with self._arrived:
            self.messages.append(email.message_from_bytes(envelope.content))
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int) -> str:
        """The code in message number ``count`` (1-based), waiting for it."""
        with self._arrived:
            arrived = self._arrived.wait_for(
                lambda: len(self.messages) >= count, timeout=MESSAGE_TIMEOUT
            )
        assert arrived, f"message {count} did not arrive within {MESSAGE_TIMEOUT}s"
        message = self.messages[count - 1]
        text = next(
            part.get_payload(decode=True).decode()
            for part in message.walk()
            if part.get_content_type() == "text/plain"
        )
        match = re.search(r"\b([0-9]{6})\b", text)
        assert match, text
        return match.group(1)


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    """An SMTP server on loopback: (handler, port)."""
    handler = Inbox()
    with smtp_server(handler) as port:
        yield handler, port


class Worker:
    """A ``celery worker`` subprocess and the lines it printed."""

    def __init__(self, queue: str, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.process = subprocess.Popen(  # noqa: S603 - fixed argument list
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "testproject.celery_app",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "-Q",
                queue,
                "-n",
                f"{queue}@%h",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "info",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if " ready." in line:
                self.ready.set()

    def stop(self) -> None:
        """Terminate (warm shutdown), then kill if it does not stop in time."""
        self.process.terminate()
        wait_or_kill(self.process, timeout=15, kill_timeout=5)
        self._reader.join(timeout=5)
        # Our end of the output pipe (a ResourceWarning, so an error, if left open).
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def worker_queue(
    inbox: tuple[Inbox, int], trench_auth: Callable[..., Any]
) -> Iterator[tuple[str, Worker]]:
    """A worker on a queue of its own, and the test process publishing to that queue."""
    from celery import Celery, _state

    _, smtp_port = inbox
    queue = f"trench-mfa-test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        # This run's settings (and so its user model), for any of the test ones.
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "testproject.settings"),
        # The test database itself, as the worker's database.
        "TEST_DATABASE_URL": "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(
            **{k: connection.settings_dict[k] or "" for k in ("USER", "HOST", "PORT", "NAME")}
        ),
        "CELERY_BROKER_URL": broker_url(),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    env.pop("DATABASE_URL", None)
    worker = Worker(queue, env)
    # The web side: a Celery app of its own whose default queue is the worker's.
    previous = _state.get_current_app()
    app = Celery("trench-mfa-worker-test", set_as_current=True)
    app.conf.update(broker_url=broker_url(), task_default_queue=queue, task_ignore_result=True)
    trench_auth(DISPATCH="celery")
    try:
        ready = worker.ready.wait(timeout=START_TIMEOUT)
        assert ready, "worker did not start:\n" + "".join(worker.lines[-40:])
        yield queue, worker
    finally:
        worker.stop()
        previous.set_current()
        app.close()
        # Kombu leaves the queue's binding set (and any unread message) in Redis.
        import redis

        client = redis.Redis.from_url(broker_url())
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        client.close()


def test_login_through_a_real_worker(
    worker_queue: tuple[str, Worker],
    inbox: tuple[Inbox, int],
    user: Any,
    api_client: APIClient,
    anon_client: APIClient,
) -> None:
    from celery.signals import before_task_publish

    queue, worker = worker_queue
    mailbox, _ = inbox
    published: list[str] = []

    def record(sender: Any, body: Any, headers: Any, routing_key: Any, **kwargs: Any) -> None:
        published.append(json.dumps([body, headers, routing_key], default=repr))

    before_task_publish.connect(record, weak=False)
    try:
        response = api_client.post("/auth/email/activate/")
        assert response.status_code == 200, response.content
        activation_code = mailbox.wait_for(1)
        response = api_client.post("/auth/email/activate/confirm/", {"code": activation_code})
        assert response.status_code == 200, response.content
        assert MFAMethod.objects.get(user=user, name="email").is_active

        step1 = anon_client.post("/auth/jwt/login/", credentials(user))
        assert step1.status_code == 200 and step1.json()["method"] == "email"
        login_code = mailbox.wait_for(2)
        step2 = anon_client.post(
            "/auth/jwt/login/code/",
            {"ephemeral_token": step1.json()["ephemeral_token"], "code": login_code},
        )
        assert step2.status_code == 200 and set(step2.json()) == {"access", "refresh"}
    finally:
        before_task_publish.disconnect(record)

    assert [m["To"] for m in mailbox.messages] == ["alice@example.com"] * 2
    # What went through Redis: two tasks on the test's queue, nothing readable.
    assert len(published) == 2 and all(queue in p for p in published)
    for secret in (activation_code, login_code, "alice@example.com"):
        assert not any(secret in p for p in published)
    output = "".join(worker.lines)
    assert output.count("Sent a queued MFA code") == 2
    assert activation_code not in output and login_code not in output
