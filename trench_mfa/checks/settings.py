"""System checks for the ``TRENCH_AUTH`` settings (``manage.py check``)."""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured

from trench_mfa.conf import (
    DEFAULTS,
    IGNORED_TRENCH_KEYS,
    SETTING_NAME,
    build_method_config,
    mfa_settings,
)

#: Ceiling for email and SMS code lifetimes (NIST SP 800-63B: 10 minutes).
MAX_SENT_CODE_VALIDITY = 600

CheckFunction = Callable[..., list[checks.CheckMessage]]


def _trench_auth_is_usable() -> bool:
    raw = getattr(settings, SETTING_NAME, None)
    return raw is None or isinstance(raw, Mapping)


def trench_check(*tags: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check of ``TRENCH_AUTH``'s contents under ``tags`` and ``"trench_mfa"``.

    The check is skipped while ``TRENCH_AUTH`` itself is not a dict: every
    setting read would raise then, and :func:`check_trench_auth` reports the
    one real problem (``trench_mfa.E007``) instead.
    """

    def register(check: CheckFunction) -> CheckFunction:
        @functools.wraps(check)
        def guarded(**kwargs: Any) -> list[checks.CheckMessage]:
            if not _trench_auth_is_usable():
                return []
            return check(**kwargs)

        checks.register(*tags, "trench_mfa")(guarded)
        return guarded

    return register


@checks.register(checks.Tags.compatibility, "trench_mfa")
def check_trench_auth(**kwargs: Any) -> list[checks.CheckMessage]:
    """``TRENCH_AUTH`` is a dict, and every key in it is one trench_mfa knows."""
    raw = getattr(settings, SETTING_NAME, None)
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        return [
            checks.Error(
                f"TRENCH_AUTH must be a dict, not {type(raw).__name__}.",
                hint="Every other trench_mfa check is skipped until it is one.",
                id="trench_mfa.E007",
            )
        ]
    messages: list[checks.CheckMessage] = []
    for key in raw:
        if key in DEFAULTS or key in IGNORED_TRENCH_KEYS:
            continue
        # A misspelt key would otherwise be dropped silently and its default used.
        close = difflib.get_close_matches(str(key), DEFAULTS, n=1)
        messages.append(
            checks.Error(
                f"TRENCH_AUTH has an unknown key {key!r}.",
                hint=f"Did you mean {close[0]!r}?" if close else "See the settings reference.",
                id="trench_mfa.E008",
            )
        )
    return messages


def _user_has_field(path: str) -> bool:
    model = get_user_model()
    first = path.split(".", 1)[0]
    try:
        model._meta.get_field(first)
    except FieldDoesNotExist:
        # Plain attributes and properties work as sources too.
        return hasattr(model, first)
    return True


def _check_method(name: str, raw: Any, user: Mapping[str, Any]) -> list[checks.CheckMessage]:
    obj = f"TRENCH_AUTH['MFA_METHODS'][{name!r}]"
    try:
        config = build_method_config(name, raw, user)
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), obj=obj, id="trench_mfa.E001")]
    from trench_mfa.backends.base import AbstractMessageDispatcher

    messages: list[checks.CheckMessage] = []
    handler = config.handler
    if not isinstance(handler, type) or not issubclass(handler, AbstractMessageDispatcher):
        messages.append(
            checks.Error(
                f"HANDLER {config.handler_path!r} is not an AbstractMessageDispatcher subclass.",
                obj=obj,
                id="trench_mfa.E002",
            )
        )
        return messages
    source: Any = config.source_field
    if handler.sends_codes and not (isinstance(source, str) and source.strip()):
        messages.append(
            checks.Error(
                f"The method sends codes, but its SOURCE_FIELD is {source!r}.",
                hint="Name the user field (or attribute) that holds the address or number.",
                obj=obj,
                id="trench_mfa.E009",
            )
        )
    elif source is not None and (not isinstance(source, str) or not _user_has_field(source)):
        messages.append(
            checks.Error(
                f"SOURCE_FIELD {config.source_field!r} is not a field of "
                f"{get_user_model().__name__}.",
                obj=obj,
                id="trench_mfa.E003",
            )
        )
    if handler.sends_codes and config.validity_period > MAX_SENT_CODE_VALIDITY:
        messages.append(
            checks.Warning(
                f"VALIDITY_PERIOD {config.validity_period}s is above "
                f"{MAX_SENT_CODE_VALIDITY}s for a code sent by message.",
                hint="NIST SP 800-63B expects sent codes to expire within 10 minutes.",
                obj=obj,
                id="trench_mfa.W001",
            )
        )
    return messages


@trench_check(checks.Tags.security)
def check_settings(**kwargs: Any) -> list[checks.CheckMessage]:
    """Validate every method of ``TRENCH_AUTH['MFA_METHODS']`` and the global keys."""
    user = mfa_settings.user_settings()
    messages: list[checks.CheckMessage] = []
    methods = mfa_settings.raw_methods()
    if not isinstance(methods, Mapping):
        return [checks.Error("TRENCH_AUTH['MFA_METHODS'] must be a dict.", id="trench_mfa.E004")]
    for name, raw in methods.items():
        messages.extend(_check_method(name, raw, user))
    length = mfa_settings.CODE_LENGTH
    if isinstance(length, bool) or not isinstance(length, int) or not 6 <= length <= 10:
        messages.append(
            checks.Error("TRENCH_AUTH['CODE_LENGTH'] must be 6 to 10 digits.", id="trench_mfa.E005")
        )
    if not _is_int(mfa_settings.EPHEMERAL_TOKEN_VALIDITY, 1, 900):
        messages.append(
            checks.Error(
                "TRENCH_AUTH['EPHEMERAL_TOKEN_VALIDITY'] must be 1 to 900 seconds.",
                id="trench_mfa.E006",
            )
        )
    return messages


def _configured_methods() -> list[tuple[str, Any]]:
    """(name, MethodConfig) of every method that validates (others get E001)."""
    user = mfa_settings.user_settings()
    methods = mfa_settings.raw_methods()
    if not isinstance(methods, Mapping):
        return []
    found = []
    for name, raw in methods.items():
        try:
            found.append((name, build_method_config(name, raw, user)))
        except ImproperlyConfigured:
            continue
    return found


def _handler_is(config: Any, module: str, class_name: str) -> bool:
    # The base class's module is loaded exactly when a configured handler
    # imported it, so optional dependencies (yubico-client) are never imported
    # here just to run the checks.
    import sys

    base = getattr(sys.modules.get(module), class_name, None)
    handler = config.handler
    return isinstance(base, type) and isinstance(handler, type) and issubclass(handler, base)


@trench_check(checks.Tags.security)
def check_encryption_keys(**kwargs: Any) -> list[checks.CheckMessage]:
    """``ENCRYPTION_KEYS`` must be Fernet keys; recommend setting them."""
    from trench_mfa.state import secrets_at_rest

    if mfa_settings.ENCRYPTION_KEYS is None:
        return [
            checks.Warning(
                "MFA secrets at rest are encrypted with keys derived from SECRET_KEY.",
                hint=(
                    "Set TRENCH_AUTH['ENCRYPTION_KEYS'] to a list of Fernet keys (newest "
                    "first), kept apart from SECRET_KEY, so that the two rotate independently."
                ),
                id="trench_mfa.W101",
            )
        ]
    try:
        secrets_at_rest.get_fernet()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="trench_mfa.E101")]
    return []


def _app_messages(name: str, config: Any) -> list[checks.CheckMessage]:
    from trench_mfa.backends.application import ALGORITHMS, ALLOWED_DIGITS, MAX_VALID_WINDOW
    from trench_mfa.backends.qr import QR_FORMATS

    obj = f"TRENCH_AUTH['MFA_METHODS'][{name!r}]"
    digits = config.get("DIGITS", 6)
    algorithm = str(config.get("ALGORITHM", "SHA1")).upper()
    window = config.get("VALID_WINDOW", 1)
    qr_format = str(config.get("QR_CODE_FORMAT", "svg")).lower()
    errors = [
        (digits not in ALLOWED_DIGITS, "DIGITS must be 6 or 8.", "E102"),
        (algorithm not in ALGORITHMS, "ALGORITHM must be SHA1, SHA256 or SHA512.", "E103"),
        (
            isinstance(window, bool) or window not in range(MAX_VALID_WINDOW + 1),
            "VALID_WINDOW must be 0 or 1 (steps accepted either side of the current one).",
            "E104",
        ),
        (qr_format not in QR_FORMATS, 'QR_CODE_FORMAT must be "svg" or "png".', "E105"),
    ]
    messages: list[checks.CheckMessage] = [
        checks.Error(text, obj=obj, id=f"trench_mfa.{code}") for bad, text, code in errors if bad
    ]
    if qr_format == "png":
        from trench_mfa.backends import qr

        try:
            qr._png_factory()
        except ImproperlyConfigured as exc:
            messages.append(checks.Error(str(exc), obj=obj, id="trench_mfa.E106"))
    if (config.validity_period, digits, algorithm) != (30, 6, "SHA1"):
        messages.append(
            checks.Warning(
                f"The authenticator app method uses a {config.validity_period}s step, "
                f"{digits} digits and {algorithm}.",
                hint=(
                    "Several authenticator apps (Google Authenticator among them) ignore "
                    "period, digits or algorithm and show wrong codes; 30/6/SHA1 works everywhere."
                ),
                obj=obj,
                id="trench_mfa.W102",
            )
        )
    return messages


@trench_check(checks.Tags.security)
def check_app_methods(**kwargs: Any) -> list[checks.CheckMessage]:
    """TOTP options of every authenticator app method, and the issuer name."""
    messages: list[checks.CheckMessage] = []
    apps = [
        (name, config)
        for name, config in _configured_methods()
        if _handler_is(config, "trench_mfa.backends.application", "ApplicationMessageDispatcher")
    ]
    for name, config in apps:
        messages.extend(_app_messages(name, config))
    issuer = mfa_settings.APPLICATION_ISSUER_NAME
    if apps and (not isinstance(issuer, str) or not issuer.strip() or ":" in issuer):
        messages.append(
            checks.Error(
                "TRENCH_AUTH['APPLICATION_ISSUER_NAME'] must be a non-empty name without ':'.",
                hint="':' separates issuer and account in an otpauth label.",
                id="trench_mfa.E107",
            )
        )
    return messages


def _yubikey_messages(name: str, config: Any) -> list[checks.CheckMessage]:
    import base64
    import binascii

    obj = f"TRENCH_AUTH['MFA_METHODS'][{name!r}]"
    messages: list[checks.CheckMessage] = []
    if not config.get("YUBICLOUD_CLIENT_ID"):
        messages.append(
            checks.Error("YUBICLOUD_CLIENT_ID is not set.", obj=obj, id="trench_mfa.E110")
        )
    key = config.get("YUBICLOUD_SECRET_KEY")
    if not key:
        messages.append(
            checks.Warning(
                "YUBICLOUD_SECRET_KEY is not set: validation answers are not signed.",
                hint="Set the API key that belongs to YUBICLOUD_CLIENT_ID.",
                obj=obj,
                id="trench_mfa.W110",
            )
        )
    else:
        try:
            base64.b64decode(str(key).encode("ascii"), validate=True)
        except (binascii.Error, ValueError):
            messages.append(
                checks.Error("YUBICLOUD_SECRET_KEY is not base64.", obj=obj, id="trench_mfa.E111")
            )
    urls = config.get("YUBICLOUD_API_URLS")
    urls = [urls] if isinstance(urls, str) else urls
    if (
        not isinstance(urls, list | tuple)
        or not urls
        or not all(isinstance(u, str) and u.startswith(("https://", "http://")) for u in urls)
    ):
        messages.append(
            checks.Error(
                "YUBICLOUD_API_URLS must be one or more http(s) URLs.",
                obj=obj,
                id="trench_mfa.E112",
            )
        )
    timeout = config.get("YUBICLOUD_TIMEOUT")
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 10:
        messages.append(
            checks.Error(
                "YUBICLOUD_TIMEOUT must be 1 to 10 seconds.", obj=obj, id="trench_mfa.E113"
            )
        )
    return messages


@trench_check(checks.Tags.security)
def check_yubikey_methods(**kwargs: Any) -> list[checks.CheckMessage]:
    """YubiCloud client id, API key, URLs and timeout of every YubiKey method."""
    messages: list[checks.CheckMessage] = []
    for name, config in _configured_methods():
        if _handler_is(config, "trench_mfa.backends.yubikey", "YubiKeyMessageDispatcher"):
            messages.extend(_yubikey_messages(name, config))
    return messages


#: Values of ``TRENCH_AUTH['DISPATCH']``.
DISPATCH_MODES = ("sync", "celery")


@trench_check(checks.Tags.compatibility)
def check_dispatch_mode(**kwargs: Any) -> list[checks.CheckMessage]:
    """``DISPATCH`` is ``"sync"`` or ``"celery"``, and Celery is installed for the latter."""
    mode = mfa_settings.DISPATCH
    if mode not in DISPATCH_MODES:
        return [
            checks.Error(
                f"TRENCH_AUTH['DISPATCH'] must be 'sync' or 'celery', not {mode!r}.",
                id="trench_mfa.E130",
            )
        ]
    if mode == "celery":
        try:
            import celery  # noqa: F401 - only whether it imports
        except ImportError:
            return [
                checks.Error(
                    "TRENCH_AUTH['DISPATCH'] is 'celery' but Celery is not installed.",
                    hint="pip install 'trench-mfa[celery]'",
                    id="trench_mfa.E131",
                )
            ]
    return []


#: NIST SP 800-63B 5.2.2: at most 100 consecutive failed attempts per account.
MAX_LOCKOUT_THRESHOLD = 100
#: Most wrong hardcodes before a lockout: a hardcode may be as short as a
#: 4-digit PIN, so it gets far fewer tries than a code.
MAX_HARDCODE_LOCKOUT_THRESHOLD = 10


def _is_int(value: Any, low: int, high: int | None = None) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and value >= low
        and (high is None or value <= high)
    )


def _login_throttle_messages() -> list[checks.CheckMessage]:
    from django.conf import settings
    from rest_framework.settings import api_settings

    from trench_mfa.api.throttles import LOGIN_SCOPE, SEND_SCOPE

    rates = api_settings.DEFAULT_THROTTLE_RATES
    rates = rates if isinstance(rates, Mapping) else {}
    messages: list[checks.CheckMessage] = []
    if not rates.get(LOGIN_SCOPE):
        messages.append(
            checks.Warning(
                f"REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'] has no {LOGIN_SCOPE!r} rate: "
                "login step 1 (password guessing) is not throttled per IP or per username.",
                hint=f'Set e.g. {{"{LOGIN_SCOPE}": "10/min", "{SEND_SCOPE}": "20/min"}}.',
                id="trench_mfa.W145",
            )
        )
    if not (rates.get(LOGIN_SCOPE) or rates.get(SEND_SCOPE)):
        return messages
    if api_settings.NUM_PROXIES is None:
        messages.append(
            checks.Warning(
                "REST_FRAMEWORK['NUM_PROXIES'] is not set: the per-IP throttles of "
                "trench_mfa trust any X-Forwarded-For header, so a client can change its "
                "IP at will.",
                hint="Set NUM_PROXIES to the number of proxies in front of Django (0 for none).",
                id="trench_mfa.W141",
            )
        )
    backend = str(settings.CACHES.get("default", {}).get("BACKEND", ""))
    if backend.endswith(("LocMemCache", "DummyCache")):
        messages.append(
            checks.Warning(
                f"trench_mfa's throttles count in CACHES['default'] "
                f"({backend.rsplit('.', 1)[-1]}), "
                + (
                    "which stores nothing: they never throttle."
                    if backend.endswith("DummyCache")
                    else "which each process keeps to itself."
                ),
                hint="Point CACHES['default'] at Redis (or another shared cache) in production.",
                id="trench_mfa.W142",
            )
        )
    return messages


#: The recommended send limits: at least this many
#: seconds between two codes, and at most SEND_CAP codes in SEND_CAP_WINDOW.
MIN_RESEND_COOLDOWN = 30
SEND_CAP = 5
SEND_CAP_WINDOW = 600


def _send_limit_messages() -> list[checks.CheckMessage]:
    """Warnings for send limits looser than the recommended ones (never errors: tests use 0)."""
    messages: list[checks.CheckMessage] = []
    cooldown = mfa_settings.RESEND_COOLDOWN
    if not _is_int(cooldown, MIN_RESEND_COOLDOWN):
        messages.append(
            checks.Warning(
                f"TRENCH_AUTH['RESEND_COOLDOWN'] is {cooldown!r}: codes may be sent more "
                f"often than every {MIN_RESEND_COOLDOWN} seconds per method (SMS cost, mail "
                "bombing).",
                hint="Use 30 to 60 seconds (the default is 60).",
                id="trench_mfa.W143",
            )
        )
    limit, window = mfa_settings.SEND_LIMIT, mfa_settings.SEND_LIMIT_WINDOW
    # Sliding windows shorter than SEND_CAP_WINDOW allow one quota per part.
    per_cap_window = (
        limit * math.ceil(SEND_CAP_WINDOW / window)
        if _is_int(limit, 1) and _is_int(window, 1)
        else None
    )
    if per_cap_window is None or per_cap_window > SEND_CAP:
        messages.append(
            checks.Warning(
                f"TRENCH_AUTH['SEND_LIMIT'] ({limit!r}) and ['SEND_LIMIT_WINDOW'] "
                f"({window!r}) allow more than {SEND_CAP} codes of one method in "
                f"{SEND_CAP_WINDOW} seconds.",
                hint="Keep the defaults: SEND_LIMIT 5, SEND_LIMIT_WINDOW 600.",
                id="trench_mfa.W144",
            )
        )
    return messages


@trench_check(checks.Tags.security)
def check_limits(**kwargs: Any) -> list[checks.CheckMessage]:
    """Back-off, lockout and code-attempt settings, and the login throttles' setup."""
    rules = [
        (
            _is_int(mfa_settings.LOCKOUT_THRESHOLD, 1, MAX_LOCKOUT_THRESHOLD),
            "TRENCH_AUTH['LOCKOUT_THRESHOLD'] must be 1 to 100 consecutive failures "
            "(NIST SP 800-63B allows at most 100).",
            "E140",
        ),
        (
            _is_int(mfa_settings.LOCKOUT_DURATION, 1),
            "TRENCH_AUTH['LOCKOUT_DURATION'] must be a positive number of seconds.",
            "E141",
        ),
        (
            isinstance(mfa_settings.THROTTLE_FACTOR, int | float)
            and not isinstance(mfa_settings.THROTTLE_FACTOR, bool)
            and mfa_settings.THROTTLE_FACTOR >= 0,
            "TRENCH_AUTH['THROTTLE_FACTOR'] must be a number of seconds >= 0 (0: no back-off).",
            "E142",
        ),
        (
            _is_int(mfa_settings.MAX_CODE_ATTEMPTS, 1, 10),
            "TRENCH_AUTH['MAX_CODE_ATTEMPTS'] must be 1 to 10 wrong tries per code.",
            "E143",
        ),
        (
            _is_int(mfa_settings.HARDCODE_LOCKOUT_THRESHOLD, 1, MAX_HARDCODE_LOCKOUT_THRESHOLD),
            "TRENCH_AUTH['HARDCODE_LOCKOUT_THRESHOLD'] must be 1 to 10 consecutive wrong "
            "hardcodes (a 4-digit hardcode has only 10,000 values).",
            "E144",
        ),
    ]
    messages: list[checks.CheckMessage] = [
        checks.Error(text, id=f"trench_mfa.{code}") for ok, text, code in rules if not ok
    ]
    return messages + _send_limit_messages() + _login_throttle_messages()
