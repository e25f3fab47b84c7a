"""Using an active app method: login, protected actions, and no secret after setup."""

from __future__ import annotations

import json
from typing import Any

import pyotp
import pytest
import time_machine
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import assert_error, credentials, last_code
from tests.support.app import activate_app, totp_from_uri
from trench_mfa.models import LoginChallenge, MFAMethod

T0 = 1_700_000_010  # 10 s into step T0 // 30
STEP = 30


@pytest.fixture
def app_user(user: Any, api_client: APIClient) -> tuple[Any, pyotp.TOTP, str, list[str]]:
    """``user`` with the app method active and primary: (user, totp, uri, backup codes)."""
    with time_machine.travel(T0, tick=False):
        uri = activate_app(api_client)["details"]
        totp = totp_from_uri(uri)
        response = api_client.post("/auth/app/activate/confirm/", {"code": totp.now()})
        assert response.status_code == 200, response.content
    return user, totp, uri, response.json()["backup_codes"]


def _leaks(body: bytes, totp: pyotp.TOTP, uri: str) -> list[str]:
    text = body.decode()
    return [s for s in ("otpauth", totp.secret, uri, "qr_code", "secret") if s in text]


def _code_at(totp: pyotp.TOTP, when: int) -> str:
    return str(totp.at(when))


def test_responses_after_activation_never_show_the_secret(
    app_user: tuple[Any, pyotp.TOTP, str, list[str]],
    api_client: APIClient,
    anon_client: APIClient,
) -> None:
    user, totp, uri, _ = app_user
    responses = [
        api_client.get("/auth/mfa/user-active-methods/"),
        api_client.get("/auth/mfa/config/"),
        api_client.post("/auth/code/request/", {"method": "app"}),
        api_client.post("/auth/code/request/", {}),
        api_client.post("/auth/app/activate/"),
        anon_client.post("/auth/jwt/login/", credentials(user)),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 400, 200]
    for response in responses:
        assert _leaks(response.content, totp, uri) == [], response.content
    assert responses[0].json() == [{"name": "app", "is_primary": True}]
    assert responses[2].json() == {"details": "Enter the current code from your authenticator app."}
    assert_error(responses[4], 400, "method_already_active")
    step1 = responses[5].json()
    assert step1["method"] == "app" and set(step1) >= {"ephemeral_token", "other_methods"}
    # A re-sent login challenge says the same generic text.
    resend = anon_client.post(
        "/auth/jwt/login/code/request/", {"ephemeral_token": step1["ephemeral_token"]}
    )
    assert resend.status_code == 200 and _leaks(resend.content, totp, uri) == []
    assert mail.outbox == []


def test_login_step_two_accepts_the_current_code_once(
    app_user: tuple[Any, pyotp.TOTP, str, list[str]], anon_client: APIClient
) -> None:
    user, totp, _, _ = app_user
    login = credentials(user)
    with time_machine.travel(T0 + STEP, tick=False):
        first = anon_client.post("/auth/token/login/", login).json()
        code = totp.now()
        ok = anon_client.post(
            "/auth/token/login/code/", {"ephemeral_token": first["ephemeral_token"], "code": code}
        )
        assert ok.status_code == 200 and set(ok.json()) == {"auth_token"}
        second = anon_client.post("/auth/token/login/", login).json()
        replay = anon_client.post(
            "/auth/token/login/code/", {"ephemeral_token": second["ephemeral_token"], "code": code}
        )
    assert_error(replay, 401, "invalid_code")
    assert LoginChallenge.objects.get(pk__gt=0, used_at__isnull=True).failed_attempts == 1


def test_login_with_a_code_from_the_confirmation_step_fails(
    app_user: tuple[Any, pyotp.TOTP, str, list[str]], anon_client: APIClient
) -> None:
    user, totp, _, _ = app_user
    with time_machine.travel(T0 + 5, tick=False):  # same step as the confirmation
        step1 = anon_client.post("/auth/jwt/login/", credentials(user)).json()
        response = anon_client.post(
            "/auth/jwt/login/code/",
            {"ephemeral_token": step1["ephemeral_token"], "code": totp.now()},
        )
    assert response.status_code == 401


@pytest.mark.parametrize(
    "bad", ["12345", "abcdef", "\uff11\uff12\uff13\uff14\uff15\uff16", "1234567"]
)
def test_login_step_two_malformed_code_is_a_wrong_code_that_counts_nothing(
    app_user: tuple[Any, pyotp.TOTP, str, list[str]], anon_client: APIClient, bad: str
) -> None:
    user, totp, _, _ = app_user
    with time_machine.travel(T0 + STEP, tick=False):
        token = anon_client.post("/auth/jwt/login/", credentials(user)).json()["ephemeral_token"]
        response = anon_client.post(
            "/auth/jwt/login/code/", {"ephemeral_token": token, "code": bad}
        )
        assert_error(response, 401, "invalid_code")
        assert LoginChallenge.objects.get().failed_attempts == 0
        assert MFAMethod.objects.get(user=user, name="app").failure_count == 0
        # The token is still usable: the right code logs in afterwards.
        response = anon_client.post(
            "/auth/jwt/login/code/", {"ephemeral_token": token, "code": totp.now()}
        )
    assert response.status_code == 200, response.content


def test_login_step_two_accepts_a_backup_code(
    app_user: tuple[Any, pyotp.TOTP, str, list[str]], anon_client: APIClient
) -> None:
    user, _, _, backup_codes = app_user
    step1 = anon_client.post("/auth/jwt/login/", credentials(user)).json()
    response = anon_client.post(
        "/auth/jwt/login/code/",
        {"ephemeral_token": step1["ephemeral_token"], "code": backup_codes[0]},
    )
    assert response.status_code == 200


def test_deactivate_needs_a_current_code(
    app_user: tuple[Any, pyotp.TOTP, str, list[str]], api_client: APIClient
) -> None:
    user, totp, _, _ = app_user
    with time_machine.travel(T0 + STEP, tick=False):
        wrong = f"{(int(totp.now()) + 1) % 10**6:06d}"
        response = api_client.post("/auth/app/deactivate/", {"code": wrong})
        assert_error(response, 400, "code_invalid_or_expired")
        assert MFAMethod.objects.get(user=user, name="app").is_active
        response = api_client.post("/auth/app/deactivate/", {"code": totp.now()})
    assert response.status_code == 204
    assert not MFAMethod.objects.get(user=user, name="app").is_active


def test_regenerate_backup_codes_with_the_current_code(
    app_user: tuple[Any, pyotp.TOTP, str, list[str]], api_client: APIClient
) -> None:
    _, totp, _, old = app_user
    with time_machine.travel(T0 + STEP, tick=False):
        response = api_client.post("/auth/app/codes/regenerate/", {"code": totp.now()})
        assert response.status_code == 200
        new = response.json()["backup_codes"]
        assert len(new) == 10 and set(new).isdisjoint(old)
        # The step is used now: the same code cannot confirm a second action.
        again = api_client.post("/auth/app/codes/regenerate/", {"code": totp.now()})
    assert_error(again, 400, "code_invalid_or_expired")


def test_change_primary_to_and_from_the_app(
    user: Any,
    api_client: APIClient,
    email_mfa_user: tuple[Any, list[str]],
) -> None:
    with time_machine.travel(T0, tick=False):
        totp = totp_from_uri(activate_app(api_client)["details"])
        confirm = api_client.post("/auth/app/activate/confirm/", {"code": totp.now()})
        assert confirm.status_code == 200 and confirm.json()["backup_codes"] == []
        # The current primary is email: its code confirms the change.
        assert api_client.post("/auth/code/request/", {}).status_code == 200
        response = api_client.post(
            "/auth/mfa/change-primary-method/", {"method": "app", "code": last_code()}
        )
        assert response.status_code == 204
    assert MFAMethod.objects.get(user=user, is_primary=True).name == "app"
    with time_machine.travel(T0 + STEP, tick=False):
        response = api_client.post(
            "/auth/mfa/change-primary-method/", {"method": "email", "code": totp.now()}
        )
    assert response.status_code == 204
    assert MFAMethod.objects.get(user=user, is_primary=True).name == "email"


@pytest.mark.parametrize(
    ("flavour", "token_keys"), [("jwt", {"refresh", "access"}), ("token", {"auth_token"})]
)
def test_app_login_end_to_end(
    user: Any, api_client: APIClient, anon_client: APIClient, flavour: str, token_keys: set[str]
) -> None:
    """activate -> secret from the URI -> confirm -> login step 1 -> step 2 (next step's code)."""
    with time_machine.travel(T0, tick=False):
        body = activate_app(api_client)
        secret = pyotp.parse_uri(body["details"]).secret
        totp = pyotp.TOTP(secret)
        confirm = api_client.post("/auth/app/activate/confirm/", {"code": totp.now()})
        assert confirm.status_code == 200
        step1 = anon_client.post(f"/auth/{flavour}/login/", credentials(user))
        assert step1.status_code == 200
        challenge = step1.json()
        assert challenge["method"] == "app" and challenge["other_methods"] == []
        assert secret not in json.dumps(challenge)
    with time_machine.travel(T0 + STEP, tick=False):
        step2 = anon_client.post(
            f"/auth/{flavour}/login/code/",
            {"ephemeral_token": challenge["ephemeral_token"], "code": totp.now()},
        )
    assert step2.status_code == 200, step2.content
    assert set(step2.json()) == token_keys


def test_step_two_rejects_codes_two_steps_away(
    app_user: tuple[Any, pyotp.TOTP, str, list[str]], anon_client: APIClient
) -> None:
    user, totp, _, _ = app_user
    now = T0 + 10 * STEP
    with time_machine.travel(now, tick=False):
        step1 = anon_client.post("/auth/jwt/login/", credentials(user)).json()
        results = [
            anon_client.post(
                "/auth/jwt/login/code/",
                {"ephemeral_token": step1["ephemeral_token"], "code": _code_at(totp, now + delta)},
            ).status_code
            for delta in (-2 * STEP, 2 * STEP, -STEP)
        ]
    assert results == [401, 401, 200]


def test_failed_protected_action_changes_nothing(
    app_user: tuple[Any, pyotp.TOTP, str, list[str]], api_client: APIClient
) -> None:
    user, totp, _, _ = app_user
    before = MFAMethod.objects.get(user=user, name="app")
    with time_machine.travel(T0 + STEP, tick=False):
        wrong = f"{(int(totp.now()) + 1) % 10**6:06d}"
        response = api_client.post("/auth/app/deactivate/", {"code": wrong})
        assert_error(response, 400, "code_invalid_or_expired")
    after = MFAMethod.objects.get(user=user, name="app")
    assert (after.secret, after.last_used_step, after.is_active, after.is_primary) == (
        before.secret,
        before.last_used_step,
        True,
        True,
    )


def test_every_candidate_is_compared_in_constant_time(
    app_user: tuple[Any, pyotp.TOTP, str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from trench_mfa.backends import application
    from trench_mfa.backends.provider import get_mfa_handler

    calls: list[tuple[str, str]] = []
    real = application.constant_time_equals

    def spy(left: str, right: str) -> bool:
        calls.append((left, right))
        return real(left, right)

    monkeypatch.setattr(application, "constant_time_equals", spy)
    user, totp, _, _ = app_user
    with time_machine.travel(T0 + 3 * STEP, tick=False):
        handler = get_mfa_handler(MFAMethod.objects.get(user=user, name="app"))
        assert handler.validate_code(totp.now()) is True
    # T-1, T and T+1 are all compared, even after the match.
    assert len(calls) == 3 and all(right == totp.at(T0 + 3 * STEP) for _, right in calls)


def test_a_client_supplied_timestamp_is_ignored(
    app_user: tuple[Any, pyotp.TOTP, str, list[str]], anon_client: APIClient
) -> None:
    user, totp, _, _ = app_user
    past = T0 - 3600
    with time_machine.travel(T0 + 10 * STEP, tick=False):
        token = anon_client.post("/auth/jwt/login/", credentials(user)).json()["ephemeral_token"]
        response = anon_client.post(
            "/auth/jwt/login/code/",
            {"ephemeral_token": token, "code": totp.at(past), "timestamp": past},
        )
    assert response.status_code == 401


def test_no_secret_or_code_reaches_the_logs(
    user: Any, api_client: APIClient, anon_client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    with time_machine.travel(T0, tick=False):
        uri = activate_app(api_client)["details"]
        totp = totp_from_uri(uri)
        codes = [totp.now()]
        api_client.post("/auth/app/activate/confirm/", {"code": codes[0]})
    with time_machine.travel(T0 + STEP, tick=False):
        token = anon_client.post("/auth/jwt/login/", credentials(user)).json()["ephemeral_token"]
        codes.append(totp.now())
        anon_client.post("/auth/jwt/login/code/", {"ephemeral_token": token, "code": codes[1]})
    text = caplog.text
    for secret in (totp.secret, uri, *codes):
        assert secret not in text
