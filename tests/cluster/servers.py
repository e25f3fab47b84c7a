"""The processes of a small deployment on loopback: Redis, SMTP, an SMS gateway, app servers.

Each is started and stopped by the cluster fixtures (``conftest.py``); the
tests stop and start Redis, SMTP and the SMS gateway to simulate outages.
Every wait is bounded: a process that does not come up fails the test with
the end of its log instead of hanging.
"""

from __future__ import annotations

import email
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import Any

import redis
import requests
from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from testproject import settings_cluster
from tests.support.processes import wait_or_kill
from tests.support.smtp import code_in, free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Bound of every wait for a process to come up or go away.
START_TIMEOUT = 60.0
#: Pause between two readiness probes (bounded by START_TIMEOUT).
PROBE_INTERVAL = 0.05


def ports(count: int) -> list[int]:
    """``count`` ports: ``CLUSTER_PORTS`` (the first of a range) or free ones."""
    first = os.environ.get("CLUSTER_PORTS")
    if first:
        return [int(first) + n for n in range(count)]
    return [free_port() for _ in range(count)]


def wait_until(ready: Callable[[], bool], what: str, alive: Callable[[], bool]) -> None:
    """Probe ``ready`` until it holds; fail when ``alive`` stops holding or time runs out."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if ready():
            return
        if not alive():
            raise RuntimeError(f"{what} exited before it was ready")
        time.sleep(PROBE_INTERVAL)  # readiness polling, bounded by the deadline
    raise RuntimeError(f"{what} was not ready within {START_TIMEOUT} s")


def log_tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file."""
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class RedisServer:
    """A redis-server of the tests' own, on loopback, that writes every change to disk.

    ``appendfsync always``: a write is on disk before Redis answers it, so
    a crash (SIGKILL) loses no count that a request was told about.
    """

    def __init__(self, port: int, directory: Path) -> None:
        self.port = port
        self.directory = directory
        self.log = directory / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The URL the app servers cache in (database 0 of this server)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        """A client of this server with short timeouts."""
        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2)

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        """Start (again, with the data on disk) and wait until it answers."""
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argument list
                [
                    binary,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    str(self.directory),
                    "--save",
                    "",
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    "always",
                    "--loglevel",
                    "warning",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        process = self.process
        wait_until(self._answers, "redis-server", lambda: process.poll() is None)

    def kill(self) -> None:
        """Crash it (SIGKILL) and wait until the process is gone."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=START_TIMEOUT)
        self.process = None

    def stop(self) -> None:
        """Stop it at the end of the session."""
        if self.process is not None:
            self.process.terminate()
            wait_or_kill(self.process, timeout=10, kill_timeout=10)
            self.process = None


class Mailbox:
    """An SMTP server (aiosmtpd) on a fixed loopback port that can be stopped and started."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd hook
        """Keep the message."""
        with self._lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        """Listen (again) on :attr:`port`."""
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until :meth:`start`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def clear(self) -> None:
        """Forget the messages received so far."""
        with self._lock:
            self.messages.clear()

    @property
    def running(self) -> bool:
        """Whether it listens now."""
        return self._controller is not None

    def to(self, address: str) -> list[Message]:
        """The messages sent to ``address``, oldest first."""
        with self._lock:
            return [m for m in self.messages if m["To"] == address]

    def last_code(self, address: str) -> str:
        """The 6-digit code of the last message to ``address``."""
        messages = self.to(address)
        assert messages, f"no message to {address}"
        return code_in(messages[-1])


class SmsGateway:
    """A Twilio-like Messages API on loopback: accepts, answers 5xx, or is closed."""

    PATH = f"/2010-04-01/Accounts/{settings_cluster.TWILIO_ACCOUNT_SID}/Messages.json"

    def __init__(self, port: int) -> None:
        self.server = HTTPServer(host="127.0.0.1", port=port, threaded=True)
        self.server.expect_request(self.PATH, method="POST").respond_with_handler(self._answer)
        self.sent: list[dict[str, str]] = []
        self.failing = False
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The base URL that replaces ``https://api.twilio.com``."""
        return f"http://127.0.0.1:{self.server.port}"

    def _answer(self, request: Request) -> Response:
        if self.failing:
            body = {"code": 20500, "message": "Internal Server Error", "status": 500}
            return Response(json.dumps(body), status=500, content_type="application/json")
        form = request.form.to_dict()
        with self._lock:
            self.sent.append(form)
        body = {"sid": "SM" + "0" * 32, "status": "queued", "to": form.get("To")}
        return Response(json.dumps(body), status=201, content_type="application/json")

    def start(self) -> None:
        """Listen (again) on the same port."""
        self.server.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until :meth:`start`."""
        if self.server.is_running():
            self.server.stop()

    def clear(self) -> None:
        """Forget the texts received so far."""
        with self._lock:
            self.sent.clear()

    def to(self, number: str) -> list[str]:
        """The texts sent to ``number``, oldest first."""
        with self._lock:
            return [m["Body"] for m in self.sent if m.get("To") == number]


class AppServer:
    """``gunicorn testproject.wsgi`` with ``testproject.settings_cluster``."""

    def __init__(self, name: str, port: int, env: dict[str, str], directory: Path) -> None:
        self.name = name
        self.port = port
        self.env = {**env, "CLUSTER_SERVER_NAME": name}
        self.log = directory / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def __repr__(self) -> str:
        return self.name

    def _answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/auth/mfa/config/", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def launch(self) -> None:
        """Start the process; starting several before waiting for them is faster."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argument list
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "testproject.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    # Two processes of four threads each: parallel requests
                    # meet across processes and across threads of one.
                    "--workers",
                    "2",
                    "--worker-class",
                    "gthread",
                    "--threads",
                    "4",
                    "--preload",
                    "--timeout",
                    "60",
                    # Bounds the shutdown: gthread workers do not always
                    # leave at once, and there is nothing left to finish.
                    "--graceful-timeout",
                    "1",
                    "--log-level",
                    "warning",
                    "--error-logfile",
                    "-",
                ],
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self) -> None:
        """Return when the server answers (or fail with its log)."""
        process = self.process
        assert process is not None
        try:
            wait_until(self._answers, f"app server {self.name}", lambda: process.poll() is None)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; its log:\n{log_tail(self.log)}") from None

    def signal_stop(self) -> None:
        """Ask for gunicorn's quick shutdown (SIGINT); stopping several at once is faster.

        Not the graceful SIGTERM: it waits for idle keep-alive connections,
        and there is nothing left to finish.
        """
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)

    def wait_stopped(self) -> None:
        """Wait until the server is gone, killing it if it takes too long."""
        if self.process is None:
            return
        wait_or_kill(self.process, timeout=15, kill_timeout=15)
        self.process = None
