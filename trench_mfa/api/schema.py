"""OpenAPI annotations that work with or without drf-spectacular installed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_extend_schema: Callable[..., Any] | None
try:
    from drf_spectacular.utils import extend_schema as _extend_schema
except ImportError:  # pragma: no cover - drf-spectacular is optional
    _extend_schema = None


def document(**kwargs: Any) -> Callable[[F], F]:
    """``extend_schema`` when drf-spectacular is installed, else a no-op."""
    if _extend_schema is None:  # pragma: no cover
        return lambda func: func
    kwargs.setdefault("tags", ["mfa"])
    decorator: Callable[[F], F] = _extend_schema(**kwargs)
    return decorator


if _extend_schema is not None:
    # Registers the extensions that describe login bodies under FLOWS, and
    # the enrolment token's security scheme.
    from trench_mfa.api import schema_auth, schema_flows  # noqa: F401
