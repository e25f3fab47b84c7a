"""The invariants of checklist section 3, as assertions on a response."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.hardening.conftest import Scene

#: Fragments of internal errors that must never reach a client.
_INTERNALS = (
    "Traceback",
    "Error:",
    "RecursionError",
    "TypeError",
    "ValueError",
    "IntegrityError",
    "DataError",
    "OperationalError",
    "UnicodeEncodeError",
    "site-packages",
)
#: The documented error codes of the MFA envelope.
ENVELOPE_CODES = {
    "code_invalid_or_expired",
    "otp_code_missing",
    "mfa_method_does_not_exist",
    "new_primary_method_inactive",
    "method_already_active",
    "deactivation_of_primary",
    "not_enabled",
    "invalid_token",
    "invalid_code",
    "unauthenticated",
    "invalid_input",
    "throttled",
    "locked",
}


def assert_generic(response: Any, sent: Any = None) -> None:
    """Invariants (a) and (c): no 5xx, a documented shape, nothing echoed or internal."""
    assert response.status_code < 500, response.content[:500]
    text = response.content.decode("utf-8", "replace")
    for fragment in _INTERNALS:
        assert fragment not in text, text[:500]
    for value in _strings_in(sent):
        if len(value) >= 8:
            assert value not in text, f"input echoed: {text[:300]}"
    if not text or not response.get("Content-Type", "").startswith("application/json"):
        return
    body = response.json()
    if isinstance(body, dict) and "error_code" in body:
        assert body["error_code"] in ENVELOPE_CODES, body
        assert set(body) <= {"error", "error_code", "retry_after"}, body
    elif isinstance(body, dict) and set(body) == {"detail"}:
        assert isinstance(body["detail"], str), body
    elif isinstance(body, dict) and response.status_code == 400:
        for messages in body.values():
            assert isinstance(messages, list), body
            assert all(isinstance(m, str) for m in messages), body


def _strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings_in(item)


def assert_rejected(
    scene: Scene,
    response: Any,
    before: tuple[Any, ...],
    *,
    sent: Any = None,
    statuses: tuple[int, ...] = (400,),
) -> None:
    """All four invariants, and one of the expected statuses."""
    assert_generic(response, sent)
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert scene.snapshot() == before


def raw_json(body: dict[str, Any], replace: dict[str, str] | None = None) -> str:
    """``body`` as JSON text, with placeholders replaced by raw JSON fragments.

    Used for values Python cannot encode (a lone surrogate escape ``\\ud800``).
    """
    text = json.dumps(body)
    for placeholder, fragment in (replace or {}).items():
        text = text.replace(json.dumps(placeholder), fragment)
    return text
