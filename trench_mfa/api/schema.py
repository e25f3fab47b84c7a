"""OpenAPI annotations that work with or without drf-spectacular installed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_extend_schema: Callable[..., Any] | None
_extend_schema_field: Callable[..., Any] | None
try:
    from drf_spectacular.utils import extend_schema as _extend_schema
    from drf_spectacular.utils import extend_schema_field as _extend_schema_field
except ImportError:  # pragma: no cover - drf-spectacular is optional
    _extend_schema = None
    _extend_schema_field = None

T = TypeVar("T")


def document(**kwargs: Any) -> Callable[[F], F]:
    """``extend_schema`` when drf-spectacular is installed, else a no-op."""
    if _extend_schema is None:  # pragma: no cover
        return lambda func: func
    kwargs.setdefault("tags", ["mfa"])
    decorator: Callable[[F], F] = _extend_schema(**kwargs)
    return decorator


def document_field(schema: dict[str, Any]) -> Callable[[T], T]:
    """``extend_schema_field(schema)`` when drf-spectacular is installed, else a no-op."""
    if _extend_schema_field is None:  # pragma: no cover
        return lambda field: field
    decorator: Callable[[T], T] = _extend_schema_field(schema)
    return decorator
