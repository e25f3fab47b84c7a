"""System checks for login flows: ``FLOWS``, ``IDENTIFIERS`` and their settings.

Registered from ``AppConfig.ready()``. Check ids ``trench_mfa.E160`` to
``E169`` are errors (the flow cannot work as written), ``W160`` and ``W161``
warnings (it works, but not as safely as it could).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from trench_mfa.checks.settings import trench_check
from trench_mfa.conf import mfa_settings


def _unique_user_field(name: str) -> bool:
    from django.db.models import UniqueConstraint

    meta = get_user_model()._meta
    if name == get_user_model().USERNAME_FIELD or getattr(meta.get_field(name), "unique", False):
        return True
    return any(
        isinstance(c, UniqueConstraint) and tuple(c.fields) == (name,) and c.condition is None
        for c in meta.constraints
    )


def _flow_warnings(flow: Any) -> list[checks.CheckMessage]:
    from trench_mfa import flows

    obj = f"TRENCH_AUTH['FLOWS'] {flow.label!r}"
    messages: list[checks.CheckMessage] = []
    if not _unique_user_field(flow.identifier):
        messages.append(
            checks.Warning(
                f"{flow.identifier!r} is not unique on {get_user_model().__name__}.",
                hint="A value shared by several users logs none of them in; make the field unique.",
                obj=obj,
                id="trench_mfa.W160",
            )
        )
    if flows.PASSCODE in flow.secrets and flow.identifier not in flows.identifiers():
        messages.append(
            checks.Warning(
                f"Passcodes go to {flow.identifier!r}, which is never verified.",
                hint=f"Add {flow.identifier!r} to TRENCH_AUTH['IDENTIFIERS'].",
                obj=obj,
                id="trench_mfa.W161",
            )
        )
    return messages


def _flow_settings_errors() -> list[checks.CheckMessage]:
    link = mfa_settings.VERIFICATION_LINK_URL
    validity = mfa_settings.VERIFICATION_LINK_VALIDITY
    shortest = mfa_settings.HARDCODE_MIN_LENGTH
    problems = [
        (
            link is not None and (not isinstance(link, str) or "{key}" not in link),
            "TRENCH_AUTH['VERIFICATION_LINK_URL'] must be a URL containing '{key}'.",
            "E167",
        ),
        (
            isinstance(validity, bool) or not isinstance(validity, int) or validity <= 0,
            "TRENCH_AUTH['VERIFICATION_LINK_VALIDITY'] must be a positive number of seconds.",
            "E168",
        ),
        (
            isinstance(shortest, bool) or not isinstance(shortest, int) or not 1 <= shortest <= 128,
            "TRENCH_AUTH['HARDCODE_MIN_LENGTH'] must be 1 to 128.",
            "E169",
        ),
    ]
    return [checks.Error(text, id=f"trench_mfa.{code}") for bad, text, code in problems if bad]


@trench_check(checks.Tags.security)
def check_flows(**kwargs: Any) -> list[checks.CheckMessage]:
    """``FLOWS`` name user fields and known secrets; ``IDENTIFIERS`` name sending methods."""
    from trench_mfa import flows

    errors: dict[str, checks.CheckMessage] = {}
    parsed = []

    def attempt(parse: Any, *args: Any) -> Any:
        try:
            return parse(*args)
        except flows.FlowConfigError as exc:
            errors.setdefault(str(exc), checks.Error(str(exc), id=f"trench_mfa.{exc.check_id}"))
        except ImproperlyConfigured:
            pass  # a broken MFA_METHODS entry, reported by check_settings
        return None

    raw_identifiers = mfa_settings.IDENTIFIERS
    if raw_identifiers and not isinstance(raw_identifiers, Mapping):
        attempt(flows.identifiers)
    elif raw_identifiers:
        for field, entry in raw_identifiers.items():
            attempt(flows.parse_identifier, field, entry)
    raw_flows = mfa_settings.FLOWS
    if raw_flows is not None:
        if isinstance(raw_flows, list | tuple) and raw_flows:
            for index, entry in enumerate(raw_flows):
                parsed.append(attempt(flows.parse_flow, index, entry))
        else:
            attempt(flows.login_flows)
    messages: list[checks.CheckMessage] = [*errors.values(), *_flow_settings_errors()]
    if not errors:
        # A flow that named a broken MFA_METHODS entry parsed to None; that
        # entry's own error comes from check_settings (E001, E002).
        for flow in parsed:
            if flow is not None:
                messages.extend(_flow_warnings(flow))
    return messages
