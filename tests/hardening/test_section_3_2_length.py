"""Checklist 3.2: length and format of codes (and of every other field).

Pinned rule for codes (``trench_mfa.api.fields.CodeField``): outer ASCII
spaces, tabs and line breaks are trimmed, as DRF trims by default; nothing
else is (no Unicode spaces, no ``\\x1c``..``\\x1f``); the rest must be
printable ASCII and have the method's format, else ``400`` with one body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.hardening.conftest import HashSpy, Scene
from tests.hardening.endpoints import (
    CODE_ENDPOINTS,
    ENDPOINTS,
    FIELD_TARGETS,
    MALFORMED_CODE,
    Endpoint,
    target_id,
)
from tests.hardening.invariants import assert_generic, assert_rejected
from trench_mfa.models import LoginChallenge

pytestmark = pytest.mark.django_db

#: What an optional code (deactivate, regenerate, change-primary) gets when empty.
CODE_MISSING = {"error": "OTP code not provided.", "error_code": "otp_code_missing"}


def assert_malformed_code(scene: Scene, endpoint: Endpoint, code: Any) -> None:
    """``code`` on ``endpoint``: the malformed-code body and no change."""
    before = scene.snapshot()
    response = scene.post(endpoint, scene.spoil(endpoint, "code", code))
    assert_rejected(scene, response, before, sent=code)
    assert response.json() == MALFORMED_CODE, (code, response.json())


@pytest.mark.parametrize("endpoint", CODE_ENDPOINTS, ids=repr)
def test_3_2_five_and_seven_digits(scene: Scene, endpoint: Endpoint) -> None:
    valid = scene.valid_body(endpoint)["code"]
    for code in (valid[:5], valid + "0", "12345", "1234567", "1", "1" * 9):
        assert_malformed_code(scene, endpoint, code)


@pytest.mark.parametrize("target", FIELD_TARGETS, ids=target_id)
def test_3_2_ten_thousand_characters_and_one_megabyte(
    scene: Scene, target: tuple[Endpoint, str], hash_spy: HashSpy
) -> None:
    endpoint, field_name = target
    for value in ("7" * 10_000, "a" * 1_000_000):
        before = scene.snapshot()
        failed_before = LoginChallenge.objects.get().failed_attempts
        response = scene.post(endpoint, scene.spoil(endpoint, field_name, value))
        assert_generic(response, value)
        # Refused before any hashing: no keyed hash or password hasher ever
        # saw the value (that is what keeps the answer fast).
        assert hash_spy.longest() < 10_000
        if field_name == "ephemeral_token":
            # A token is judged by its length first: the uniform 401.
            assert response.status_code == 401
            assert response.json()["error_code"] == "invalid_token"
        elif field_name == "method" and endpoint.anonymous and "request" not in endpoint.name:
            # Pinned: at login an unknown method is answered like a wrong
            # code, and counts as one wrong answer of the challenge.
            assert response.status_code == 401
            assert response.json()["error_code"] == "invalid_code"
            LoginChallenge.objects.update(failed_attempts=failed_before)
        elif field_name == "method":
            assert response.status_code in (400, 401)
            assert response.json()["error_code"] in ("mfa_method_does_not_exist", "invalid_code")
        else:
            assert response.status_code == 400
        assert scene.snapshot() == before


@pytest.mark.parametrize("endpoint", CODE_ENDPOINTS, ids=repr)
def test_3_2_outer_ascii_whitespace_is_trimmed(
    scene: Scene, endpoint: Endpoint, trench_auth: Callable[..., Any]
) -> None:
    # Activating the pending email2 again sends a new code: no cooldown here.
    trench_auth(RESEND_COOLDOWN=0)
    body = scene.valid_body(endpoint)
    body["code"] = f" \t{body['code']}\r\n"
    response = scene.post(endpoint, body)
    assert response.status_code in (200, 204), response.content


@pytest.mark.parametrize("endpoint", CODE_ENDPOINTS, ids=repr)
def test_3_2_inner_spaces_dashes_and_other_whitespace(scene: Scene, endpoint: Endpoint) -> None:
    valid = scene.valid_body(endpoint)["code"]
    for code in (
        f"{valid[:3]} {valid[3:]}",
        f"{valid[:3]}-{valid[3:]}",
        f"{valid[:3]}\t{valid[3:]}",
        f"\u00a0{valid}",  # no-break space: str.strip() would drop it
        f"{valid}\u3000",  # ideographic space
        f"\x1c{valid}",  # ASCII file separator: str.strip() would drop it
        f"{valid}\x0b",
        f"{valid}\x0c",
        f"\u2028{valid}",
    ):
        assert_malformed_code(scene, endpoint, code)


@pytest.mark.parametrize("endpoint", CODE_ENDPOINTS, ids=repr)
def test_3_2_signs_underscores_and_hex(scene: Scene, endpoint: Endpoint) -> None:
    # Each of these is a number to int() (or float()); none is a code.
    valid = scene.valid_body(endpoint)["code"]
    for code in (
        f"+{valid[1:]}",
        f"+{valid}",
        f"-{valid[1:]}",
        "_".join(valid),
        "0x1E240",
        "0o361100",
        "1e5",
        f"{valid[:5]}.",
        f"{valid}.0",
    ):
        assert_malformed_code(scene, endpoint, code)


@pytest.mark.parametrize("target", FIELD_TARGETS, ids=target_id)
def test_3_2_empty_string(scene: Scene, target: tuple[Endpoint, str]) -> None:
    endpoint, field_name = target
    before = scene.snapshot()
    # A code is trimmed first, so blank codes are empty codes too.
    for value in ("", "   ", "\r\n") if field_name == "code" else ("",):
        response = scene.post(endpoint, scene.spoil(endpoint, field_name, value))
        if field_name == "ephemeral_token":
            assert_rejected(scene, response, before, statuses=(401,))
            assert response.json()["error_code"] == "invalid_token"
            continue
        assert_rejected(scene, response, before)
        body = response.json()
        optional = ("activate", "deactivate", "regenerate", "change-primary")
        if field_name == "code" and endpoint.name in optional:
            assert body == CODE_MISSING  # an optional code: "not provided"
        elif field_name == "code":
            assert body == MALFORMED_CODE
        else:
            assert len(body) == 1 and isinstance(next(iter(body.values())), list), body


def test_3_2_every_endpoint_is_covered() -> None:
    names = {e.name for e in ENDPOINTS}
    assert {"confirm", "deactivate", "regenerate", "code-request", "change-primary"} <= names
    assert sum("login" in n for n in names) == 6
