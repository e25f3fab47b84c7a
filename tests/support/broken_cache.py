"""A cache backend that is down: every read and write raises ``ConnectionError``."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.base import BaseCache


class BrokenCache(BaseCache):
    """Like Redis with the server gone; ``clear()`` is a no-op for test teardown."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)

    def _down(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache server unreachable")

    get = set = add = delete = touch = incr = has_key = get_many = set_many = _down

    def clear(self) -> None:
        """Nothing to clear."""
