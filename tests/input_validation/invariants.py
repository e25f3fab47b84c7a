"""The invariants every bad input must keep, as assertions on a response."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tests.conftest import error_of

if TYPE_CHECKING:
    from tests.input_validation.conftest import Scene
    from tests.input_validation.endpoints import Endpoint

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


#: The one endpoint whose errors may repeat the input: django-trench's choice
#: field ``method`` of change-primary-method, and its bare-list answer to a
#: user without a primary method.
CHANGE_PRIMARY = "/auth/mfa/change-primary-method/"
#: How much of an unknown method name change-primary-method repeats.
ECHO_LIMIT = 100
_CHOICE = re.compile(r'"(.*)" is not a valid choice\.', re.DOTALL)


def choice_error(value: Any) -> str:
    """change-primary-method's message for a ``method`` that is not configured.

    django-trench's ``ChoiceField`` message; the input (as ``str()``), its
    lone surrogates written as backslash escapes (other characters, control
    characters included, are repeated as they are), cut to ``ECHO_LIMIT``.
    """
    shown = str(value).encode("utf-8", "backslashreplace").decode()[:ECHO_LIMIT]
    return f'"{shown}" is not a valid choice.'


def assert_malformed_code(endpoint: Endpoint, response: Any) -> None:
    """The answer to a malformed code on ``endpoint``.

    At login step 2 the answer to any wrong code (401 ``invalid_code``);
    elsewhere the ``code`` field's "Code invalid or expired." whose
    ``ErrorDetail`` code (``invalid_input``) tells it from a wrong code.
    """
    status, body = endpoint.malformed_code
    assert (response.status_code, response.json()) == (status, body), response.content
    if not endpoint.anonymous:
        assert error_of(response) == ("invalid_input", "Code invalid or expired."), response.data


def assert_generic(response: Any, sent: Any = None) -> None:
    """Invariants (a) and (c): no 5xx, a documented shape, nothing echoed or internal.

    The only echo allowed is django-trench's: change-primary-method's
    ``method`` error repeats the (escaped, cut) input, exactly as
    :func:`choice_error` writes it for the value that was ``sent``.
    """
    assert response.status_code < 500, response.content[:500]
    text = response.content.decode("utf-8", "replace")
    is_json = bool(text) and response.get("Content-Type", "").startswith("application/json")
    body = response.json() if is_json else None
    checked = text
    if isinstance(body, dict) and _is_change_primary(response) and "method" in body:
        choice = _checked_choice_echo(body["method"], sent)
        if choice:
            checked = json.dumps(
                {k: v for k, v in body.items() if k != "method"}, ensure_ascii=False
            )
    for fragment in _INTERNALS:
        assert fragment not in text, text[:500]
    for value in _strings_in(sent):
        if len(value) >= 8:
            assert value not in checked, f"input echoed: {text[:300]}"
    if not is_json:
        return
    if isinstance(body, dict) and "error_code" in body:
        assert body["error_code"] in ENVELOPE_CODES, body
        assert set(body) <= {"error", "error_code", "retry_after"}, body
    elif isinstance(body, dict) and set(body) == {"detail"}:
        assert isinstance(body["detail"], str), body
    elif isinstance(body, dict) and response.status_code == 400:
        for messages in body.values():
            assert isinstance(messages, list) and messages, body
            assert all(isinstance(m, str) for m in messages), body
    elif isinstance(body, list) and response.status_code >= 400:
        # Only change-primary-method's answer to a user without a primary method.
        assert response.status_code == 400 and _is_change_primary(response), body
        assert body == ["Requested MFA method does not exist."], body


def _is_change_primary(response: Any) -> bool:
    return bool(response.request.get("PATH_INFO") == CHANGE_PRIMARY)


def _checked_choice_echo(messages: Any, sent: Any) -> bool:
    """Whether ``messages`` is the choice error; if so, it echoes nothing but ``sent``."""
    if not (isinstance(messages, list) and len(messages) == 1 and isinstance(messages[0], str)):
        return False
    match = _CHOICE.fullmatch(messages[0])
    if match is None:
        return False
    assert len(match.group(1)) <= ECHO_LIMIT, messages
    if sent is not None:
        # ``sent``: the method value, or a whole body.
        value = sent["method"] if isinstance(sent, dict) and "method" in sent else sent
        assert messages[0] == choice_error(value), f"echoed: {messages[0]!r}"
    return True


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


def assert_malformed_code_rejected(
    scene: Scene, endpoint: Endpoint, response: Any, before: tuple[Any, ...], *, sent: Any = None
) -> None:
    """All four invariants, and the answer to a malformed code on ``endpoint``."""
    assert_rejected(scene, response, before, sent=sent, statuses=(endpoint.malformed_code[0],))
    assert_malformed_code(endpoint, response)


def assert_malformed_everywhere(scene: Scene, endpoint: Endpoint, codes: list[str]) -> None:
    """Each of ``codes`` on ``endpoint``: the malformed-code body, nothing changed."""
    before = scene.snapshot()
    for code in codes:
        response = scene.post(endpoint, scene.spoil(endpoint, "code", code))
        assert_malformed_code_rejected(scene, endpoint, response, before, sent=code)


def raw_json(body: dict[str, Any], replace: dict[str, str] | None = None) -> str:
    """``body`` as JSON text, with placeholders replaced by raw JSON fragments.

    Used for values Python cannot encode (a lone surrogate escape ``\\ud800``).
    """
    text = json.dumps(body)
    for placeholder, fragment in (replace or {}).items():
        text = text.replace(json.dumps(placeholder), fragment)
    return text
