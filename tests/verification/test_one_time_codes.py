"""One-time codes (email and SMS): format, storage, expiry, single use, binding, attempts."""

from __future__ import annotations

import hashlib
import random
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import ActivatedUser, Flavour, assert_error, last_code, start_login
from trench_mfa.backends.provider import get_mfa_handler
from trench_mfa.models import CodePurpose, MFAMethod, OneTimeCode
from trench_mfa.state import codes, crypto

pytestmark = pytest.mark.django_db

WINDOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def method(user: Any) -> MFAMethod:
    """An active email method row of ``user`` (created directly)."""
    return MFAMethod.objects.create(user=user, name="email", is_active=True, is_primary=True)


@pytest.fixture
def forced_digits(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Make ``secrets.choice`` (the code generator's RNG) return given digits."""

    def force(digits: str) -> None:
        sequence: Iterator[str] = iter(digits)
        real = secrets.choice

        def fake(seq: Any) -> Any:
            if seq == "0123456789":
                return next(sequence)
            return real(seq)

        monkeypatch.setattr(crypto.secrets, "choice", fake)

    return force


def wrong(code: str) -> str:
    """A well-formed code different from ``code``."""
    return "000000" if code != "000000" else "111111"


# --- format ---------------------------------------------------------------------------


def test_codes_are_zero_padded_strings(
    user: Any, api_client: APIClient, forced_digits: Callable[[str], None]
) -> None:
    forced_digits("004271")
    api_client.post("/auth/email/activate/")
    assert last_code() == "004271"
    # The JSON number 4271 is not the code "004271" (nor any string).
    response = api_client.post("/auth/email/activate/confirm/", {"code": 4271})
    assert response.status_code == 400 and "code" in response.json()
    response = api_client.post("/auth/email/activate/confirm/", {"code": "004271"})
    assert response.status_code == 200


def test_generated_codes_are_six_uniform_ascii_digits() -> None:
    sample = [crypto.generate_numeric_code(6) for _ in range(10_000)]
    assert all(re.fullmatch(r"[0-9]{6}", c, flags=re.ASCII) for c in sample)
    leading_zero = sum(c[0] == "0" for c in sample)
    assert 850 < leading_zero < 1150  # 10% +- 5 sigma
    for position in range(6):
        counts = Counter(c[position] for c in sample)
        chi2 = sum((n - 1000) ** 2 / 1000 for n in counts.values())
        assert len(counts) == 10 and chi2 < 40  # 9 dof; p < 1e-5 above 40


def test_code_length_setting(method: MFAMethod, trench_auth: Callable[..., Any]) -> None:
    trench_auth(CODE_LENGTH=8)
    code = codes.issue_code(method, CodePurpose.ACTION, validity=300)
    assert re.fullmatch(r"[0-9]{8}", code)
    assert get_mfa_handler(method).is_well_formed(code)
    assert not get_mfa_handler(method).is_well_formed(code[:6])


def test_generators_never_use_the_random_module(
    monkeypatch: pytest.MonkeyPatch, method: MFAMethod
) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("random module used")

    for name in ("random", "randint", "choice", "choices", "randrange", "sample"):
        monkeypatch.setattr(random, name, boom)
    codes.issue_code(method, CodePurpose.LOGIN, validity=300)
    crypto.generate_string("abc", 12)


# --- storage --------------------------------------------------------------------------


def test_only_a_keyed_hash_is_stored(method: MFAMethod) -> None:
    code = codes.issue_code(method, CodePurpose.LOGIN, validity=300, challenge_id=7)
    row = OneTimeCode.objects.get()
    assert code not in row.code_hash
    assert row.code_hash != hashlib.sha256(code.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", row.code_hash)
    # Not a plain hash of any obvious composition either.
    for plain in (code, f"{method.pk}:login:{code}", f"{method.pk}{code}"):
        assert row.code_hash != hashlib.sha256(plain.encode()).hexdigest()
    assert codes.consume_code(method, CodePurpose.LOGIN, code, challenge_id=7)


def test_changing_secret_key_voids_outstanding_codes(
    user: Any, api_client: APIClient, settings: Any
) -> None:
    api_client.post("/auth/email/activate/")
    code = last_code()
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    response = api_client.post("/auth/email/activate/confirm/", {"code": code})
    assert_error(response, 400, "code_invalid_or_expired")
    assert not MFAMethod.objects.get(user=user).is_active


# --- expiry ---------------------------------------------------------------------------


@pytest.mark.parametrize(("elapsed", "ok"), [(299, True), (301, False)])
def test_activation_code_expires_after_validity_period(
    user: Any, api_client: APIClient, time_machine: Any, elapsed: int, ok: bool
) -> None:
    time_machine.move_to(WINDOW, tick=False)
    api_client.post("/auth/email/activate/")
    time_machine.shift(timedelta(seconds=elapsed))
    response = api_client.post("/auth/email/activate/confirm/", {"code": last_code()})
    if ok:
        assert response.status_code == 200
    else:
        assert_error(response, 400, "code_invalid_or_expired")


@pytest.mark.usefixtures("email_mfa_user")
@pytest.mark.parametrize(("elapsed", "ok"), [(299, True), (301, False)])
def test_login_code_expires_after_validity_period(
    anon_client: APIClient, flavour: Flavour, user: Any, time_machine: Any, elapsed: int, ok: bool
) -> None:
    time_machine.move_to(WINDOW, tick=False)
    token = start_login(anon_client, flavour, user)["ephemeral_token"]
    time_machine.shift(timedelta(seconds=elapsed))
    response = anon_client.post(flavour.code, {"ephemeral_token": token, "code": last_code()})
    if ok:
        assert response.status_code == 200
    else:
        assert_error(response, 401, "invalid_code")


def test_validity_period_setting_is_honoured(
    user: Any, api_client: APIClient, time_machine: Any, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(methods={"email": {"VALIDITY_PERIOD": 60}})
    time_machine.move_to(WINDOW, tick=False)
    api_client.post("/auth/email/activate/")
    row = OneTimeCode.objects.get()
    assert row.expires_at == WINDOW + timedelta(seconds=60)
    time_machine.shift(timedelta(seconds=61))
    response = api_client.post("/auth/email/activate/confirm/", {"code": last_code()})
    assert_error(response, 400, "code_invalid_or_expired")


# --- single use and voiding -----------------------------------------------------------


def test_code_is_single_use(method: MFAMethod) -> None:
    code = codes.issue_code(method, CodePurpose.ACTION, validity=300)
    assert codes.consume_code(method, CodePurpose.ACTION, code)
    assert not codes.consume_code(method, CodePurpose.ACTION, code)


def test_action_code_is_single_use_over_the_api(
    two_email_user: ActivatedUser, api_client: APIClient
) -> None:
    api_client.post("/auth/code/request/")
    code = last_code()
    url = "/auth/mfa/change-primary-method/"
    assert api_client.post(url, {"method": "email", "code": code}).status_code == 204
    response = api_client.post(url, {"method": "email2", "code": code})
    assert_error(response, 400, "code_invalid_or_expired")


def test_new_code_voids_the_previous(method: MFAMethod) -> None:
    first = codes.issue_code(method, CodePurpose.ACTION, validity=300)
    second = codes.issue_code(method, CodePurpose.ACTION, validity=300)
    if first != second:
        assert not codes.consume_code(method, CodePurpose.ACTION, first)
    assert codes.consume_code(method, CodePurpose.ACTION, second)
    assert OneTimeCode.objects.filter(consumed_at__isnull=True).count() == 0


def test_new_code_of_another_purpose_leaves_the_first_alive(method: MFAMethod) -> None:
    action = codes.issue_code(method, CodePurpose.ACTION, validity=300)
    codes.issue_code(method, CodePurpose.LOGIN, validity=300, challenge_id=1)
    assert codes.consume_code(method, CodePurpose.ACTION, action)


# --- binding --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issued", "used"),
    [
        (CodePurpose.ACTIVATION, CodePurpose.LOGIN),
        (CodePurpose.LOGIN, CodePurpose.ACTIVATION),
        (CodePurpose.ACTION, CodePurpose.LOGIN),
        (CodePurpose.LOGIN, CodePurpose.ACTION),
        (CodePurpose.ACTIVATION, CodePurpose.ACTION),
        (CodePurpose.ACTION, CodePurpose.ACTIVATION),
    ],
)
def test_code_is_bound_to_its_purpose(
    method: MFAMethod, issued: CodePurpose, used: CodePurpose
) -> None:
    code = codes.issue_code(method, issued, validity=300, challenge_id=1)
    assert not codes.consume_code(method, used, code, challenge_id=1)
    assert codes.consume_code(method, issued, code, challenge_id=1)


def test_code_is_bound_to_its_method(
    user: Any, user_factory: Callable[..., Any], method: MFAMethod
) -> None:
    other_method = MFAMethod.objects.create(user=user, name="email2", is_active=True)
    other_user = MFAMethod.objects.create(user=user_factory(), name="email", is_active=True)
    code = codes.issue_code(method, CodePurpose.ACTION, validity=300)
    assert not codes.consume_code(other_method, CodePurpose.ACTION, code)
    assert not codes.consume_code(other_user, CodePurpose.ACTION, code)
    assert codes.consume_code(method, CodePurpose.ACTION, code)


def test_activation_code_fails_at_login(
    email_mfa_user: ActivatedUser, anon_client: APIClient, flavour: Flavour, user: Any
) -> None:
    token = start_login(anon_client, flavour, user)["ephemeral_token"]
    login_code = last_code()
    method = MFAMethod.objects.get(user=user)
    activation_code = get_mfa_handler(method, purpose=CodePurpose.ACTIVATION).create_code()
    if activation_code != login_code:
        response = anon_client.post(
            flavour.code, {"ephemeral_token": token, "code": activation_code}
        )
        assert_error(response, 401, "invalid_code")
    response = anon_client.post(flavour.code, {"ephemeral_token": token, "code": login_code})
    assert response.status_code == 200


def test_login_code_fails_at_activation(user: Any, api_client: APIClient) -> None:
    api_client.post("/auth/email/activate/")
    activation_code = last_code()
    method = MFAMethod.objects.get(user=user)
    login_code = get_mfa_handler(method, purpose=CodePurpose.LOGIN).create_code()
    if login_code != activation_code:
        response = api_client.post("/auth/email/activate/confirm/", {"code": login_code})
        assert_error(response, 400, "code_invalid_or_expired")
    response = api_client.post("/auth/email/activate/confirm/", {"code": activation_code})
    assert response.status_code == 200


def test_action_code_of_another_method_fails_for_a_protected_action(
    two_email_user: ActivatedUser, api_client: APIClient
) -> None:
    api_client.post("/auth/code/request/", {"method": "email2"})
    code_of_email2 = last_code()
    response = api_client.post("/auth/email/codes/regenerate/", {"code": code_of_email2})
    assert_error(response, 400, "code_invalid_or_expired")
    response = api_client.post("/auth/email2/codes/regenerate/", {"code": code_of_email2})
    assert response.status_code == 200


def test_login_code_is_bound_to_its_login_challenge(
    email_mfa_user: ActivatedUser, anon_client: APIClient, flavour: Flavour, user: Any
) -> None:
    token_x = start_login(anon_client, flavour, user)["ephemeral_token"]
    token_y = start_login(anon_client, flavour, user)["ephemeral_token"]
    code_y = last_code()
    response = anon_client.post(flavour.code, {"ephemeral_token": token_x, "code": code_y})
    assert_error(response, 401, "invalid_code")
    # The failed try with X did not burn Y's code.
    response = anon_client.post(flavour.code, {"ephemeral_token": token_y, "code": code_y})
    assert response.status_code == 200


# --- attempts -------------------------------------------------------------------------


@pytest.mark.parametrize(("wrong_tries", "ok"), [(4, True), (5, False)])
def test_code_dies_after_max_code_attempts(
    user: Any, api_client: APIClient, wrong_tries: int, ok: bool
) -> None:
    api_client.post("/auth/email/activate/")
    code = last_code()
    for _ in range(wrong_tries):
        response = api_client.post("/auth/email/activate/confirm/", {"code": wrong(code)})
        assert_error(response, 400, "code_invalid_or_expired")
    assert OneTimeCode.objects.get().attempts == wrong_tries
    response = api_client.post("/auth/email/activate/confirm/", {"code": code})
    if ok:
        assert response.status_code == 200
    else:
        assert_error(response, 400, "code_invalid_or_expired")
        # A new code is needed, and works.
        api_client.post("/auth/email/activate/")
        response = api_client.post("/auth/email/activate/confirm/", {"code": last_code()})
        assert response.status_code == 200


def test_max_code_attempts_setting(method: MFAMethod, trench_auth: Callable[..., Any]) -> None:
    trench_auth(MAX_CODE_ATTEMPTS=2)
    code = codes.issue_code(method, CodePurpose.ACTION, validity=300)
    for _ in range(2):
        assert not codes.consume_code(method, CodePurpose.ACTION, wrong(code))
    assert not codes.consume_code(method, CodePurpose.ACTION, code)


def test_void_codes(method: MFAMethod) -> None:
    code = codes.issue_code(method, CodePurpose.ACTION, validity=300)
    assert codes.void_codes(method) == 1
    assert not codes.consume_code(method, CodePurpose.ACTION, code)
