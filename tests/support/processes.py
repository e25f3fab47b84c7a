"""Shutting down the subprocesses the tests start (servers, workers)."""

from __future__ import annotations

import subprocess
from typing import Any


def wait_or_kill(process: subprocess.Popen[Any], timeout: float, kill_timeout: float) -> None:
    """Wait up to ``timeout`` for ``process`` to exit; SIGKILL it if it has not.

    A server or worker that hangs on shutdown must not hang the test session
    (or leak a process holding a port): it gets ``kill_timeout`` more after
    the kill.
    """
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=kill_timeout)
