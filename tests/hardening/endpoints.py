"""The POST endpoints of section 3 and the fields each one reads."""

from __future__ import annotations

from dataclasses import dataclass

from tests.conftest import FLAVOURS

#: The one body of a malformed code, on every endpoint that takes a code.
MALFORMED_CODE = {"code": ["Code has an invalid format."]}


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


ENDPOINTS: tuple[Endpoint, ...] = (
    # Alice has MFA: adding a method needs a code of her primary (item 71).
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
