"""A bounded load generator: a fixed pool of threads posting login step 2.

Each request uses its own pre-issued ephemeral token and the authenticator
code of the current 30 s step, computed at send time (RFC 6238 with
HMAC-SHA1, 6 digits, the defaults of both packages). The run stops at the
deadline or when the tokens run out, whichever comes first.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import struct
import threading
import time
from dataclasses import dataclass, field


def totp(secret: str, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """The RFC 6238 code of ``secret`` (base32) at time ``at``."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int(time.time() if at is None else at) // step
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


@dataclass
class LoadResult:
    """Latencies (seconds) of answered requests and the status counts."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    elapsed: float = 0.0
    exhausted: bool = False

    @property
    def ok(self) -> int:
        """Requests answered 200."""
        return self.statuses.get(200, 0)


def run_load(
    port: int, path: str, tokens: list[str], secret: str, *, threads: int, duration: float
) -> LoadResult:
    """Post ``{"ephemeral_token", "code"}`` to ``127.0.0.1:port`` for ``duration`` s."""
    result = LoadResult()
    lock = threading.Lock()
    pending = iter(tokens)
    deadline = time.monotonic() + duration

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                token = next(pending, None)
            if token is None:
                result.exhausted = True
                return
            body = json.dumps({"ephemeral_token": token, "code": totp(secret)})
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("POST", path, body, {"Content-Type": "application/json"})
                status = conn.getresponse().status
                conn.close()
            except OSError:
                with lock:
                    result.errors += 1
                continue
            latency = time.perf_counter() - started
            with lock:
                result.latencies.append(latency)
                result.statuses[status] = result.statuses.get(status, 0) + 1

    began = time.monotonic()
    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=duration + 60)
    result.elapsed = time.monotonic() - began
    return result
