"""Unicode in codes and in every other field.

``str.isdigit()``, ``int()`` and ``\\d`` accept many non-ASCII digits; codes
are checked against ``[0-9]`` (and printable ASCII before anything else), so
each of these is the endpoint's one malformed-code answer with nothing
changed. NUL and lone surrogates never reach that check: DRF's ``CharField``
(django-trench's) refuses them with its own field errors.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import FLAVOURS, assert_error
from tests.input_validation.conftest import Scene
from tests.input_validation.endpoints import (
    CODE_ENDPOINTS,
    ENDPOINTS,
    FIELD_TARGETS,
    Endpoint,
    target_id,
)
from tests.input_validation.invariants import (
    assert_malformed_everywhere,
    assert_rejected,
    raw_json,
)
from trench_mfa.state import backup_codes

pytestmark = pytest.mark.django_db

#: DRF's CharField message for a NUL, before any code check.
NUL_MESSAGE = "Null characters are not allowed."


def translate(code: str, zero: str) -> str:
    """``code`` written with the ten digits that start at ``zero``."""
    return "".join(chr(ord(zero) + int(c)) for c in code)


@pytest.mark.parametrize("endpoint", CODE_ENDPOINTS, ids=repr)
def test_fullwidth_digits_in_codes(scene: Scene, endpoint: Endpoint) -> None:
    valid = scene.valid_body(endpoint)["code"]
    fullwidth = translate(valid, "\uff10")
    assert fullwidth.isdigit() and int(fullwidth) == int(valid)  # the trap
    assert_malformed_everywhere(scene, endpoint, [fullwidth, valid[:5] + fullwidth[5]])


@pytest.mark.parametrize("endpoint", CODE_ENDPOINTS, ids=repr)
def test_arabic_indic_and_other_decimal_digits_in_codes(scene: Scene, endpoint: Endpoint) -> None:
    valid = scene.valid_body(endpoint)["code"]
    zeros = ["\u0660", "\u06f0", "\u0966", "\u0e50", "\u1040", "\U0001d7ce", "\U0001d7ec"]
    codes = [translate(valid, zero) for zero in zeros]
    assert all(int(c) == int(valid) for c in codes)
    assert_malformed_everywhere(scene, endpoint, codes)


@pytest.mark.parametrize("endpoint", CODE_ENDPOINTS, ids=repr)
def test_superscript_and_other_isdigit_characters_in_codes(
    scene: Scene, endpoint: Endpoint
) -> None:
    codes = [
        "\u00b9\u00b2\u00b3\u2074\u2075\u2076",  # superscripts: isdigit(), not int()
        "\u2460\u2461\u2462\u2463\u2464\u2465",  # circled digits
        "12345\u00b2",
        "\u2081\u2082\u2083\u2084\u2085\u2086",  # subscripts
    ]
    assert all(c.isdigit() for c in codes)
    assert_malformed_everywhere(scene, endpoint, codes)


@pytest.mark.parametrize("endpoint", CODE_ENDPOINTS, ids=repr)
def test_zero_width_space_and_rtl_override(scene: Scene, endpoint: Endpoint) -> None:
    valid = scene.valid_body(endpoint)["code"]
    codes = [
        f"{valid[:3]}\u200b{valid[3:]}",
        f"\u200b{valid}",
        f"{valid}\u200b",
        f"\u202e{valid[::-1]}",
        f"{valid[:3]}\u202e{valid[3:]}",
        f"\ufeff{valid}",  # byte order mark
        f"{valid[:3]}\u2060{valid[3:]}",  # word joiner
        f"{valid[:3]}\u00ad{valid[3:]}",  # soft hyphen
    ]
    assert_malformed_everywhere(scene, endpoint, codes)


@pytest.mark.parametrize("target", FIELD_TARGETS, ids=target_id)
def test_a_nul_character_in_any_field(scene: Scene, target: tuple[Endpoint, str]) -> None:
    endpoint, field_name = target
    before = scene.snapshot()
    valid = scene.value(endpoint, field_name)
    for value in (f"{valid}\x00", "\x00", f"\x00{valid}", f"{valid[:3]}\x00{valid[3:]}"):
        response = scene.post(endpoint, scene.spoil(endpoint, field_name, value))
        if field_name == "code":
            # DRF's CharField (django-trench's) refuses it before the service,
            # at login step 2 too: its field error, nothing counted.
            assert_rejected(scene, response, before)
            assert_error(response, 400, "null_characters_not_allowed", NUL_MESSAGE)
            continue
        expect_token = field_name == "ephemeral_token"
        assert_rejected(scene, response, before, statuses=(401,) if expect_token else (400,))


@pytest.mark.parametrize("target", FIELD_TARGETS, ids=target_id)
def test_a_lone_surrogate_in_any_field(scene: Scene, target: tuple[Endpoint, str]) -> None:
    # Sent as raw JSON: "\\ud800" is valid JSON but no valid UTF-8 string.
    endpoint, field_name = target
    before = scene.snapshot()
    for fragment, first in (
        ('"\\ud800"', "D800"),
        ('"123\\udfff456"', "DFFF"),
        ('"\\udc00\\ud800"', "DC00"),
    ):
        body = scene.spoil(endpoint, field_name, "SURROGATE")
        raw = raw_json(body, {"SURROGATE": fragment})
        response = scene.post_raw(endpoint, raw, "application/json")
        if field_name == "code":
            # DRF's CharField (django-trench's) names the first surrogate.
            assert_rejected(scene, response, before)
            message = f"Surrogate characters are not allowed: U+{first}."
            assert_error(response, 400, "surrogate_characters_not_allowed", message)
            continue
        expect_token = field_name == "ephemeral_token"
        assert_rejected(scene, response, before, statuses=(401,) if expect_token else (400,))


@pytest.mark.parametrize("endpoint", CODE_ENDPOINTS, ids=repr)
def test_emoji_and_combining_marks(scene: Scene, endpoint: Endpoint) -> None:
    valid = scene.valid_body(endpoint)["code"]
    codes = [
        "1\ufe0f\u20e32\ufe0f\u20e33\ufe0f\u20e34\ufe0f\u20e35\ufe0f\u20e36\ufe0f\u20e3",  # keycaps
        f"{valid}\U0001f600",
        "\U0001f600" * 6,
        "".join(f"{c}\u0301" for c in valid),  # each digit with a combining acute
        f"{valid}\u0338",  # combining long solidus overlay
        f"{valid[:5]}\U0001f3fb",  # skin tone modifier
    ]
    assert_malformed_everywhere(scene, endpoint, codes)


@pytest.mark.parametrize("endpoint", CODE_ENDPOINTS, ids=repr)
def test_non_ascii_never_reaches_compare_digest(scene: Scene, endpoint: Endpoint) -> None:
    # Backup-code shaped values whose case mapping yields ASCII (Kelvin sign
    # -> "k", long s -> "S", dotted I -> "i" + mark): refused as non-ASCII
    # before any normalisation, comparison or hashing could see them.
    backup = scene.backup_codes[0]
    codes = [
        backup[:-1] + "\u212a",  # KELVIN SIGN, .lower() == "k"
        backup[:-1] + "\u017f",  # LATIN SMALL LETTER LONG S, .upper() == "S"
        backup[:-1] + "\u0130",  # LATIN CAPITAL LETTER I WITH DOT ABOVE
        backup[:-1] + "\u00e9",
        "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in backup),  # full width
        backup.replace("a", "\u0430").replace("e", "\u0435") + "\u0430",  # Cyrillic a/e
    ]
    assert_malformed_everywhere(scene, endpoint, codes)


def test_homoglyphs_in_backup_codes_follow_the_normalisation_rule(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The backup-code normalisation rule: case-folded; O read as 0, I/L as 1; dashes and inner
    # spaces dropped. Codes with those digits are forced for the test.
    from trench_mfa.state import crypto

    forced = iter(["01abc01xyz10", "1100aabbccdd"])
    real = crypto.generate_string
    monkeypatch.setattr(crypto, "generate_string", lambda a, n: next(forced, None) or real(a, n))
    codes = backup_codes.replace_backup_codes(scene.user.pk)
    assert codes[:2] == ["01abc01xyz10", "1100aabbccdd"]
    endpoint = next(e for e in ENDPOINTS if e.name == "jwt-login-code")
    for typed in ("OIABC-0LXYZ-IO", "il00 AABB ccdd"):
        before = scene.snapshot()
        response = scene.post(endpoint, scene.spoil(endpoint, "code", typed))
        assert response.status_code == 200, (typed, response.content)
        assert scene.snapshot() != before
        scene.token = _new_token(scene)


def _new_token(scene: Scene) -> Any:
    from tests.conftest import credentials

    response = scene.anon.post(FLAVOURS[0].login, credentials(scene.user))
    assert response.status_code == 200, response.content
    return response.json()["ephemeral_token"]
