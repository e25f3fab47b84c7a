"""A password hasher that counts its calls (login cost and timing tests)."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class CountingHasher(PBKDF2PasswordHasher):
    """PBKDF2 with few iterations that counts how often it hashes."""

    algorithm = "counting_pbkdf2"
    iterations = 1000
    calls: ClassVar[list[str]] = []

    def encode(self, password: str, salt: str, iterations: int | None = None) -> str:
        """Hash, and count it."""
        self.calls.append("encode")
        return super().encode(password, salt, iterations)
