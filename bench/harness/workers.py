"""Long-lived in-process workers (``manage.py bench_worker``), one per package and hasher.

The driver sends one JSON command per line and waits, with a time limit,
for the ``BENCH <json>`` answer. Worker stderr goes to a log file.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
from pathlib import Path
from typing import Any

from harness.envs import Env


class WorkerError(RuntimeError):
    """A worker died, timed out or reported an error."""


class Worker:
    """One ``bench_worker`` process."""

    def __init__(
        self, env: Env, hasher: str, db_file: Path, log: Path, *, sqlite_sync: str = "full"
    ) -> None:
        self.env = env
        self.hasher = hasher
        self.name = f"{env.label} ({hasher}, SQLite synchronous={sqlite_sync})"
        environ = {
            **os.environ,
            "BENCH_DB": f"sqlite:{db_file}",
            "BENCH_HASHER": hasher,
            "BENCH_SQLITE_SYNC": sqlite_sync,
            "PYTHONUNBUFFERED": "1",
        }
        self._log = log.open("wb")
        self.proc = subprocess.Popen(  # noqa: S603 - our own argv
            [*env.manage, "bench_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=environ,
            text=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("BENCH "):
                self._lines.put(line[6:])
        self._lines.put(None)

    def receive(self, timeout: float) -> dict[str, Any]:
        """The next answer; raises :class:`WorkerError` on death, timeout or error."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise WorkerError(f"{self.name}: no answer within {timeout:.0f} s") from None
        if line is None:
            raise WorkerError(f"{self.name} exited (code {self.proc.wait()}); see its log")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise WorkerError(f"{self.name}: {answer['error']}\n{answer.get('trace', '')}")
        return answer

    def ask(self, op: str, timeout: float = 300.0, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, **params}) + "\n")
        self.proc.stdin.flush()
        return self.receive(timeout)

    def close(self) -> None:
        """Ask the worker to quit; kill it if it does not within 10 s."""
        try:
            if self.proc.poll() is None and self.proc.stdin is not None:
                self.proc.stdin.write('{"op": "quit"}\n')
                self.proc.stdin.flush()
                self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self._log.close()
