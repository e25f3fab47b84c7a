"""System checks of WebAuthn methods and of passkey login (``PASSKEY_LOGIN``)."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from trench_mfa import flows
from trench_mfa.checks.settings import _configured_methods, _handler_is, trench_check
from trench_mfa.conf import mfa_settings

_REQUIREMENTS = ("required", "preferred", "discouraged")
_ATTESTATIONS = ("none", "indirect", "direct", "enterprise")


def _webauthn_methods() -> list[tuple[str, Any]]:
    return [
        (name, config)
        for name, config in _configured_methods()
        if _handler_is(config, "trench_mfa.backends.webauthn", "WebAuthnDispatcher")
    ]


def _is_domain(value: Any) -> bool:
    """A bare domain name: no scheme, port or path, and not an IP address (WebAuthn's rule)."""
    if not isinstance(value, str) or not value or value != value.strip().lower():
        return False
    if any(c in value for c in ":/?#@ ") or value.startswith(".") or value.endswith("."):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return True
    return False


def _origin_host(origin: Any) -> str | None:
    """The host of a well-formed origin (https, or http on localhost only), else ``None``."""
    if not isinstance(origin, str):
        return None
    parts = urlsplit(origin)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:
        return None
    host = parts.hostname
    if not host or parts.path or parts.query or parts.fragment or parts.username:
        return None
    if parts.scheme == "https" or (parts.scheme == "http" and host == "localhost"):
        return host
    return None


def _origin_messages(obj: str, rp_id: Any, origins: Any) -> list[checks.CheckMessage]:
    if isinstance(origins, str) or not isinstance(origins, list | tuple) or not origins:
        return [
            checks.Error(
                "ORIGINS must be a non-empty list of origins, e.g. ['https://example.com'].",
                obj=obj,
                id="trench_mfa.E181",
            )
        ]
    messages: list[checks.CheckMessage] = []
    for origin in origins:
        host = _origin_host(origin)
        if host is None:
            messages.append(
                checks.Error(
                    f"{origin!r} is not an origin browsers allow WebAuthn on.",
                    hint="scheme://host[:port] with https, or http://localhost for development.",
                    obj=obj,
                    id="trench_mfa.E181",
                )
            )
        elif isinstance(rp_id, str) and host != rp_id and not host.endswith("." + rp_id):
            messages.append(
                checks.Error(
                    f"The origin {origin!r} is not on RP_ID {rp_id!r} or a subdomain of it.",
                    hint="Browsers refuse a credential whose RP ID does not cover the page's host.",
                    obj=obj,
                    id="trench_mfa.E182",
                )
            )
    return messages


def _method_messages(name: str, config: Any) -> list[checks.CheckMessage]:
    obj = f"TRENCH_AUTH['MFA_METHODS'][{name!r}]"
    rp_id = config.get("RP_ID")
    messages: list[checks.CheckMessage] = []
    if not _is_domain(rp_id):
        messages.append(
            checks.Error(
                "RP_ID must be the site's domain name in lower case (no scheme, port or path).",
                hint="An IP address cannot be an RP ID: use localhost for development.",
                obj=obj,
                id="trench_mfa.E180",
            )
        )
    messages.extend(_origin_messages(obj, rp_id, config.get("ORIGINS")))
    for key in ("USER_VERIFICATION", "RESIDENT_KEY"):
        if config.get(key) not in _REQUIREMENTS:
            messages.append(
                checks.Error(
                    f"{key} must be one of {', '.join(_REQUIREMENTS)}.",
                    obj=obj,
                    id="trench_mfa.E183",
                )
            )
    if config.get("ATTESTATION") not in _ATTESTATIONS:
        messages.append(
            checks.Error(
                f"ATTESTATION must be one of {', '.join(_ATTESTATIONS)}.",
                obj=obj,
                id="trench_mfa.E184",
            )
        )
    return messages


def _flow_messages(names: set[str]) -> list[checks.CheckMessage]:
    """A passwordless flow cannot start with a WebAuthn factor (its decoys have no options)."""
    try:
        configured: tuple[flows.Flow, ...] = flows.login_flows() or ()
    except ImproperlyConfigured:
        return []  # the flow checks report it
    return [
        checks.Error(
            f"The flow {flow.label!r} starts with the WebAuthn method {flow.factors[0].method!r}.",
            hint="Use PASSKEY_LOGIN for a passwordless login with a passkey.",
            id="trench_mfa.E186",
        )
        for flow in configured
        if flow.passwordless and flow.factors and flow.factors[0].method in names
    ]


@trench_check(checks.Tags.security)
def check_webauthn_methods(**kwargs: Any) -> list[checks.CheckMessage]:
    """RP ID, origins and requirements of every WebAuthn method; passkey login's needs."""
    methods = _webauthn_methods()
    messages: list[checks.CheckMessage] = []
    for name, config in methods:
        messages.extend(_method_messages(name, config))
    messages.extend(_flow_messages({name for name, _ in methods}))
    if mfa_settings.PASSKEY_LOGIN and not methods:
        messages.append(
            checks.Error(
                "TRENCH_AUTH['PASSKEY_LOGIN'] is on, but no WebAuthn method is configured.",
                hint="Add a method with HANDLER trench_mfa.backends.webauthn.WebAuthnDispatcher.",
                id="trench_mfa.E185",
            )
        )
    elif mfa_settings.PASSKEY_LOGIN and methods[0][1].get("RESIDENT_KEY") == "discouraged":
        messages.append(
            checks.Warning(
                "Passkey login is on, but RESIDENT_KEY is 'discouraged'.",
                hint="Credentials that are not discoverable cannot log in without a username.",
                obj=f"TRENCH_AUTH['MFA_METHODS'][{methods[0][0]!r}]",
                id="trench_mfa.W180",
            )
        )
    return messages
