"""Injection-looking strings, odd method names, bad addresses and OTPs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_httpserver import HTTPServer
from rest_framework.test import APIClient

from tests.conftest import FLAVOURS, credentials, error_of, has_user_field, username_field
from tests.input_validation.conftest import Scene
from tests.input_validation.endpoints import CODE_ENDPOINTS, ENDPOINTS, Endpoint
from tests.input_validation.invariants import (
    assert_generic,
    assert_malformed_code_rejected,
    assert_malformed_everywhere,
    assert_rejected,
    choice_error,
)
from tests.support.methods import bound_method
from tests.support.yubikey import PATH, make_otp
from trench_mfa.models import LoginChallenge, MFAMethod

pytestmark = pytest.mark.django_db

SQL_LIKE = [
    "' OR '1'='1",
    "123456' --",
    "1; DROP TABLE x",
    '"; DELETE FROM trench_mfa_mfamethod; --',
    "1 UNION SELECT 1",
    "123456 OR 1=1",
]
ODD_NAMES = ["email%00", "EMAIL", "Email ", "email ", " email", "x" * 300, "foo", "émail"]
#: In a URL a tab must be percent-encoded (the test client drops a raw one).
PATH_NAMES = [*ODD_NAMES, "e%09mail", "email%0d%0a"]
BODY_NAMES = [*ODD_NAMES, "e\tmail", "email\r\n", "../admin", "x" * 100_000]
PATH_ACTIONS = ("activate/", "activate/confirm/", "deactivate/", "codes/regenerate/")
BODY_METHOD_ENDPOINTS = tuple(e for e in ENDPOINTS if "method" in e.fields)


@pytest.mark.parametrize("endpoint", CODE_ENDPOINTS, ids=repr)
def test_sql_looking_codes_are_plain_wrong_codes(scene: Scene, endpoint: Endpoint) -> None:
    assert_malformed_everywhere(scene, endpoint, SQL_LIKE)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
def test_sql_looking_strings_in_other_fields(scene: Scene, endpoint: Endpoint) -> None:
    before = scene.snapshot()
    failed = LoginChallenge.objects.get().failed_attempts
    for field_name in (f for f in endpoint.fields if f != "code"):
        for value in SQL_LIKE:
            response = scene.post(endpoint, scene.spoil(endpoint, field_name, value))
            assert_generic(response, value)
            assert response.status_code in (400, 401), response.content
            # An unknown method at login counts as a wrong answer (pinned in
            # test_lengths_and_formats.py).
            LoginChallenge.objects.update(failed_attempts=failed)
            assert scene.snapshot() == before


@pytest.mark.parametrize("endpoint", CODE_ENDPOINTS, ids=repr)
def test_like_and_glob_wildcards_in_backup_codes(scene: Scene, endpoint: Endpoint) -> None:
    backup = scene.backup_codes[0]
    before = scene.snapshot()
    for code in (
        "%" * len(backup),
        "_" * len(backup),
        "*" * len(backup),
        backup[:-1] + "%",
        backup[:-1] + "_",
        backup[:6] + "%",
        "[a-z]" * 2 + "??",
        "%",
    ):
        response = scene.post(endpoint, scene.spoil(endpoint, "code", code))
        assert_malformed_code_rejected(scene, endpoint, response, before, sent=code)


def test_backup_code_lookups_never_use_like(scene: Scene) -> None:
    endpoint = next(e for e in ENDPOINTS if e.name == "jwt-login-code")
    with CaptureQueriesContext(connection) as queries:
        response = scene.post(endpoint, scene.spoil(endpoint, "code", scene.backup_codes[0]))
    assert response.status_code == 200, response.content
    sql = " ".join(q["sql"].upper() for q in queries.captured_queries)
    assert "TRENCH_MFA_BACKUPCODE" in sql
    for operator in (" LIKE ", " ILIKE ", " GLOB ", " REGEXP ", "UPPER(", "LOWER("):
        assert operator not in sql


@pytest.mark.parametrize("action", PATH_ACTIONS)
def test_odd_method_names_in_the_path(scene: Scene, action: str) -> None:
    before = scene.snapshot()
    bodies = set()
    for name in PATH_NAMES:
        response = scene.client.post(f"/auth/{name}/{action}", {"code": scene.action_code})
        assert_rejected(scene, response, before)
        assert error_of(response)[0] == "mfa_method_does_not_exist"
        bodies.add(response.content)
    # With a code in the body, the protected actions report it as a field
    # error of that code (django-trench validated the method there).
    field = "code" if action != "activate/" else None
    assert bodies == {_method_does_not_exist(field)}
    # A name with a slash is no route at all: Django's 404, nothing changed.
    for name in ("../admin", "..%2Fadmin", "email/.."):
        response = scene.client.post(f"/auth/{name}/{action}", {"code": scene.action_code})
        assert_rejected(scene, response, before, statuses=(404,))


def _method_does_not_exist(field: str | None) -> bytes:
    """The body of ``mfa_method_does_not_exist``: a field error of ``field``, or the envelope."""
    message = "Requested MFA method does not exist."
    if field:
        return json.dumps({field: [message]}, separators=(",", ":")).encode()
    return json.dumps(
        {"error": message, "error_code": "mfa_method_does_not_exist"}, separators=(",", ":")
    ).encode()


@pytest.mark.parametrize("endpoint", BODY_METHOD_ENDPOINTS, ids=repr)
def test_odd_method_names_in_the_body(scene: Scene, endpoint: Endpoint) -> None:
    # Names are exact keys (no case folding). At login every unknown name
    # gets the endpoint's one answer; code/request/ and change-primary-method
    # answer with django-trench's field errors (see _unknown_method_answer).
    before = scene.snapshot()
    failed = LoginChallenge.objects.get().failed_attempts
    reference = None
    if endpoint.name == "code-request":
        # For alice's own method: the resend cooldown of her live code.
        reference = scene.post(endpoint, scene.spoil(endpoint, "method", "email"))
        assert reference.status_code == 429 and scene.snapshot() == before
    bodies = set()
    for name in BODY_NAMES:
        response = scene.post(endpoint, scene.spoil(endpoint, "method", name))
        assert_generic(response, name)
        if endpoint.anonymous:
            bodies.add((response.status_code, response.content))
        else:
            expected = _unknown_method_answer(endpoint, name, reference)
            assert (response.status_code, response.json()) == expected, ascii(name)
        if endpoint.name.endswith("login-code"):
            # Pinned: counted as one wrong answer of the challenge.
            assert LoginChallenge.objects.get().failed_attempts == failed + 1
            LoginChallenge.objects.update(failed_attempts=failed)
        assert scene.snapshot() == before
    if endpoint.anonymous:
        assert len(bodies) == 1, bodies
        status, _ = bodies.pop()
        assert status == 401


def _unknown_method_answer(endpoint: Endpoint, name: str, reference: Any) -> tuple[int, Any]:
    """The (status, body) of ``name`` as ``method`` of a management endpoint."""
    if endpoint.name == "change-primary":
        # django-trench's ChoiceField: the input repeated (escaped, cut), untrimmed.
        return 400, {"method": [choice_error(name)]}
    # code/request/: django-trench's CharField(max_length=255), which trims.
    if name.strip() == "email":
        assert reference is not None
        return reference.status_code, reference.json()
    if len(name) > 255:
        return 400, {"method": ["Ensure this field has no more than 255 characters."]}
    return 400, {"method": ["Requested MFA method does not exist."]}


@pytest.fixture
def fresh_client(
    user_factory: Callable[..., Any], client_for: Callable[[Any], APIClient]
) -> Callable[..., tuple[Any, APIClient]]:
    """A new user with the given fields, and their client."""

    def make(**fields: Any) -> tuple[Any, APIClient]:
        user = user_factory(**fields)
        return user, client_for(user)

    return make


@pytest.mark.parametrize(
    "address",
    [
        "a@b.com\r\nBcc: x@y.com",
        "a@b.com\nBcc: x@y.com",
        "a@b.com\rBcc: x@y.com",
        "a@b.com\r\n",
        "a@b.com, x@y.com",
        "a@b.com\x0bBcc: x@y.com",
        "Alice <a@b.com>\r\nBcc: x@y.com",
    ],
)
def test_an_email_address_with_crlf_header_injection(
    scene: Scene, fresh_client: Callable[..., tuple[Any, APIClient]], address: str
) -> None:
    user, client = fresh_client(username="mallory", email="mallory@example.com")
    user.email = address
    user.save(update_fields=["email"])
    before = scene.snapshot()
    response = client.post("/auth/email/activate/")
    assert_rejected(scene, response, before)
    assert response.json()["error_code"] == "invalid_input"
    assert not MFAMethod.objects.filter(user=user).exists()
    # The same address on an active method: no code request or login sends.
    bound_method(user, "email", is_primary=True)
    before = scene.snapshot()
    response = client.post("/auth/code/request/", {"method": "email"})
    assert_rejected(scene, response, before)
    response = APIClient().post(FLAVOURS[0].login, credentials(user))
    assert_rejected(scene, response, before)
    expected = "invalid_input"
    if username_field() == "email" and address != address.strip():
        # The address is the login value here, and login trims it: no such user.
        expected = "unauthenticated"
    assert response.json()["error_code"] == expected
    assert len(mail.outbox) == 0 and "Bcc" not in str(mail.outbox)


@pytest.mark.parametrize(
    "number",
    [
        "+1 555",
        "abc",
        "+12345678901234567",  # 17 digits: longer than E.164 allows
        "+4860010020012345",  # 16 digits
        "+0123456789",
        "+00486001002",
        "48600100200",  # no "+" (no DEFAULT_REGION is set)
        "600100200",
        "+48600100200\r\nX-Injected: 1",
        "+",
    ],
)
def test_invalid_phone_numbers_send_nothing(
    scene: Scene, fresh_client: Callable[..., tuple[Any, APIClient]], number: str
) -> None:
    if not has_user_field("phone_number"):
        pytest.skip("the user model has no phone_number")
    user, client = fresh_client(username="mallory", phone_number=number)
    before = scene.snapshot()
    response = client.post("/auth/sms/activate/")
    assert_rejected(scene, response, before)
    assert response.json()["error_code"] == "invalid_input"
    # A number changed after activation: still no send.
    bound_method(user, "sms", is_primary=True)
    before = scene.snapshot()
    assert_rejected(scene, client.post("/auth/code/request/", {"method": "sms"}), before)
    assert_rejected(scene, client.post("/auth/code/request/"), before)
    assert scene.sms.sent == []


@pytest.fixture
def yubi(
    scene: Scene, httpserver: HTTPServer, trench_auth: Callable[..., Any]
) -> Callable[[], int]:
    """Configure ``yubi`` against a loopback server; return a request counter."""
    from tests.support.yubikey import FakeValidationServer, yubi_method

    server = FakeValidationServer()
    httpserver.expect_request(PATH).respond_with_handler(server.handle)
    trench_auth(methods={"yubi": yubi_method(httpserver.url_for(PATH))})
    return lambda: len(httpserver.log)


def _bad_otps(public_id: str) -> list[str]:
    good = make_otp(public_id)
    return [
        good[:-1] + "a",  # "a" is not modhex
        good[:-1] + "A",
        good.upper()[:-1] + "Z",
        "0123456789" * 4 + "0123",  # hex digits, 44 characters
        good[:31],  # too short (31)
        (good * 2)[:65],  # too long (65)
        good[:44] + "x",  # 45 characters, one of them bad
        good[:20] + "\u212a" + good[21:],  # KELVIN SIGN lower-cases to "k"
        good[:20] + " " + good[21:],
    ]


def test_yubikey_otp_format_is_checked_before_any_http_call(
    scene: Scene, yubi: Callable[[], int]
) -> None:
    public_id = "ccccccbcgujh"
    client = scene.client
    # Alice has MFA: her action code confirms adding the key.
    assert client.post("/auth/yubi/activate/", {"code": scene.action_code}).status_code == 200
    confirm = Endpoint("yubi-confirm", "/auth/yubi/activate/confirm/", False, ("code",))
    before = scene.snapshot()
    for otp in _bad_otps(public_id):
        response = scene.post(confirm, {"code": otp})
        assert_malformed_code_rejected(scene, confirm, response, before, sent=otp)
    assert yubi() == 0
    response = scene.post(confirm, {"code": make_otp(public_id)})
    assert response.status_code == 200, response.content
    assert yubi() == 1
    # Login step 2 naming the key, and a protected action of the key.
    endpoints = [e for e in CODE_ENDPOINTS if e.name == "jwt-login-code"]
    deactivate = Endpoint("yubi-deactivate", "/auth/yubi/deactivate/", False, ("code",))
    before = scene.snapshot()
    for otp in _bad_otps(public_id):
        body = {**scene.valid_body(endpoints[0]), "code": otp, "method": "yubi"}
        response = scene.post(endpoints[0], body)
        assert_malformed_code_rejected(scene, endpoints[0], response, before, sent=otp)
        response = scene.post(deactivate, {"code": otp})
        assert_malformed_code_rejected(scene, deactivate, response, before, sent=otp)
    assert yubi() == 1
