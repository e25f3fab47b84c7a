"""Bad input anywhere is a clear 400 (or 401 for a bad token) and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import (
    FLAVOURS,
    Flavour,
    assert_error,
    last_code,
    login_body,
    start_login,
    username_field,
)
from trench_mfa.models import BackupCode, LoginChallenge, MFAMethod, OneTimeCode

pytestmark = pytest.mark.django_db

NOT_STRINGS = [123456, 4271, 0, 1.5, True, False, None, [], ["123456"], {}, {"code": "123456"}]
#: A code may be a JSON number, as in django-trench (DRF's CharField reads it
#: as its digits); these values are neither a string nor a number.
NOT_CODES = [True, False, None, [], ["123456"], {}, {"code": "123456"}]
NON_ASCII_CODES = [
    "\uff11\uff12\uff13\uff14\uff15\uff16",  # full-width digits
    "\u0661\u0662\u0663\u0664\u0665\u0666",  # Arabic-Indic digits
    "\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6",  # Persian digits
    "\U0001d7cf\U0001d7d0\U0001d7d1\U0001d7d2\U0001d7d3\U0001d7d4",  # mathematical bold digits
    "12345\uff16",
    "123456\u200b",  # zero-width space
    "abcd\u00e9fghjkmn",  # backup-code length, one accented letter
]


def state() -> tuple[Any, ...]:
    """Everything a request could change."""
    return (
        list(MFAMethod.objects.order_by("pk").values_list("name", "is_active", "is_primary")),
        list(BackupCode.objects.order_by("pk").values_list("code_hash", "used_at")),
        list(
            OneTimeCode.objects.order_by("pk").values_list("code_hash", "consumed_at", "attempts")
        ),
        list(LoginChallenge.objects.order_by("pk").values_list("failed_attempts", "used_at")),
        len(mail.outbox),
    )


@pytest.fixture
def scene(
    email_mfa_user: tuple[Any, list[str]], api_client: APIClient, anon_client: APIClient, user: Any
) -> dict[str, str]:
    """A pending second login and a requested action code; the valid values to mix in."""
    token = start_login(anon_client, FLAVOURS[0], user)["ephemeral_token"]
    return {"token": token, "code": last_code(), "login": user.get_username()}


#: One of what ``targets`` gives: an endpoint's client, path and valid body.
Target = tuple[APIClient, str, dict[str, Any]]


@pytest.fixture
def targets(scene: dict[str, str], api_client: APIClient, anon_client: APIClient) -> list[Target]:
    """Each endpoint with its client and a valid body (the tests spoil its fields).

    Login endpoints are posted anonymously, management endpoints as the user.
    """
    base = [
        ("/auth/email/activate/confirm/", {"code": scene["code"]}),
        ("/auth/email/deactivate/", {"code": scene["code"]}),
        ("/auth/email/codes/regenerate/", {"code": scene["code"]}),
        ("/auth/code/request/", {"method": "email"}),
        ("/auth/mfa/change-primary-method/", {"method": "email", "code": scene["code"]}),
    ]
    for flavour in FLAVOURS:
        base += [
            (flavour.login, login_body(scene["login"])),
            (
                flavour.code,
                {"ephemeral_token": scene["token"], "code": scene["code"], "method": "email"},
            ),
            (flavour.resend, {"ephemeral_token": scene["token"], "method": "email"}),
        ]
    return [(anon_client if "/login/" in path else api_client, path, body) for path, body in base]


@pytest.mark.parametrize("value", NOT_STRINGS, ids=repr)
def test_non_string_values_are_400_and_change_nothing(targets: list[Target], value: Any) -> None:
    before = state()
    for client, path, body in targets:
        for field in body:
            if field == "code" and not any(value is other for other in NOT_CODES):
                continue  # a number is a code's digits (test_a_code_may_be_a_json_number)
            response = client.post(path, {**body, field: value})
            assert response.status_code == 400, (path, field, response.content)
            assert field in response.json(), (path, field, response.json())
    assert state() == before


@pytest.mark.parametrize("code", NON_ASCII_CODES)
def test_non_ascii_codes_are_refused_and_count_nothing(targets: list[Target], code: str) -> None:
    """A wrong code as django-trench answers it: 401 at login, the code field's 400 elsewhere."""
    before = state()
    for client, path, body in targets:
        if "code" not in body:
            continue
        response = client.post(path, {**body, "code": code})
        if "/login/" in path:
            assert_error(response, 401, "invalid_code")
        else:
            # A field error of the code (the confirmation endpoint reports
            # that the method is already active first, as django-trench does).
            assert response.status_code == 400, (path, response.content)
            assert list(response.json()) == ["code"], (path, response.content)
    assert state() == before


def test_a_code_may_be_a_json_number(
    email_mfa_user: tuple[Any, list[str]],
    anon_client: APIClient,
    user: Any,
    time_machine: Any,
) -> None:
    """django-trench's CharField reads ``123456`` as ``"123456"``; so does trench_mfa."""
    flavour = FLAVOURS[0]
    time_machine.move_to(timezone.now(), tick=False)
    token = start_login(anon_client, flavour, user)["ephemeral_token"]
    for _ in range(40):  # a code with a leading zero has no JSON number of six digits
        if not last_code().startswith("0"):
            break
        # Past the resend cooldown, a re-send draws a new code for the same token.
        time_machine.shift(timedelta(seconds=61))
        assert anon_client.post(flavour.resend, {"ephemeral_token": token}).status_code == 200
    response = anon_client.post(flavour.code, {"ephemeral_token": token, "code": int(last_code())})
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("code", ["123\x00456", "1" * 129])
def test_nul_and_overlong_codes_are_400(
    scene: dict[str, str], api_client: APIClient, code: str
) -> None:
    before = state()
    response = api_client.post("/auth/email/deactivate/", {"code": code})
    assert response.status_code == 400 and "code" in response.json()
    assert state() == before


@pytest.mark.parametrize("body", ['["123456"]', '"123456"', "123456", "null", "{", "[{}]"])
def test_body_that_is_not_an_object(targets: list[Target], body: str) -> None:
    before = state()
    for client, path, _ in targets:
        response = client.generic("POST", path, body, content_type="application/json")
        assert response.status_code == 400, (path, response.content)
    assert state() == before


@pytest.mark.parametrize("name", ["nope", "EMAIL", "émail", "email ", "x" * 300, "email%00"])
def test_odd_method_names_in_the_path(api_client: APIClient, user: Any, name: str) -> None:
    for action in ("activate/", "activate/confirm/", "deactivate/", "codes/regenerate/"):
        response = api_client.post(f"/auth/{name}/{action}", {"code": "123456"})
        assert_error(response, 400, "mfa_method_does_not_exist")
    assert not MFAMethod.objects.exists()


@pytest.mark.parametrize(
    "odd",
    [str.upper, "{}\x00".format, lambda _: "a" * 256, lambda s: "å" + s[1:]],
    ids=["upper", "nul", "overlong", "accented"],
)
def test_odd_usernames(user: Any, anon_client: APIClient, odd: Callable[[str], str]) -> None:
    flavour: Flavour = FLAVOURS[0]
    response = anon_client.post(flavour.login, login_body(odd(user.get_username())))
    assert response.status_code == 400
    body = response.json()
    assert body.get("error_code") == "unauthenticated" or username_field() in body


def test_query_string_code_is_ignored(
    scene: dict[str, str], api_client: APIClient, anon_client: APIClient
) -> None:
    response = anon_client.post(
        f"{FLAVOURS[0].code}?code={scene['code']}", {"ephemeral_token": scene["token"]}
    )
    assert response.status_code == 400 and "code" in response.json()


def test_every_mfa_response_forbids_caching(
    scene: dict[str, str], api_client: APIClient, anon_client: APIClient
) -> None:
    # Secrets travel in activation, confirmation, regeneration and login answers;
    # the package marks all of its answers, errors included.
    responses: list[Callable[[], Any]] = [
        lambda: api_client.post("/auth/email/activate/"),
        lambda: api_client.post("/auth/email/codes/regenerate/", {"code": "000000"}),
        lambda: anon_client.post(FLAVOURS[1].login, login_body(scene["login"])),
        lambda: anon_client.post(
            FLAVOURS[0].code, {"ephemeral_token": scene["token"], "code": scene["code"]}
        ),
        lambda: api_client.get("/auth/mfa/user-active-methods/"),
        lambda: anon_client.get("/auth/mfa/config/"),
    ]
    for make in responses:
        response = make()
        assert "no-store" in response.headers.get("Cache-Control", ""), response.content
