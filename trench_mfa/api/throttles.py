"""DRF throttles: login step 1 per client IP and per username; sends per IP.

Login step 1 uses the scope ``trench_mfa_login``, the endpoints that send a
code on request (activation, ``code/request/``, ``login/code/request/``)
the scope ``trench_mfa_send``. Rates come from
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (e.g. ``"10/min"``), read on
every request; when the project sets no rate for a scope, nothing is
throttled. The counts live in Django's default cache, so with several app
servers it must be a shared one (Redis). The client IP follows DRF's
``NUM_PROXIES`` rule. When the cache cannot be reached the request is
refused (429): failing open would switch the limit off exactly when an
attacker manages to overload the cache.

Second-factor checks do not depend on these: their back-off and lockout
live in the database (:mod:`trench_mfa.throttling`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from trench_mfa import crypto, flows

logger = logging.getLogger("trench_mfa.throttles")

#: The scope of the login step-1 throttles.
LOGIN_SCOPE = "trench_mfa_login"
#: The scope of the per-IP throttle of code sends.
SEND_SCOPE = "trench_mfa_send"
#: Characters of a submitted username that make up its key (longer ones are
#: refused by the serializer anyway).
_MAX_USERNAME = 256


class LoginThrottle(SimpleRateThrottle):
    """Base: rate read at call time, keys hashed, fail closed on cache errors."""

    scope = LOGIN_SCOPE
    #: Distinguishes the IP and username counters in the cache key.
    kind = ""

    def __init__(self) -> None:
        self.cache_failed = False
        self._cache_key: str | None = None
        self._key_known = False
        super().__init__()

    def get_rate(self) -> str | None:
        """The scope's rate from the current settings, or ``None`` (no limit)."""
        rates = api_settings.DEFAULT_THROTTLE_RATES or {}
        rate = rates.get(self.scope)
        return str(rate) if rate else None

    def ident(self, request: Request) -> str | None:
        """What is counted (``None``: this request is not counted)."""
        raise NotImplementedError

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        """A keyed hash of :meth:`ident`: no raw IP or username in the cache."""
        if not self._key_known:
            ident = self.ident(request)
            if ident is not None:
                digest = crypto.keyed_hash(f"login-throttle-{self.kind}", ident)[:32]
                self._cache_key = self.cache_format % {
                    "scope": self.scope,
                    "ident": f"{self.kind}_{digest}",
                }
            self._key_known = True
        return self._cache_key

    def allow_request(self, request: Request, view: Any) -> bool:
        """DRF's sliding window; a cache error refuses the request."""
        if self.rate is None:
            return True
        # Outside the ``try``: reading the body may fail (unparsable: 400;
        # over DATA_UPLOAD_MAX_MEMORY_SIZE: Django's 400), which is the
        # client's error, not the cache's.
        self.get_cache_key(request, view)
        try:
            return super().allow_request(request, view)
        except Exception as exc:
            self.cache_failed = True
            logger.error(
                "Login throttle %s: the cache failed (%s); refusing the request.",
                self.kind,
                type(exc).__name__,
            )
            return False

    def wait(self) -> float | None:
        """Seconds until the next request may pass."""
        if self.cache_failed:
            return float(getattr(self, "duration", None) or 60)
        return super().wait()


class LoginIPThrottle(LoginThrottle):
    """Login attempts per client IP address."""

    kind = "ip"

    def ident(self, request: Request) -> str | None:
        """The client address by DRF's ``NUM_PROXIES`` rule."""
        return str(self.get_ident(request) or "")


class LoginUsernameThrottle(LoginThrottle):
    """Login attempts per submitted username (case-folded), whoever sends them."""

    kind = "user"

    def ident(self, request: Request) -> str | None:
        """The submitted ``USERNAME_FIELD`` value; ``None`` when there is none.

        With ``TRENCH_AUTH["FLOWS"]`` it is the first identifier field of a
        flow present in the body (an email address, a phone number...),
        prefixed with its name unless it is the ``USERNAME_FIELD``.
        """
        data = request.data
        if not isinstance(data, Mapping):
            return None
        username_field = get_user_model().USERNAME_FIELD
        field, value = username_field, data.get(username_field)
        for name in flows.login_fields():
            if isinstance(data.get(name), str) and data[name].strip():
                field, value = name, data[name]
                break
        if not isinstance(value, str) or not value.strip():
            return None
        name = value.strip().casefold()[:_MAX_USERNAME]
        if field != username_field:
            name = f"{field}:{name}"
        # A lone surrogate cannot be UTF-8 encoded for the key's hash (the
        # serializer answers 400 for it); count it under its replacement.
        return name.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


class SendIPThrottle(LoginIPThrottle):
    """Code sends on request per client IP (SMS pumping from one address)."""

    scope = SEND_SCOPE
    kind = "send_ip"
