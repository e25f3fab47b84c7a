"""System checks of ``IsMFAAuthenticated`` and its settings.

Registered from ``AppConfig.ready()``: ``trench_mfa.E170`` and ``E171`` for
``MFA_ACCEPTED_AMR`` and ``MFA_MAX_AGE``; ``trench_mfa.W170`` for a view of
the URLconf that requires ``IsMFAAuthenticated`` but cannot authenticate a
simplejwt token, so that the permission would refuse every request.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.core import checks
from django.urls import URLResolver, get_resolver

from trench_mfa.checks.settings import trench_check
from trench_mfa.conf import mfa_settings
from trench_mfa.permissions import IsMFAAuthenticated


def _setting_messages() -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    accepted = mfa_settings.MFA_ACCEPTED_AMR
    if (
        not isinstance(accepted, list | tuple | set | frozenset)
        or not accepted
        or not all(isinstance(v, str) and v for v in accepted)
    ):
        messages.append(
            checks.Error(
                "TRENCH_AUTH['MFA_ACCEPTED_AMR'] must be a non-empty list of amr values, "
                'e.g. ["mfa"].',
                id="trench_mfa.E170",
            )
        )
    max_age = mfa_settings.MFA_MAX_AGE
    if max_age is not None and (
        not isinstance(max_age, int) or isinstance(max_age, bool) or max_age <= 0
    ):
        messages.append(
            checks.Error(
                "TRENCH_AUTH['MFA_MAX_AGE'] must be None or a positive number of seconds.",
                id="trench_mfa.E171",
            )
        )
    return messages


def _view_classes(patterns: Iterable[Any]) -> Iterator[type]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _view_classes(pattern.url_patterns)
            continue
        view = getattr(getattr(pattern, "callback", None), "cls", None)
        if isinstance(view, type):
            yield view  # a DRF view or viewset (as_view() sets .cls)


def _requires_mfa(permission: Any) -> bool:
    """Whether ``permission`` is, or combines (``&``, ``|``, ``~``), ``IsMFAAuthenticated``."""
    if isinstance(permission, type):
        return issubclass(permission, IsMFAAuthenticated)
    operands = (getattr(permission, "op1_class", None), getattr(permission, "op2_class", None))
    return any(_requires_mfa(op) for op in operands if op is not None)


def _reads_jwt(authentication_classes: Iterable[Any]) -> bool:
    try:
        from rest_framework_simplejwt.authentication import JWTAuthentication
    except ImportError:
        return False
    return any(
        isinstance(cls, type) and issubclass(cls, JWTAuthentication)
        for cls in authentication_classes
    )


def _view_messages() -> list[checks.CheckMessage]:
    try:
        patterns = get_resolver().url_patterns
    except Exception:  # Django's own URL checks report a broken URLconf
        return []
    messages: list[checks.CheckMessage] = []
    for view in dict.fromkeys(_view_classes(patterns)):
        permissions = getattr(view, "permission_classes", ())
        if not any(_requires_mfa(p) for p in permissions):
            continue
        if _reads_jwt(getattr(view, "authentication_classes", ())):
            continue
        messages.append(
            checks.Warning(
                f"{view.__module__}.{view.__qualname__} requires IsMFAAuthenticated, but none "
                "of its authentication classes reads simplejwt tokens: every request is "
                "refused.",
                hint="Add rest_framework_simplejwt.authentication.JWTAuthentication to the "
                "view's authentication_classes (pip install 'trench-mfa[jwt]').",
                obj=view,
                id="trench_mfa.W170",
            )
        )
    return messages


@trench_check(checks.Tags.security, checks.Tags.urls)
def check_mfa_permission(**kwargs: Any) -> list[checks.CheckMessage]:
    """``MFA_ACCEPTED_AMR``, ``MFA_MAX_AGE``, and the views that use ``IsMFAAuthenticated``."""
    return _setting_messages() + _view_messages()
