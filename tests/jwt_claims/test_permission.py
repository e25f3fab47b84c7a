"""``IsMFAAuthenticated`` on a project view (``tests/jwt_claims/urls.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.conftest import credentials, last_code
from tests.jwt_claims.conftest import NOW_TS, answer, login_step_one, refresh, tokens_of

pytestmark = pytest.mark.urls("tests.jwt_claims.urls")

URL = "/api/payout/"
REQUIRED = "This action requires a login with multi-factor authentication."
EXPIRED = "Your multi-factor authentication is too old: log in again."


def get(authorization: str | None = None) -> Any:
    """GET the protected view with an ``Authorization`` header (or none)."""
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    return client.get(URL)


def bearer(access: str | AccessToken) -> str:
    """The header value for a simplejwt access token."""
    return f"Bearer {access}"


def assert_refused(response: Any, message: str = REQUIRED) -> None:
    """403 with DRF's ``detail`` body."""
    assert response.status_code == 403, response.content
    assert response.json() == {"detail": message}


@pytest.fixture
def mfa_tokens(email_mfa_user: tuple[Any, list[str]]) -> dict[str, Any]:
    """JWTs of an email-code login of ``user``."""
    user, _ = email_mfa_user
    token = login_step_one(user)["ephemeral_token"]
    return tokens_of(answer(token, last_code()))


def access_with(user: Any, **claims: Any) -> AccessToken:
    """A valid access token of ``user`` carrying exactly ``claims`` on top of simplejwt's."""
    access = RefreshToken.for_user(user).access_token
    for name, value in claims.items():
        access[name] = value
    return access


# --- allowed ----------------------------------------------------------------


def test_mfa_login_is_allowed(mfa_tokens: dict[str, Any], user: Any) -> None:
    response = get(bearer(mfa_tokens["access"]))
    assert response.status_code == 200, response.content
    assert response.json() == {"user": str(user.pk)}


def test_refreshed_access_token_is_allowed(mfa_tokens: dict[str, Any], frozen: Any) -> None:
    frozen.shift(3600)
    assert get(bearer(refresh(mfa_tokens["refresh"])["access"])).status_code == 200


# --- refused ----------------------------------------------------------------


def test_anonymous_is_401() -> None:
    assert get().status_code == 401


def test_password_only_login_is_refused(user: Any) -> None:
    body = tokens_of(APIClient().post("/auth/jwt/login/", credentials(user)))
    assert_refused(get(bearer(body["access"])))


def test_token_without_claims_is_refused(user: Any) -> None:
    # What simplejwt's own TokenObtainPairView issues: valid, but no proof of MFA.
    assert_refused(get(bearer(RefreshToken.for_user(user).access_token)))


def test_forged_token_is_401(user: Any) -> None:
    payload = dict(access_with(user, amr=["pwd", "otp", "mfa"], mfa_at=NOW_TS).payload)
    forged = jwt.encode(payload, "not-the-signing-key-" * 3, algorithm="HS256")
    assert get(bearer(forged)).status_code == 401
    unsigned = jwt.encode(payload, key=None, algorithm="none")
    assert get(bearer(unsigned)).status_code == 401
    assert django_settings.SECRET_KEY not in (forged, unsigned)


@pytest.mark.parametrize(
    "claims",
    [
        {"amr": ["pwd"], "mfa_at": NOW_TS},
        {"amr": ["pwd", "otp"], "mfa_at": NOW_TS},  # one code alone is not MFA
        {"amr": ["pwd", "MFA"], "mfa_at": NOW_TS},
        {"amr": "mfa", "mfa_at": NOW_TS},
        {"amr": {"mfa": True}, "mfa_at": NOW_TS},
        {"amr": ["pwd", "otp", "mfa"]},
        {"amr": ["pwd", "otp", "mfa"], "mfa_at": str(NOW_TS)},
        {"amr": ["pwd", "otp", "mfa"], "mfa_at": float(NOW_TS)},
        {"amr": ["pwd", "otp", "mfa"], "mfa_at": True},
        {"amr": ["pwd", "otp", "mfa"], "mfa_at": None},
        {"mfa_at": NOW_TS},
    ],
)
def test_malformed_or_insufficient_claims_are_refused(user: Any, claims: dict[str, Any]) -> None:
    assert_refused(get(bearer(access_with(user, **claims))))


def test_authtoken_is_refused_even_after_mfa(email_mfa_user: tuple[Any, list[str]]) -> None:
    user, _ = email_mfa_user
    client = APIClient()
    token = client.post("/auth/token/login/", credentials(user)).json()["ephemeral_token"]
    body = client.post("/auth/token/login/code/", {"ephemeral_token": token, "code": last_code()})
    assert body.status_code == 200, body.content
    assert_refused(get(f"Token {body.json()['auth_token']}"))


def test_session_is_refused(user: Any, client_for: Callable[[Any], APIClient]) -> None:
    assert_refused(client_for(user).get(URL))


# --- settings ---------------------------------------------------------------


def test_max_age(mfa_tokens: dict[str, Any], trench_auth: Callable[..., Any], frozen: Any) -> None:
    trench_auth(MFA_MAX_AGE=120)  # shorter than the access token's 5 minutes
    frozen.shift(120)
    assert get(bearer(mfa_tokens["access"])).status_code == 200
    frozen.shift(1)
    response = get(bearer(mfa_tokens["access"]))
    assert_refused(response, EXPIRED)
    # Refreshing does not renew the MFA: only a new login with a code does.
    assert_refused(get(bearer(refresh(mfa_tokens["refresh"])["access"])), EXPIRED)


def test_max_age_tolerates_a_clock_ahead(user: Any, trench_auth: Callable[..., Any]) -> None:
    trench_auth(MFA_MAX_AGE=60)
    ahead = access_with(user, amr=["pwd", "otp", "mfa"], mfa_at=NOW_TS + 5)
    assert get(bearer(ahead)).status_code == 200


def test_max_age_none_accepts_any_age(mfa_tokens: dict[str, Any], frozen: Any) -> None:
    frozen.shift(4 * 60)  # the access token's own lifetime is 5 minutes
    assert get(bearer(mfa_tokens["access"])).status_code == 200


def test_accepted_amr_is_a_setting(
    mfa_tokens: dict[str, Any], user: Any, trench_auth: Callable[..., Any]
) -> None:
    one_code = bearer(access_with(user, amr=["otp"], mfa_at=NOW_TS))
    assert_refused(get(one_code))
    trench_auth(MFA_ACCEPTED_AMR=["otp", "hwk", "mfa"])
    assert get(one_code).status_code == 200
    trench_auth(MFA_ACCEPTED_AMR=["hwk"])  # e.g. a view for hardware keys only
    assert_refused(get(bearer(mfa_tokens["access"])))


def test_error_code_is_machine_readable(user: Any, trench_auth: Callable[..., Any]) -> None:
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from trench_mfa.permissions import IsMFAAuthenticated

    trench_auth(MFA_MAX_AGE=10)
    for claims, code in (
        ({"amr": ["pwd"]}, "mfa_required"),
        ({"amr": ["pwd", "otp", "mfa"], "mfa_at": NOW_TS - 11}, "mfa_expired"),
    ):
        request = Request(APIRequestFactory().get(URL))
        request.user, request.auth = user, access_with(user, **claims)
        permission = IsMFAAuthenticated()
        assert not permission.has_permission(request, None)  # type: ignore[arg-type]
        assert permission.code == code


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"MFA_ACCEPTED_AMR": None}, REQUIRED),
        ({"MFA_ACCEPTED_AMR": "mfa"}, REQUIRED),
        ({"MFA_MAX_AGE": "600"}, EXPIRED),
        ({"MFA_MAX_AGE": 0}, EXPIRED),
    ],
)
def test_misconfiguration_fails_closed(
    mfa_tokens: dict[str, Any],
    trench_auth: Callable[..., Any],
    overrides: dict[str, Any],
    message: str,
) -> None:
    trench_auth(**overrides)  # system checks E170/E171 report these
    assert_refused(get(bearer(mfa_tokens["access"])), message)
