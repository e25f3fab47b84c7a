"""DRF throttles: login step 1 per client IP and per username; sends per IP.

Login step 1 uses the scope ``trench_mfa_login``, the endpoints that send a
code on request (activation, ``code/request/``, ``login/code/request/``)
the scope ``trench_mfa_send``. Rates come from
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (e.g. ``"10/min"``), read on
every request; when the project sets no rate for a scope, nothing is
throttled. The counts live in Django's default cache, so with several app
servers it must be a shared one (Redis). They are windows of the rate's
duration, counted with the cache's ``add()`` and ``incr()``, which are
atomic on Redis, memcached and LocMemCache (not on the database or file
caches), and checked over a sliding window, so neither parallel requests
nor a burst across a window's end pass more than the rate.
The client IP follows DRF's
``NUM_PROXIES`` rule. When the cache cannot be reached the request is
refused (429): failing open would switch the limit off exactly when an
attacker manages to overload the cache.

Second-factor checks do not depend on these: their back-off and lockout
live in the database (:mod:`trench_mfa.state.backoff`).
"""

from __future__ import annotations

import logging
import math
import unicodedata
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from trench_mfa import flows
from trench_mfa.state import crypto

logger = logging.getLogger("trench_mfa.throttles")

#: The scope of the login step-1 throttles.
LOGIN_SCOPE = "trench_mfa_login"
#: The scope of the per-IP throttle of code sends.
SEND_SCOPE = "trench_mfa_send"
#: Characters of a submitted username that make up its key (longer ones are
#: refused by the serializer anyway).
_MAX_USERNAME = 256


class LoginThrottle(SimpleRateThrottle):
    """Base: rate read at call time, keys hashed, fail closed on cache errors.

    A request may be counted under several keys (:meth:`idents`); it passes
    only while every one of them is under the rate, and then counts against
    all of them.
    """

    scope = LOGIN_SCOPE
    #: Distinguishes the IP and username counters in the cache key.
    kind = ""
    #: Set by DRF from the rate; only read when there is a rate.
    num_requests: int
    duration: int

    def __init__(self) -> None:
        self.cache_failed = False
        self._cache_keys: list[str] | None = None
        super().__init__()

    def get_rate(self) -> str | None:
        """The scope's rate from the current settings, or ``None`` (no limit)."""
        rates = api_settings.DEFAULT_THROTTLE_RATES or {}
        rate = rates.get(self.scope)
        return str(rate) if rate else None

    def idents(self, request: Request) -> list[str]:
        """What is counted (empty: this request is not counted)."""
        raise NotImplementedError

    def cache_keys(self, request: Request) -> list[str]:
        """A keyed hash of each of :meth:`idents`: no raw IP or username in the cache."""
        if self._cache_keys is None:
            keys = []
            for ident in dict.fromkeys(self.idents(request)):
                digest = crypto.keyed_hash(f"login-throttle-{self.kind}", ident)[:32]
                keys.append(
                    self.cache_format % {"scope": self.scope, "ident": f"{self.kind}_{digest}"}
                )
            self._cache_keys = keys
        return self._cache_keys

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        """The first of :meth:`cache_keys` (DRF's single-key interface)."""
        keys = self.cache_keys(request)
        return keys[0] if keys else None

    def allow_request(self, request: Request, view: Any) -> bool:
        """An atomic fixed-window count on every key; a cache error refuses the request."""
        if self.rate is None:
            return True
        # Outside the ``try``: reading the body may fail (unparsable: 400;
        # over DATA_UPLOAD_MAX_MEMORY_SIZE: Django's 400), which is the
        # client's error, not the cache's.
        keys = self.cache_keys(request)
        if not keys:
            return True
        try:
            return self._allow(keys)
        except Exception as exc:
            self.cache_failed = True
            logger.error(
                "Login throttle %s: the cache failed (%s); refusing the request.",
                self.kind,
                type(exc).__name__,
            )
            return False

    def _allow(self, keys: list[str]) -> bool:
        """Count the request under every key, atomically, over a sliding window.

        Each window of ``duration`` seconds (aligned on the epoch) has its own
        counter per key, created by ``add()`` (set only if absent) and counted
        by ``incr()``: both are single atomic operations on Redis and
        memcached (and under a lock in LocMemCache), so N parallel requests
        get N distinct counts. A read-modify-write of a history list lost
        updates between parallel requests and let several times the rate
        through.

        The rate is checked against the current window's count plus the
        previous window's, weighted by how much of the previous window still
        lies within the last ``duration`` seconds. A burst across the end of a
        window therefore passes no more than the rate (fixed windows passed
        up to twice the rate there), and since every parallel request gets
        its own count, at most the rate minus the weighted previous count
        passes at once.

        A refused request takes its counts back, as the history list never
        recorded refusals: otherwise requests refused by one key (an
        identifier under attack) would use up the window of the other
        identifiers in the same body. Taking back only undoes this request's
        own increments, so a count never falls below the number of requests
        that passed under it.
        """
        self.now = self.timer()
        window = int(self.now // self.duration)
        start = window * self.duration
        share = 1 - (self.now - start) / self.duration  # of the previous window
        previous = self.cache.get_many([f"{key}:{window - 1}" for key in keys])
        counted: list[str] = []
        self.allowed_at = self.now
        for key in keys:
            window_key = f"{key}:{window}"
            # A counter lives through the next window too, which weighs it;
            # later windows use fresh keys, so no reset is ever needed.
            self.cache.add(window_key, 0, timeout=2 * self.duration)
            count = self.cache.incr(window_key)
            counted.append(window_key)
            before = int(previous.get(f"{key}:{window - 1}") or 0)
            # The epsilon absorbs float rounding of the weight at exact rates.
            if before * share + count > self.num_requests + 1e-9:
                self.allowed_at = self._next_pass(start, before, count - 1)
                for taken in counted:
                    self.cache.decr(taken)
                return self.throttle_failure()
        return self.throttle_success()

    def _next_pass(self, start: float, before: int, current: int) -> float:
        """When one more request would pass, if nobody else comes meanwhile.

        ``before`` and ``current``: the previous and current windows' counts
        (this request's taken back). Inside this window the weight of
        ``before`` falls until ``before * share + current + 1`` fits the
        rate; else the next window, where ``current`` is the weighed one.
        """
        rate = self.num_requests
        if current + 1 <= rate and before > 0:
            return start + (1 - (rate - current - 1) / before) * self.duration
        end = start + self.duration
        if current <= 0:
            return end
        return end + max(0.0, 1 - (rate - 1) / current) * self.duration

    def throttle_success(self) -> bool:
        """Pass (the counts were already taken in :meth:`_allow`)."""
        return True

    def throttle_failure(self) -> bool:
        """Refuse; :meth:`wait` gives when one more request would pass."""
        return False

    def wait(self) -> float | None:
        """Seconds until one more request would pass (whole seconds, at least 1)."""
        if self.cache_failed:
            return float(getattr(self, "duration", None) or 60)
        return float(max(1, math.ceil(self.allowed_at - self.now - 1e-9)))


class LoginIPThrottle(LoginThrottle):
    """Login attempts per client IP address."""

    kind = "ip"

    def idents(self, request: Request) -> list[str]:
        """The client address by DRF's ``NUM_PROXIES`` rule."""
        return [str(self.get_ident(request) or "")]


class LoginUsernameThrottle(LoginThrottle):
    """Login attempts per submitted username (folded: :func:`fold`), whoever sends them."""

    kind = "user"

    def idents(self, request: Request) -> list[str]:
        """Every identifier the body submits: ``USERNAME_FIELD`` and each flow's.

        With ``TRENCH_AUTH["FLOWS"]`` step 1 may try several flows with one
        body, each with its own identifier field, so each identifier present
        is counted (prefixed with its field name unless it is the
        ``USERNAME_FIELD``). Counting only one of them would let a body carry
        a fresh decoy identifier on every try next to the one under attack.
        """
        data = request.data
        if not isinstance(data, Mapping):
            return []
        username_field = get_user_model().USERNAME_FIELD
        found = []
        for field in dict.fromkeys((username_field, *flows.login_fields())):
            value = data.get(field)
            if not isinstance(value, str) or not value.strip():
                continue
            # A lone surrogate cannot be UTF-8 encoded for the key's hash
            # (the serializer answers 400 for it); count it under its
            # replacement.
            text = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
            name = fold(text.strip()[:_MAX_USERNAME])
            found.append(name if field == username_field else f"{field}:{name}")
        return found


def fold(value: str) -> str:
    """The counted form of an identifier: coarser than case-insensitive lookups.

    Case-insensitive lookups match more than ``str.casefold()`` does:
    PostgreSQL's ``UPPER()`` (Django's ``iexact``) turns a dotless i (U+0131)
    into ``I``, MySQL's ``*_ai_ci`` collations ignore accents. So
    compatibility forms are decomposed (fullwidth letters, ligatures),
    accents dropped and case folded both ways: every spelling that could log
    the same user in is counted together. Distinct identifiers that fold
    alike (``josé``, ``jose``) share a count, which only makes the limit
    stricter.
    """
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.upper().casefold()


class SendIPThrottle(LoginIPThrottle):
    """Code sends on request per client IP (SMS pumping from one address)."""

    scope = SEND_SCOPE
    kind = "send_ip"
