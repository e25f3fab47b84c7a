"""Length and format of codes (and of every other field).

Pinned rule for codes (``trench_mfa.api.fields.CodeField`` reads them, the
service judges their format before any work): outer ASCII
spaces, tabs and line breaks are trimmed, as DRF trims by default; nothing
else is (no Unicode spaces, no ``\\x1c``..``\\x1f``); the rest must be
printable ASCII of at most 128 characters and have the method's format, else
the endpoint's one malformed-code answer (``Endpoint.malformed_code``: 400
on the management endpoints, the 401 of a wrong code at login step 2), and
nothing counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import assert_error, error_of
from tests.input_validation.conftest import HashSpy, Scene
from tests.input_validation.endpoints import (
    CODE_ENDPOINTS,
    ENDPOINTS,
    FIELD_TARGETS,
    Endpoint,
    target_id,
)
from tests.input_validation.invariants import (
    assert_generic,
    assert_malformed_code,
    assert_malformed_code_rejected,
    assert_rejected,
    choice_error,
)
from trench_mfa.models import LoginChallenge

pytestmark = pytest.mark.django_db

#: What activation's optional code gets when empty.
CODE_MISSING = {"error": "OTP code not provided.", "error_code": "otp_code_missing"}


def assert_refused_as_malformed(scene: Scene, endpoint: Endpoint, code: Any) -> None:
    """``code`` on ``endpoint``: the malformed-code body and no change."""
    before = scene.snapshot()
    response = scene.post(endpoint, scene.spoil(endpoint, "code", code))
    assert_malformed_code_rejected(scene, endpoint, response, before, sent=code)


@pytest.mark.parametrize("endpoint", CODE_ENDPOINTS, ids=repr)
def test_codes_of_five_and_seven_digits(scene: Scene, endpoint: Endpoint) -> None:
    valid = scene.valid_body(endpoint)["code"]
    for code in (valid[:5], valid + "0", "12345", "1234567", "1", "1" * 9):
        assert_refused_as_malformed(scene, endpoint, code)


@pytest.mark.parametrize("target", FIELD_TARGETS, ids=target_id)
def test_values_of_ten_thousand_characters_and_one_megabyte(
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
        elif field_name == "method" and endpoint.name == "code-request":
            # A plain CharField(max_length=255), as django-trench's.
            assert response.status_code == 400
            assert response.json() == {
                "method": ["Ensure this field has no more than 255 characters."]
            }
        elif field_name == "method" and endpoint.name == "change-primary":
            # django-trench's choice field: the input repeated, cut (see invariants).
            assert response.status_code == 400
            assert response.json() == {"method": [choice_error(value)]}
        elif field_name == "method":
            # Resending for an unknown method: the same 401, nothing counted.
            assert_error(response, 401, "invalid_code")
        elif field_name == "code":
            assert_malformed_code(endpoint, response)
        else:
            assert response.status_code == 400
        assert scene.snapshot() == before


@pytest.mark.parametrize("endpoint", CODE_ENDPOINTS, ids=repr)
def test_outer_ascii_whitespace_is_trimmed(
    scene: Scene, endpoint: Endpoint, trench_auth: Callable[..., Any]
) -> None:
    # Activating the pending email2 again sends a new code: no cooldown here.
    trench_auth(RESEND_COOLDOWN=0)
    body = scene.valid_body(endpoint)
    body["code"] = f" \t{body['code']}\r\n"
    response = scene.post(endpoint, body)
    assert response.status_code in (200, 204), response.content


@pytest.mark.parametrize("endpoint", CODE_ENDPOINTS, ids=repr)
def test_codes_with_inner_spaces_dashes_and_other_whitespace(
    scene: Scene, endpoint: Endpoint
) -> None:
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
        assert_refused_as_malformed(scene, endpoint, code)


@pytest.mark.parametrize("endpoint", CODE_ENDPOINTS, ids=repr)
def test_codes_with_signs_underscores_and_hex(scene: Scene, endpoint: Endpoint) -> None:
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
        assert_refused_as_malformed(scene, endpoint, code)


@pytest.mark.parametrize("target", FIELD_TARGETS, ids=target_id)
def test_an_empty_string_in_any_field(scene: Scene, target: tuple[Endpoint, str]) -> None:
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
        if field_name == "code" and endpoint.name == "activate":
            assert body == CODE_MISSING  # an optional code: "not provided"
        elif field_name == "code":
            # DRF's CharField, as django-trench's: blank is its own field error.
            assert body == {"code": ["This field may not be blank."]}
            assert error_of(response)[0] == "blank"
        else:
            assert len(body) == 1 and isinstance(next(iter(body.values())), list), body


def test_every_endpoint_is_covered() -> None:
    names = {e.name for e in ENDPOINTS}
    assert {"confirm", "deactivate", "regenerate", "code-request", "change-primary"} <= names
    assert sum("login" in n for n in names) == 6
