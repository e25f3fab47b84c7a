"""Login flows and identifier verification under attack.

Field injection, identifiers of two flows in one body, case variants,
codes of one field used for another, a value copied from another user,
unconfirmed values, lockout per factor, the per-identifier throttle, and odd
input types (never a 500).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import (
    PASSWORD,
    Flavour,
    assert_error,
    last_code,
    username_field,
)
from tests.support import sms_outbox as outbox
from tests.support.app import activate_and_confirm_app
from tests.support.flows import PHONE, default_flows, sms_code
from trench_mfa.models import LoginChallenge, MFAEvent
from trench_mfa.services import hardcode, identifiers

ALICE = "alice@example.com"
CHALLENGE_KEYS = {"ephemeral_token", "method", "other_methods", "factors_remaining"}


@pytest.fixture(autouse=True)
def _flows(flows_config: Callable[..., Any]) -> None:
    flows_config(flows=default_flows())


def login(flavour: Flavour, body: Any, **extra: Any) -> Any:
    """Login step 1 with a fresh anonymous client."""
    return APIClient().post(flavour.login, body, format="json", **extra)


def post_json(client: APIClient, url: str, body: Any) -> Any:
    """POST ``body`` as JSON text: lone surrogates travel as ``\\ud800`` escapes."""
    return client.post(url, json.dumps(body), content_type="application/json")


def nothing_happened() -> None:
    """No challenge row, no email, no SMS."""
    assert not LoginChallenge.objects.exists()
    assert mail.outbox == [] and outbox.sent == []


# --- field injection ------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"is_superuser": True, "password": PASSWORD},
        {"is_staff": "true", "password": PASSWORD},
        {"id": 1, "password": PASSWORD},
        {"pk": "1", "password": PASSWORD},
        {"email__iexact": ALICE, "password": PASSWORD},
        {"email__startswith": "a"},
        {"last_login": None, "password": PASSWORD},
        {"passcode": "123456"},
        {"password": PASSWORD},
    ],
)
def test_fields_no_flow_names_are_ignored_and_nothing_starts(
    flavour: Flavour, verified_user: Any, body: dict[str, Any]
) -> None:
    response = login(flavour, body)
    assert response.status_code == 400, response.content
    # The answer names the fields the first flow misses, never a token.
    assert username_field() in response.json()
    nothing_happened()


def strict_flows() -> list[tuple[str, ...]]:
    """Password and hardcode flows only: no passwordless flow catches a failed body."""
    return [(username_field(), "password"), ("phone_number", "hardcode", "passcode")]


def test_a_password_hash_is_no_password(
    flavour: Flavour, flows_config: Callable[..., Any], verified_user: Any
) -> None:
    flows_config(flows=strict_flows())
    stored = get_user_model().objects.get(pk=verified_user.pk).password
    body = {username_field(): verified_user.get_username(), "password": stored}
    assert_error(login(flavour, body), 400, "unauthenticated")
    hardcode.store_hardcode(verified_user, "2468")
    stored_pin = hardcode.Hardcode.objects.get(user_id=verified_user.pk).code_hash
    body = {"phone_number": PHONE, "hardcode": stored_pin[:128]}
    assert_error(login(flavour, body), 400, "unauthenticated")
    nothing_happened()


# --- identifiers and secrets of two flows in one body ----------------------------


def test_the_first_fitting_flow_wins_when_two_fit(flavour: Flavour, verified_user: Any) -> None:
    hardcode.store_hardcode(verified_user, "2468")
    body = {
        username_field(): verified_user.get_username(),
        "password": PASSWORD,
        "phone_number": PHONE,
        "hardcode": "2468",
    }
    response = login(flavour, body)
    assert response.status_code == 200
    assert set(response.json()) == flavour.token_keys  # the password flow, MFA off
    assert outbox.sent == []


def test_secrets_do_not_cross_users(
    flavour: Flavour,
    flows_config: Callable[..., Any],
    verified_user: Any,
    user_factory: Callable[..., Any],
) -> None:
    flows_config(flows=strict_flows())
    bob = user_factory(username="bob", email="bob@example.com", phone_number="+48600300400")
    identifiers.mark_confirmed(bob, "phone_number")
    hardcode.store_hardcode(bob, "1357")
    # Alice's number with Bob's hardcode, and Bob's password with Alice's name.
    bob_pin = {"phone_number": PHONE, "hardcode": "1357"}
    assert_error(login(flavour, bob_pin), 400, "unauthenticated")
    mixed = {username_field(): verified_user.get_username(), "password": "not-alices"}
    assert_error(login(flavour, mixed), 400, "unauthenticated")
    nothing_happened()


def test_a_secret_of_another_flow_does_not_complete_a_flow(
    flavour: Flavour, flows_config: Callable[..., Any], verified_user: Any
) -> None:
    flows_config(
        flows=[("email", "password", "passcode"), ("phone_number", "hardcode", "passcode")]
    )
    hardcode.store_hardcode(verified_user, "2468")
    response = login(flavour, {"email": ALICE, "hardcode": "2468"})
    assert response.status_code == 400
    assert set(response.json()) == {"password"}
    nothing_happened()


# --- case and spelling variants ----------------------------------------------------


def test_case_variants_of_an_email_identifier(flavour: Flavour, verified_user: Any) -> None:
    if username_field() == "email":
        pytest.skip("a USERNAME_FIELD is looked up as Django does (get_by_natural_key)")
    body = login(flavour, {"email": " ALICE@Example.com ", "password": PASSWORD}).json()
    assert body["method"] == "email" and mail.outbox[-1].to == [ALICE]
    assert LoginChallenge.objects.get().flow == "email+password+passcode"


@pytest.mark.usefixtures("one_proxy")
def test_case_variants_share_the_per_identifier_throttle(
    flavour: Flavour, verified_user: Any
) -> None:
    variants = [ALICE, ALICE.upper(), f" {ALICE} ", "Alice@Example.com"]
    for n in range(10):
        ip = f"198.51.100.{n}"
        login(flavour, {"email": variants[n % 4], "password": "x"}, HTTP_X_FORWARDED_FOR=ip)
    response = login(
        flavour, {"email": "aLiCe@example.com", "password": "x"}, HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    assert_error(response, 429, "throttled")


@pytest.mark.usefixtures("one_proxy")
def test_the_per_identifier_throttle_counts_every_identifier_in_the_body(
    flavour: Flavour, flows_config: Callable[..., Any], verified_user: Any
) -> None:
    # A made-up username in front of the real target (alice's number and a
    # guessed hardcode) must not give each guess a fresh counter.
    flows_config(flows=strict_flows())
    hardcode.store_hardcode(verified_user, "2468")
    for n in range(10):
        body = {
            username_field(): f"decoy{n}@example.com",
            "phone_number": PHONE,
            "hardcode": f"{n:04d}",
        }
        response = login(flavour, body, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        assert_error(response, 400, "unauthenticated")
    body = {username_field(): "decoy-x@example.com", "phone_number": PHONE, "hardcode": "2468"}
    assert_error(login(flavour, body, HTTP_X_FORWARDED_FOR="203.0.113.9"), 429, "throttled")
    assert outbox.sent == []


# --- codes of one field or purpose used for another --------------------------------


def test_a_code_confirms_only_its_own_field(user: Any, api_client: APIClient) -> None:
    assert (
        api_client.post("/auth/verification/request/", {"field": "phone_number"}).status_code == 200
    )
    code = sms_code()
    response = api_client.post("/auth/verification/email/confirm/", {"code": code})
    assert_error(response, 400, "code_invalid_or_expired")
    assert not identifiers.is_confirmed(user, "email")
    assert (
        api_client.post("/auth/verification/phone_number/confirm/", {"code": code}).status_code
        == 200
    )


def test_a_login_code_does_not_confirm_an_identifier(
    flavour: Flavour, flows_config: Callable[..., Any], user: Any, api_client: APIClient
) -> None:
    # Alice's number is confirmed; her email address is not.
    identifiers.mark_confirmed(user, "phone_number")
    hardcode.store_hardcode(user, "2468")
    assert login(flavour, {"phone_number": PHONE, "hardcode": "2468"}).status_code == 200
    response = api_client.post("/auth/verification/phone_number/confirm/", {"code": sms_code()})
    assert_error(response, 400, "code_invalid_or_expired")
    assert not identifiers.is_confirmed(user, "email")


# --- a value copied from another user ---------------------------------------------------


def test_copying_a_confirmed_number_locks_nobody_out(
    flavour: Flavour,
    verified_user: Any,
    user_factory: Callable[..., Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    mallory = user_factory(username="mallory", email="mallory@example.com", phone_number="")
    with django_capture_on_commit_callbacks(execute=True):
        mallory.phone_number = PHONE
        mallory.save()
    outbox.sent.clear()
    assert not identifiers.is_confirmed(mallory, "phone_number")
    hardcode.store_hardcode(verified_user, "2468")
    hardcode.store_hardcode(mallory, "2468")
    # Alice still logs in with her number; the SMS goes to her account's code.
    body = login(flavour, {"phone_number": PHONE, "hardcode": "2468"}).json()
    assert body["method"] == "sms"
    assert LoginChallenge.objects.get().user_id == verified_user.pk
    answer = APIClient().post(
        flavour.code, {"ephemeral_token": body["ephemeral_token"], "code": sms_code()}
    )
    assert set(answer.json()) == flavour.token_keys
    # Mallory can neither log in with it nor make it an MFA target.
    client = APIClient()
    client.force_authenticate(mallory)
    assert_error(client.post("/auth/sms/activate/"), 400, "identifier_not_confirmed")


@pytest.fixture
def mallory(
    verified_user: Any, user_factory: Callable[..., Any], django_capture_on_commit_callbacks: Any
) -> Any:
    """Mallory's account, changed to Alice's address; its code and link went to Alice."""
    if username_field() == "email":
        pytest.skip("email is the unique USERNAME_FIELD of this user model")
    mallory = user_factory(username="mallory", email="mallory@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        mallory.email = ALICE.upper()
        mallory.save()
    return mallory


def alice_still_logs_in_without_a_password(flavour: Flavour, alice: Any) -> None:
    """Alice's passwordless login by her address still reaches her account."""
    mail.outbox.clear()
    body = login(flavour, {"email": ALICE}).json()
    assert LoginChallenge.objects.get().user_id == alice.pk
    assert mail.outbox[-1].to == [ALICE]
    answer = APIClient().post(
        flavour.code, {"ephemeral_token": body["ephemeral_token"], "code": last_code()}
    )
    assert set(answer.json()) == flavour.token_keys
    LoginChallenge.objects.all().delete()


@pytest.mark.usefixtures("mallory")
def test_copying_a_confirmed_email_locks_nobody_out(flavour: Flavour, verified_user: Any) -> None:
    # The verification code for Mallory's change went to Alice's mailbox.
    assert [m.to for m in mail.outbox] == [[ALICE.upper()]]
    alice_still_logs_in_without_a_password(flavour, verified_user)


def test_a_squatters_link_opened_by_a_mail_filter_takes_nothing(
    flavour: Flavour, verified_user: Any, mallory: Any
) -> None:
    (message,) = mail.outbox
    path = re.search(r"https://app\.example\.com/confirm/([^/\s]+)/", message.body)
    assert path
    url = f"/auth/verification/email/{path.group(1)}/"
    # Alice's mail filter opens the link: nothing is confirmed.
    assert APIClient().get(url).status_code == 200
    assert not identifiers.is_confirmed(mallory, "email")
    alice_still_logs_in_without_a_password(flavour, verified_user)
    # Even a POST of it cannot take a value Alice has confirmed.
    assert_error(APIClient().post(url), 400, "identifier_taken")
    assert not identifiers.is_confirmed(mallory, "email")
    assert identifiers.is_confirmed(verified_user, "email")
    alice_still_logs_in_without_a_password(flavour, verified_user)


def test_a_code_cannot_confirm_a_value_another_account_confirmed(
    flavour: Flavour, verified_user: Any, mallory: Any
) -> None:
    client = APIClient()
    client.force_authenticate(mallory)
    response = client.post("/auth/verification/email/confirm/", {"code": last_code()})
    assert_error(
        response, 400, "identifier_taken", "This address is already confirmed by another account."
    )
    assert not identifiers.is_confirmed(mallory, "email")
    assert identifiers.is_confirmed(verified_user, "email")
    alice_still_logs_in_without_a_password(flavour, verified_user)


def test_an_unconfirmed_number_gets_a_decoy_and_no_sms(flavour: Flavour, user: Any) -> None:
    hardcode.store_hardcode(user, "2468")
    identifiers.mark_confirmed(user, "email")
    response = login(flavour, {"phone_number": PHONE})  # no passwordless phone flow here
    assert response.status_code == 400
    assert_error(
        login(flavour, {"phone_number": PHONE, "hardcode": "2468"}), 400, "unauthenticated"
    )
    assert outbox.sent == []


def test_an_unconfirmed_number_in_a_passwordless_flow_is_a_decoy(
    flavour: Flavour, flows_config: Callable[..., Any], user: Any
) -> None:
    flows_config(flows=[("phone_number", "passcode")])
    response = login(flavour, {"phone_number": PHONE})
    assert response.status_code == 200 and set(response.json()) == CHALLENGE_KEYS
    assert outbox.sent == []
    assert LoginChallenge.objects.get().user_id is None


def test_a_decoy_token_refuses_even_a_live_code(
    flavour: Flavour, flows_config: Callable[..., Any], verified_user: Any
) -> None:
    flows_config(flows=[("email", "passcode")])
    real = login(flavour, {"email": ALICE}).json()["ephemeral_token"]
    code = last_code()
    decoy = login(flavour, {"email": "nobody@example.com"}).json()["ephemeral_token"]
    client = APIClient()
    for body in (
        {"ephemeral_token": decoy, "code": code},
        {"ephemeral_token": decoy, "code": code, "method": "email"},
    ):
        assert_error(client.post(flavour.code, body), 401, "invalid_code")
    # The real challenge is untouched by the decoy's failures.
    response = client.post(flavour.code, {"ephemeral_token": real, "code": code})
    assert set(response.json()) == flavour.token_keys


# --- lockout per factor ---------------------------------------------------------------


def test_lockout_applies_to_the_second_factor_of_a_flow(
    flavour: Flavour, three_factor_alice: Callable[..., pyotp.TOTP]
) -> None:
    app = three_factor_alice(LOCKOUT_THRESHOLD=3)
    mail.outbox.clear()
    token = login(flavour, {"email": ALICE, "password": PASSWORD}).json()["ephemeral_token"]
    client = APIClient()
    assert (
        client.post(flavour.code, {"ephemeral_token": token, "code": last_code()}).json()["method"]
        == "app"
    )
    wrong = "000000" if app.now() != "000000" else "111111"
    for _ in range(3):
        assert_error(
            client.post(flavour.code, {"ephemeral_token": token, "code": wrong}),
            401,
            "invalid_code",
        )
    locked = client.post(flavour.code, {"ephemeral_token": token, "code": app.now()})
    assert_error(locked, 429, "locked")
    # The audit trail names the factor that failed.
    failed = MFAEvent.objects.filter(event="verification_failed", purpose="login")
    assert set(failed.values_list("method", flat=True)) == {"app"}
    assert MFAEvent.objects.filter(event="locked_out", method="app").exists()
    # The lockout is the user's: a new login is refused at its first factor too.
    mail.outbox.clear()
    again = login(flavour, {"email": ALICE, "password": PASSWORD}).json()["ephemeral_token"]
    response = client.post(flavour.code, {"ephemeral_token": again, "code": last_code()})
    assert_error(response, 429, "locked")


def test_a_locked_channel_blocks_its_passcode_in_every_flow(
    flavour: Flavour, flows_config: Callable[..., Any], verified_user: Any
) -> None:
    flows_config(
        flows=[("email", "password", "passcode"), ("email", "passcode")], LOCKOUT_THRESHOLD=2
    )
    token = login(flavour, {"email": ALICE}).json()["ephemeral_token"]
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    client = APIClient()
    for _ in range(2):
        client.post(flavour.code, {"ephemeral_token": token, "code": wrong})
    # The password flow's email passcode is the same channel: locked too.
    second = login(flavour, {"email": ALICE, "password": PASSWORD}).json()["ephemeral_token"]
    response = client.post(flavour.code, {"ephemeral_token": second, "code": last_code()})
    assert_error(response, 429, "locked")


# --- odd input: 4xx, never 500 ------------------------------------------------------

ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    1.5,
    10**30,
    [],
    ["x"],
    {},
    {"$ne": None},
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "é" * 300,
    "x" * 5000,
    "%",
    "_",
    "'; DROP TABLE x; --",
]


@pytest.mark.parametrize("value", ODD_VALUES, ids=repr)
@pytest.mark.parametrize("field", ["email", "phone_number", "password", "hardcode"])
def test_odd_step_1_values_are_4xx(
    flavour: Flavour, no_login_throttle: None, verified_user: Any, field: str, value: Any
) -> None:
    body = {"email": ALICE, "phone_number": PHONE, "password": "x", "hardcode": "2468"}
    body[field] = value
    response = post_json(APIClient(), flavour.login, body)
    assert response.status_code < 500, response.content


@pytest.mark.parametrize("value", ODD_VALUES, ids=repr)
def test_odd_bodies_elsewhere_are_4xx(
    flavour: Flavour, no_login_throttle: None, verified_user: Any, api_client: APIClient, value: Any
) -> None:
    decoy = login(flavour, {"email": "nobody@example.com"}).json()["ephemeral_token"]
    client = APIClient()
    for url, body in [
        (flavour.code, {"ephemeral_token": decoy, "code": value}),
        (flavour.code, {"ephemeral_token": decoy, "code": "123456", "method": value}),
        (flavour.code, {"ephemeral_token": value, "code": "123456"}),
        (flavour.resend, {"ephemeral_token": decoy, "method": value}),
    ]:
        assert post_json(client, url, body).status_code < 500, (url, body)
    for url, body in [
        ("/auth/hardcode/", {"hardcode": value, "password": PASSWORD}),
        ("/auth/hardcode/", {"hardcode": "2468", "password": value}),
        ("/auth/hardcode/", {"hardcode": "2468", "code": value, "method": value}),
        ("/auth/verification/request/", {"field": value}),
        ("/auth/verification/email/confirm/", {"code": value}),
    ]:
        assert post_json(api_client, url, body).status_code < 500, (url, body)


@pytest.mark.parametrize(
    "path",
    [
        "/auth/verification/%00/confirm/",
        "/auth/verification/" + "f" * 500 + "/confirm/",
        "/auth/verification/__class__/confirm/",
        "/auth/verification/pk/confirm/",
        "/auth/verification/password/confirm/",
        "/auth/verification/email/%00/",
        "/auth/verification/email/" + "A" * 5000 + "/",
        "/auth/verification/email/%F0%9F%98%80/",
        "/auth/verification/email/W10:1x:abc/",
        "/auth/verification/email/WyIxIiwiZW1haWwiXQ:1xYk5D:x/",
    ],
)
def test_odd_verification_paths_are_4xx(api_client: APIClient, path: str) -> None:
    assert api_client.post(path, {"code": "123456"}).status_code < 500
    assert APIClient().get(path).status_code < 500


@pytest.mark.parametrize("value", ["abc", "1.5", "-1", "9" * 40, "\x00", "2026-13-45"])
@pytest.mark.parametrize("field", ["id", "is_active", "last_login", "date_joined"])
def test_a_non_text_identifier_field_refuses_bad_values_with_4xx(
    flavour: Flavour, flows_config: Callable[..., Any], verified_user: Any, field: str, value: str
) -> None:
    flows_config(flows=[(field, "password")])
    response = login(flavour, {field: value, "password": PASSWORD})
    assert response.status_code == 400, response.content


# --- a user's own MFA in every flow ----------------------------------------------


def test_a_stolen_session_cannot_log_in_by_a_new_address_without_the_users_app(
    flavour: Flavour,
    verified_user: Any,
    client_for: Callable[[Any], APIClient],
    time_machine: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    time_machine.move_to("2026-01-01 12:00:00+00:00", tick=False)
    session = client_for(verified_user)
    app = activate_and_confirm_app(session)
    # The session writes and confirms an address of the attacker's.
    with django_capture_on_commit_callbacks(execute=True):
        verified_user.email = "attacker@evil.example"
        verified_user.save()
    confirmed = session.post("/auth/verification/email/confirm/", {"code": last_code()})
    assert confirmed.status_code == 200, confirmed.content
    # A passwordless login by that address: the passcode is not enough.
    token = login(flavour, {"email": "attacker@evil.example"}).json()["ephemeral_token"]
    passcode = APIClient().post(flavour.code, {"ephemeral_token": token, "code": last_code()})
    assert passcode.status_code == 200, passcode.content
    body = passcode.json()
    assert set(body) == CHALLENGE_KEYS
    assert (body["method"], body["factors_remaining"]) == ("app", [])
    assert LoginChallenge.objects.get().used_at is None
    # Only the user's own app code finishes it.
    time_machine.shift(30)
    done = APIClient().post(flavour.code, {"ephemeral_token": token, "code": app.now()})
    assert set(done.json()) == flavour.token_keys


def test_a_flow_that_already_asks_for_the_users_method_asks_nothing_more(
    flavour: Flavour, verified_user: Any, client_for: Callable[[Any], APIClient]
) -> None:
    session = client_for(verified_user)
    assert session.post("/auth/email/activate/").status_code == 200
    assert session.post("/auth/email/activate/confirm/", {"code": last_code()}).status_code == 200
    token = login(flavour, {"email": ALICE}).json()["ephemeral_token"]
    done = APIClient().post(flavour.code, {"ephemeral_token": token, "code": last_code()})
    assert set(done.json()) == flavour.token_keys
