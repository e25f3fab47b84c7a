"""ASCII allow-lists of every field, unknown fields ignored, and never a 500.

That no input gives a 500 is also fuzzed over the whole OpenAPI schema in
``tests/api_contract/fuzzing``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FLAVOURS, credentials
from tests.input_validation.conftest import HashSpy, Scene, takeover_fields
from tests.input_validation.endpoints import ENDPOINTS, Endpoint
from tests.input_validation.invariants import (
    assert_generic,
    assert_malformed_code_rejected,
    assert_rejected,
)
from trench_mfa.backends.provider import get_mfa_handler
from trench_mfa.conf import mfa_settings
from trench_mfa.models import CodePurpose, LoginChallenge, MFAMethod
from trench_mfa.state import backup_codes, codes

pytestmark = pytest.mark.django_db

PACKAGE = Path(__file__).resolve().parents[2] / "trench_mfa"

#: Strings that int(), float(), str.isdigit() or \d would take for 123456.
NUMBER_LOOKALIKES = [
    "+123456",
    "-123456",
    "1_2_3_4_5_6",
    "123_456",
    " 123456\n",
    "0x1E240",
    "123456.0",
    "1.23456e5",
    "\uff11\uff12\uff13\uff14\uff15\uff16",
    "\u0661\u0662\u0663\u0664\u0665\u0666",
    "\u00b9\u00b2\u00b3\u2074\u2075\u2076",
    "12345\u0666",
    "123456\x00",
]


def _handlers(scene: Scene, trench_auth: Callable[..., Any]) -> list[Any]:
    trench_auth(
        methods={
            "yubi": {
                "HANDLER": "trench_mfa.backends.yubikey.YubiKeyMessageDispatcher",
                "YUBICLOUD_CLIENT_ID": "1",
                "YUBICLOUD_API_URLS": ["http://127.0.0.1:9/wsapi/2.0/verify"],
            }
        }
    )
    found = []
    for name in ("email", "sms", "app", "yubi"):
        method = MFAMethod(user=scene.user, name=name)
        found.append(get_mfa_handler(method, purpose=CodePurpose.LOGIN))
    return found


@pytest.mark.parametrize("length", [6, 8])
def test_codes_are_ascii_digits_of_the_configured_length(
    scene: Scene, trench_auth: Callable[..., Any], length: int
) -> None:
    trench_auth(CODE_LENGTH=length, methods={"app": {"DIGITS": length}})
    for handler in _handlers(scene, trench_auth)[:3]:
        assert handler.is_well_formed("1" * length), handler
        for bad in ["1" * (length - 1), "1" * (length + 1), *NUMBER_LOOKALIKES]:
            assert not handler.is_well_formed(bad), (handler, ascii(bad))
    # Through the API: a code of the other length is malformed, nothing burns.
    email = MFAMethod.objects.get(name="email")
    code = codes.issue_code(email, CodePurpose.ACTION, validity=300)
    assert len(code) == length
    regenerate = next(e for e in ENDPOINTS if e.name == "regenerate")
    before = scene.snapshot()
    other = "1" * (14 - length)
    response = scene.post(regenerate, {"code": other})
    assert_malformed_code_rejected(scene, regenerate, response, before)
    # A JSON number is read as its decimal string (django-trench's CharField):
    # a float never spells a code. Other non-string types are refused.
    response = scene.post(regenerate, {"code": float(code)})
    assert_malformed_code_rejected(scene, regenerate, response, before)
    for value in ([code], {"code": code}, True):
        response = scene.post(regenerate, {"code": value})
        assert_rejected(scene, response, before)
        assert response.json() == {"code": ["Not a valid string."]}
    assert scene.post(regenerate, {"code": code}).status_code == 200


def test_yubikey_otps_are_modhex_of_32_to_64_characters(
    scene: Scene, trench_auth: Callable[..., Any]
) -> None:
    yubi = _handlers(scene, trench_auth)[3]
    assert yubi.is_well_formed("c" * 32) and yubi.is_well_formed("C" * 44)
    assert yubi.is_well_formed("cbdefghijklnrtuv" * 4)
    # (Non-ASCII is refused by the service before this format check runs.)
    for bad in ["c" * 31, "c" * 65, "a" * 44, "0" * 44, "c" * 43 + "\u00e9", *NUMBER_LOOKALIKES]:
        assert not yubi.is_well_formed(bad), ascii(bad)


def test_backup_codes_use_their_own_alphabet_and_a_length_cap(
    scene: Scene, hash_spy: HashSpy
) -> None:
    alphabet = mfa_settings.BACKUP_CODES_CHARACTERS
    length = mfa_settings.BACKUP_CODES_LENGTH
    assert backup_codes.is_well_formed(alphabet[:length])
    for bad in [
        alphabet[: length - 1],
        alphabet[: length + 1],
        "%" * length,
        "u" * length,  # not in the default (Crockford-like) alphabet
        "k" * (length - 1) + "\u212a",
        *NUMBER_LOOKALIKES,
    ]:
        assert not backup_codes.is_well_formed(bad), ascii(bad)
    # Over MAX_INPUT_LENGTH: refused before normalising or hashing.
    hash_spy.inputs.clear()
    padded = "-" * backup_codes.MAX_INPUT_LENGTH + scene.backup_codes[0]
    assert not backup_codes.use_backup_code(scene.user.pk, padded)
    assert hash_spy.inputs == []


def test_method_names_are_exactly_the_configured_names() -> None:
    configured = list(mfa_settings.methods)
    assert configured
    for name in configured:
        assert mfa_settings.method(name) is not None
        for variant in (name.upper(), f"{name} ", f" {name}", f"{name}\x00", name[:-1]):
            assert mfa_settings.method(variant) is None, variant


def test_no_code_goes_through_int_isdigit_or_unicode_digit_classes() -> None:
    # A static guard for the rule above: the code paths use [0-9] and
    # re.ASCII; int() never sees user input named code/otp/raw.
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"\bint\((code|otp|raw|token)\b", code) or re.search(r"\\d", code):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
            if ".isdigit()" in code and ".isascii()" not in code:
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert offenders == []


def test_unknown_and_read_only_fields_are_ignored_at_login(scene: Scene, bob: Any) -> None:
    extras = takeover_fields(
        bob,
        is_superuser=True,
        is_staff=True,
        used_at=None,
        failed_attempts=-100,
        expires_at="2999-01-01T00:00:00Z",
        method_id=1,
    )
    body = {**credentials(scene.user), **extras}
    response = scene.anon.post(FLAVOURS[1].login, body, format="json")
    assert response.status_code == 200, response.content
    challenge = LoginChallenge.objects.order_by("-pk").first()
    assert challenge is not None
    assert (challenge.user_id, challenge.failed_attempts, challenge.used_at) == (
        scene.user.pk,
        0,
        None,
    )
    token = response.json()["ephemeral_token"]
    body = {"ephemeral_token": token, "code": scene.backup_codes[0], **extras}
    response = scene.anon.post(FLAVOURS[1].code, body, format="json")
    assert response.status_code == 200, response.content
    from rest_framework.authtoken.models import Token

    assert Token.objects.get(key=response.json()["auth_token"]).user_id == scene.user.pk
    scene.user.refresh_from_db()
    assert not scene.user.is_superuser and not scene.user.is_staff


GARBAGE_BODIES: list[tuple[str, bytes]] = [
    ("application/json", b"\x00\x01\x02\xff"),
    ("application/json", b'{"code": "' + b"\\u0000" * 1000 + b'"}'),
    ("application/json", b'{"code": 1e999999}'),
    (
        "application/json",
        b'{"code": -0, "method": 1e308, "ephemeral_token": 9' + b"9" * 5000 + b"}",
    ),
    ("application/json", b"[" * 5000 + b"]" * 5000),
    ("application/json", b'{"' + b"k" * 100_000 + b'": 1}'),
    ("application/json", b'{"code": {"code": {"code": "123456"}}}'),
    ("application/json; charset=utf-16", '{"code": "12345"}'.encode("utf-16")),
    ("application/json; charset=nonsense", b'{"code": "12345"}'),
    ("application/json; charset=utf-16", b'{"code": "123456"}'),
    ("application/x-www-form-urlencoded", b"code=%00%ff%fe&method=%ZZ&ephemeral_token=%"),
    ("application/x-www-form-urlencoded", b"code=1&code=2&code=3"),
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data\r\n\r\n\r\n--x--"),
    ("multipart/form-data", b"no boundary at all"),
    ("multipart/form-data; boundary=x", b"--x\r\n" * 1000),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
def test_garbage_bodies_never_give_a_500(scene: Scene, endpoint: Endpoint) -> None:
    before = scene.snapshot()
    for content_type, raw in GARBAGE_BODIES:
        response = scene.post_raw(endpoint, raw, content_type)
        assert_generic(response)
        assert 400 <= response.status_code < 500, (content_type, raw[:40], response.content)
    assert scene.snapshot() == before
