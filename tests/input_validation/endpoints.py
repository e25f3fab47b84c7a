"""The POST endpoints that get bad input in these tests, and the fields each one reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.conftest import FLAVOURS

#: The body of a malformed code (wrong length or alphabet, non-ASCII, control
#: characters, too long) on a management endpoint: 400, the ``code`` field's
#: "Code invalid or expired." with the ``ErrorDetail`` code ``invalid_input``.
#: (NUL and lone surrogates never get there: DRF's CharField refuses them.)
MALFORMED_CODE = {"code": ["Code invalid or expired."]}
#: The same at login step 2: the answer to any wrong code (401), counting nothing.
MALFORMED_LOGIN_CODE = {"error": "Invalid or expired code.", "error_code": "invalid_code"}


@dataclass(frozen=True)
class Endpoint:
    """One POST endpoint: its path, who calls it, and which fields it reads."""

    name: str
    path: str
    anonymous: bool
    fields: tuple[str, ...]
    #: Fields the endpoint needs (missing: 400); the others have a default.
    required: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return self.name

    @property
    def malformed_code(self) -> tuple[int, dict[str, Any]]:
        """The status and body of a malformed code here (login step 2 or management)."""
        if self.anonymous:
            return 401, MALFORMED_LOGIN_CODE
        return 400, MALFORMED_CODE


ENDPOINTS: tuple[Endpoint, ...] = (
    # Alice has MFA: adding a method needs a code of her primary.
    Endpoint("activate", "/auth/email2/activate/", False, ("code",), ("code",)),
    Endpoint("confirm", "/auth/email2/activate/confirm/", False, ("code",), ("code",)),
    Endpoint("deactivate", "/auth/email/deactivate/", False, ("code",), ("code",)),
    Endpoint("regenerate", "/auth/email/codes/regenerate/", False, ("code",), ("code",)),
    Endpoint("code-request", "/auth/code/request/", False, ("method",)),
    Endpoint(
        "change-primary",
        "/auth/mfa/change-primary-method/",
        False,
        ("method", "code"),
        ("method", "code"),
    ),
    *(
        endpoint
        for flavour in FLAVOURS
        for endpoint in (
            Endpoint(
                f"{flavour.name}-login",
                flavour.login,
                True,
                ("username", "password"),
                ("username", "password"),
            ),
            Endpoint(
                f"{flavour.name}-login-code",
                flavour.code,
                True,
                ("ephemeral_token", "code", "method"),
                ("ephemeral_token", "code"),
            ),
            Endpoint(
                f"{flavour.name}-login-code-request",
                flavour.resend,
                True,
                ("ephemeral_token", "method"),
                ("ephemeral_token",),
            ),
        )
    ),
)

#: Endpoints that take a code, and the (endpoint, field) pairs of every field.
CODE_ENDPOINTS = tuple(e for e in ENDPOINTS if "code" in e.fields)
FIELD_TARGETS = tuple((e, f) for e in ENDPOINTS for f in e.fields)


def target_id(target: tuple[Endpoint, str]) -> str:
    """A readable pytest id for an (endpoint, field) pair."""
    return f"{target[0].name}:{target[1]}"
