"""Login through ``FLOWS``: 1, 2 and 3 factors, passwordless, hardcode, MFA on top."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import (
    PASSWORD,
    Flavour,
    activate,
    assert_error,
    assert_field_error,
    last_code,
    username_field,
)
from tests.support import sms_outbox as outbox
from tests.support.flows import PHONE, default_flows, sms_code
from trench_mfa.models import LoginChallenge, MFAEvent, MFAMethod
from trench_mfa.services import hardcode, identifiers
from trench_mfa.state.secrets_at_rest import decrypt_secret

CHALLENGE_KEYS = {"ephemeral_token", "method", "other_methods", "factors_remaining"}


@pytest.fixture(autouse=True)
def _flows(flows_config: Callable[..., Any]) -> None:
    flows_config(flows=default_flows())


def post(flavour: Flavour, url: str, body: dict[str, Any]) -> Any:
    """POST with a fresh anonymous client."""
    return APIClient().post(url, body)


def step(flavour: Flavour, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    """Login step 1; asserts ``status``."""
    response = post(flavour, flavour.login, body)
    assert response.status_code == status, response.content
    return response.json()  # type: ignore[no-any-return]


def answer(flavour: Flavour, token: str, code: str, **extra: Any) -> Any:
    """Login step 2 (``login/code/``)."""
    return post(flavour, flavour.code, {"ephemeral_token": token, "code": code, **extra})


def assert_tokens(flavour: Flavour, response: Any) -> None:
    """The final answer carries the flavour's tokens and works as credentials."""
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == flavour.token_keys
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=flavour.authorization(body))
    assert client.get("/auth/mfa/user-active-methods/").status_code == 200


def totp(user: Any) -> pyotp.TOTP:
    """The authenticator app of ``user``."""
    method = MFAMethod.objects.get(user=user, name="app")
    return pyotp.TOTP(decrypt_secret(method.secret))


# --- one factor ------------------------------------------------------------


def test_1fa_password_gives_tokens(flavour: Flavour, verified_user: Any) -> None:
    body = {username_field(): verified_user.get_username(), "password": PASSWORD}
    response = post(flavour, flavour.login, body)
    assert_tokens(flavour, response)
    assert mail.outbox == [] and not LoginChallenge.objects.exists()


def test_1fa_password_with_mfa_on_top(
    flavour: Flavour, verified_user: Any, client_for: Callable[[Any], APIClient]
) -> None:
    activate(client_for(verified_user), "email")
    mail.outbox.clear()
    body = step(flavour, {username_field(): verified_user.get_username(), "password": PASSWORD})
    assert set(body) == CHALLENGE_KEYS
    assert (body["method"], body["other_methods"], body["factors_remaining"]) == ("email", [], [])
    assert_tokens(flavour, answer(flavour, body["ephemeral_token"], last_code()))


def test_1fa_passwordless_email_code(flavour: Flavour, verified_user: Any) -> None:
    body = step(flavour, {"email": "alice@example.com"})
    assert set(body) == CHALLENGE_KEYS
    assert (body["method"], body["factors_remaining"]) == ("email", [])
    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    assert "confirm" not in message.body  # a login code carries no link
    assert_tokens(flavour, answer(flavour, body["ephemeral_token"], last_code()))
    # The channel row stays an inactive, non-primary row: MFA is still off.
    row = MFAMethod.objects.get(user=verified_user, name="email")
    assert (row.is_active, row.is_primary) == (False, False)
    events = set(MFAEvent.objects.filter(purpose="login").values_list("event", "method"))
    assert events == {("code_sent", "email"), ("code_verified", "email")}


def test_passwordless_identifier_ignores_case_of_email(
    flavour: Flavour, verified_user: Any
) -> None:
    if username_field() == "email":
        pytest.skip("a USERNAME_FIELD is looked up as Django does (get_by_natural_key)")
    body = step(flavour, {"email": "Alice@Example.COM"})
    assert_tokens(flavour, answer(flavour, body["ephemeral_token"], last_code()))


# --- two factors -------------------------------------------------------------


def test_2fa_email_password_and_passcode(
    flavour: Flavour, flows_config: Callable[..., Any], verified_user: Any
) -> None:
    flows_config(flows=[("email", "password", "passcode")])
    body = step(flavour, {"email": "alice@example.com", "password": PASSWORD})
    assert (body["method"], body["factors_remaining"]) == ("email", [])
    assert_tokens(flavour, answer(flavour, body["ephemeral_token"], last_code()))


def test_2fa_wrong_password_falls_through_to_the_next_flow(
    flavour: Flavour, verified_user: Any
) -> None:
    # ("email", "password", "passcode") does not fit; ("email", "passcode") does.
    body = step(flavour, {"email": "alice@example.com", "password": "wrong"})
    assert body["method"] == "email"
    challenge = LoginChallenge.objects.get()
    assert challenge.flow == "email+passcode"


def test_hardcode_and_sms_passcode(flavour: Flavour, verified_user: Any) -> None:
    hardcode.store_hardcode(verified_user, "2468")
    body = step(flavour, {"phone_number": PHONE, "hardcode": "2468"})
    assert (body["method"], body["factors_remaining"]) == ("sms", [])
    assert mail.outbox == []
    assert_tokens(flavour, answer(flavour, body["ephemeral_token"], sms_code()))


def test_wrong_or_missing_hardcode_is_unauthenticated(flavour: Flavour, verified_user: Any) -> None:
    body = {"phone_number": PHONE, "hardcode": "2468"}
    assert_error(post(flavour, flavour.login, body), 400, "unauthenticated")  # none set
    hardcode.store_hardcode(verified_user, "2468")
    wrong = {"phone_number": PHONE, "hardcode": "1357"}
    assert_error(post(flavour, flavour.login, wrong), 400, "unauthenticated")
    assert outbox.sent == []
    assert step(flavour, body)["method"] == "sms"


def test_every_identifier_in_the_body_counts_toward_the_username_rate(
    flavour: Flavour, verified_user: Any
) -> None:
    # Step 1 tries every flow that fits the body, so a body can pair the
    # identifier under attack (here: guessing alice's hardcode) with a fresh
    # decoy identifier of another flow on every try. Each identifier in the
    # body is counted, from any client address: the decoys do not help.
    hardcode.store_hardcode(verified_user, "2468")
    statuses = []
    for n in range(12):
        body = {
            username_field(): f"decoy{n}@example.com",
            "password": "wrong",
            "phone_number": PHONE,
            "hardcode": f"{1000 + n}",
        }
        client = APIClient(REMOTE_ADDR=f"198.51.100.{n + 1}")
        statuses.append(client.post(flavour.login, body).status_code)
    # 400, or a decoy challenge (200) where a passwordless flow takes the
    # decoy address (the email-only user model); never a hardcode check
    # past the rate.
    assert [status == 429 for status in statuses] == [False] * 10 + [True] * 2
    # The decoy identifiers were counted once each and are not throttled.
    fresh = {username_field(): "decoy0@example.com", "password": "wrong"}
    assert APIClient(REMOTE_ADDR="203.0.113.9").post(flavour.login, fresh).status_code != 429


# --- three factors -----------------------------------------------------------


def test_3fa_password_email_code_then_app(
    flavour: Flavour, three_factor_alice: Callable[..., pyotp.TOTP], verified_user: Any
) -> None:
    three_factor_alice()
    first = step(flavour, {"email": "alice@example.com", "password": PASSWORD})
    assert (first["method"], first["factors_remaining"]) == ("email", ["app"])
    token = first["ephemeral_token"]
    # The app's code does not answer the email factor, nor may it be switched.
    assert_error(
        answer(flavour, token, totp(verified_user).now(), method="app"), 401, "invalid_code"
    )
    second = answer(flavour, token, last_code())
    assert second.status_code == 200, second.content
    body = second.json()
    assert set(body) == CHALLENGE_KEYS
    assert (body["method"], body["factors_remaining"]) == ("app", [])
    assert body["ephemeral_token"] == token
    challenge = LoginChallenge.objects.get()
    assert challenge.done == ["email"] and challenge.used_at is None
    assert_tokens(flavour, answer(flavour, token, totp(verified_user).now()))
    assert_error(answer(flavour, token, totp(verified_user).now()), 401, "invalid_token")


def test_a_flow_needing_a_method_the_user_lacks_is_skipped(
    flavour: Flavour, flows_config: Callable[..., Any], verified_user: Any
) -> None:
    flows_config(
        flows=[("email", "password", "passcode", "app"), ("email", "password", "passcode")]
    )
    body = step(flavour, {"email": "alice@example.com", "password": PASSWORD})
    assert (body["method"], body["factors_remaining"]) == ("email", [])
    assert LoginChallenge.objects.get().flow == "email+password+passcode"


def test_backup_codes_answer_method_factors_but_not_passcodes(
    flavour: Flavour,
    flows_config: Callable[..., Any],
    verified_user: Any,
    client_for: Callable[[Any], APIClient],
) -> None:
    client = client_for(verified_user)
    assert client.post("/auth/sms/activate/").status_code == 200
    confirm = client.post("/auth/sms/activate/confirm/", {"code": sms_code()})
    backup = confirm.json()["backup_codes"]
    flows_config(flows=[("email", "password", "passcode", "sms")])
    mail.outbox.clear()
    body = step(flavour, {"email": "alice@example.com", "password": PASSWORD})
    token = body["ephemeral_token"]
    # A backup code has the wrong format for an email passcode: a wrong code
    # that counts nothing (and is not used up).
    assert_error(answer(flavour, token, backup[0]), 401, "invalid_code")
    assert LoginChallenge.objects.get().failed_attempts == 0
    second = answer(flavour, token, last_code()).json()
    assert second["method"] == "sms"
    assert_tokens(flavour, answer(flavour, token, backup[0]))


# --- refusals ---------------------------------------------------------------


def test_unconfirmed_identifier_cannot_log_in(
    flavour: Flavour, flows_config: Callable[..., Any], user: Any
) -> None:
    flows_config(flows=[("email", "password", "passcode"), ("email", "passcode")])
    # With a password flow, an unconfirmed email is like an unknown one; the
    # passwordless flow after it answers with a decoy and sends nothing.
    body = step(flavour, {"email": "alice@example.com", "password": PASSWORD})
    assert body["method"] == "email" and mail.outbox == []
    assert_error(answer(flavour, body["ephemeral_token"], "123456"), 401, "invalid_code")
    identifiers.mark_confirmed(user, "email")
    body = step(flavour, {"email": "alice@example.com", "password": PASSWORD})
    assert len(mail.outbox) == 1


def test_unconfirmed_phone_is_refused_with_the_right_hardcode(flavour: Flavour, user: Any) -> None:
    hardcode.store_hardcode(user, "2468")
    identifiers.mark_confirmed(user, "email")
    assert_error(
        post(flavour, flavour.login, {"phone_number": PHONE, "hardcode": "2468"}),
        400,
        "unauthenticated",
    )
    assert outbox.sent == []


def test_no_flow_fits_gives_the_first_flows_field_errors(flavour: Flavour) -> None:
    response = post(flavour, flavour.login, {})
    assert_field_error(response, username_field())
    assert_field_error(response, "password")
    response = post(flavour, flavour.login, {"hardcode": "2468"})
    assert_field_error(response, username_field())
    assert_field_error(post(flavour, flavour.login, {"email": ""}), "email")
    assert_field_error(post(flavour, flavour.login, {"email": ["a"]}), "email")


def test_inactive_user_gets_nothing(flavour: Flavour, verified_user: Any) -> None:
    verified_user.is_active = False
    verified_user.save()
    body = {username_field(): verified_user.get_username(), "password": PASSWORD}
    response = post(flavour, flavour.login, body)
    # A 400, or a decoy when a passwordless flow fits the body: never tokens.
    assert not flavour.token_keys & set(response.json()), response.content
    step(flavour, {"email": "alice@example.com"})
    assert mail.outbox == [] and not LoginChallenge.objects.filter(user__isnull=False).exists()


# --- codes, throttling and lockout apply to every factor -------------------------


def test_passcode_wrong_codes_count_and_lock(
    flavour: Flavour, flows_config: Callable[..., Any], verified_user: Any
) -> None:
    flows_config(flows=default_flows(), LOCKOUT_THRESHOLD=3)
    body = step(flavour, {"email": "alice@example.com"})
    token, code = body["ephemeral_token"], last_code()
    wrong = "000000" if code != "000000" else "111111"
    assert_error(answer(flavour, token, wrong), 401, "invalid_code")
    assert_error(answer(flavour, token, wrong), 401, "invalid_code")
    assert MFAMethod.objects.get(user=verified_user, name="email").failure_count == 2
    assert_error(answer(flavour, token, wrong), 401, "invalid_code")
    # The third failure locked the user: even the right code is refused now.
    response = answer(flavour, token, code)
    assert_error(response, 429, "locked")
    assert int(response["Retry-After"]) > 0


def test_passcode_resend_and_cooldown(flavour: Flavour, verified_user: Any) -> None:
    body = step(flavour, {"email": "alice@example.com"})
    token = body["ephemeral_token"]
    assert_error(post(flavour, flavour.resend, {"ephemeral_token": token}), 429, "throttled")
    assert_error(
        post(flavour, flavour.resend, {"ephemeral_token": token, "method": "app"}),
        401,
        "invalid_code",
    )
    assert len(mail.outbox) == 1


def test_passcode_is_bound_to_its_challenge(flavour: Flavour, verified_user: Any) -> None:
    first = step(flavour, {"email": "alice@example.com"})
    second = step(flavour, {"email": "alice@example.com"})  # inside the cooldown: same code
    code = last_code()
    assert_error(answer(flavour, first["ephemeral_token"], code), 401, "invalid_code")
    assert_tokens(flavour, answer(flavour, second["ephemeral_token"], code))


def test_a_failed_send_is_503_and_leaves_no_challenge(
    flavour: Flavour, flows_config: Callable[..., Any], verified_user: Any
) -> None:
    flows_config(flows=[("phone_number", "passcode")])
    outbox.fail_next = 1
    assert_error(post(flavour, flavour.login, {"phone_number": PHONE}), 503, "dispatch_failed")
    assert not LoginChallenge.objects.exists()
    assert step(flavour, {"phone_number": PHONE})["method"] == "sms"
