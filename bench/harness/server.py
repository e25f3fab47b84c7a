"""A gunicorn server of one benchmark site, bound to 127.0.0.1."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import time
from pathlib import Path

from harness.envs import Env


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Gunicorn:
    """``gunicorn --workers 2`` of ``env``'s site, started and stopped by us."""

    def __init__(self, env: Env, environ: dict[str, str], log: Path, workers: int = 2) -> None:
        self.env = env
        self.port = free_port()
        self._log = log.open("wb")
        self.proc = subprocess.Popen(  # noqa: S603 - our own argv
            [
                str(env.venv / "bin" / "gunicorn"),
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--chdir",
                str(env.site_dir),
                "--log-level",
                "warning",
                f"{env.site}.wsgi:application",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **environ},
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Poll a cheap endpoint until it answers (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn for {self.env.label} exited; see its log")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/auth/mfa/config/")
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn for {self.env.label} did not start in {timeout:.0f} s")

    def stop(self) -> None:
        """Terminate our gunicorn master (it stops its workers)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
