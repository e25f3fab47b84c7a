"""Backup codes: settings, shown once, salted slow hash, normalisation, cost, single use."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import hashers
from rest_framework.test import APIClient

from tests.conftest import (
    ActivatedUser,
    Flavour,
    activate,
    assert_error,
    credentials,
    last_code,
    start_login,
)
from trench_mfa.conf import BACKUP_CODE_ALPHABET
from trench_mfa.models import BackupCode, LoginChallenge, MFAMethod
from trench_mfa.state import backup_codes, crypto

pytestmark = pytest.mark.django_db


@pytest.fixture
def hash_spy(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count slow-hash calls made by the backup-code service."""
    calls = {"check_password": 0, "make_password": 0}

    def counting(name: str) -> Callable[..., Any]:
        real = getattr(hashers, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return real(*args, **kwargs)

        return wrapper

    for name in calls:
        monkeypatch.setattr(backup_codes, name, counting(name))
    return calls


def login_with(client: APIClient, flavour: Flavour, user: Any, code: str) -> Any:
    """Start a login and answer step 2 with ``code``."""
    token = start_login(client, flavour, user)["ephemeral_token"]
    return client.post(flavour.code, {"ephemeral_token": token, "code": code})


def wrong_code_outside_buckets(user: Any) -> str:
    """A well-formed code whose bucket holds none of the user's codes."""
    taken = set(BackupCode.objects.filter(user=user).values_list("bucket", flat=True))
    while True:
        code = crypto.generate_string(BACKUP_CODE_ALPHABET, 12)
        if backup_codes._bucket(code) not in taken:
            return code


# --- settings -------------------------------------------------------------------------


def test_default_set(email_mfa_user: ActivatedUser) -> None:
    _, codes = email_mfa_user
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(c) == 12 and set(c) <= set(BACKUP_CODE_ALPHABET) for c in codes)
    assert 12 * math.log2(len(BACKUP_CODE_ALPHABET)) >= 50


def test_count_length_and_alphabet_settings(
    user: Any,
    api_client: APIClient,
    anon_client: APIClient,
    trench_auth: Callable[..., Any],
    flavour: Flavour,
) -> None:
    trench_auth(
        BACKUP_CODES_QUANTITY=4, BACKUP_CODES_LENGTH=16, BACKUP_CODES_CHARACTERS="ABCDEF0123456789"
    )
    codes = activate(api_client)
    assert len(codes) == 4 and len(set(codes)) == 4
    assert all(len(c) == 16 and set(c) <= set("ABCDEF0123456789") for c in codes)
    assert BackupCode.objects.filter(user=user).count() == 4
    # Upper-case alphabet: lower-case input is folded to it.
    assert login_with(anon_client, flavour, user, codes[1].lower()).status_code == 200


# --- shown once, stored hashed --------------------------------------------------------


def test_codes_are_shown_only_by_confirm_and_regenerate(
    email_mfa_user: ActivatedUser,
    api_client: APIClient,
    anon_client: APIClient,
    flavour: Flavour,
) -> None:
    user, codes = email_mfa_user
    responses = [
        api_client.get("/auth/mfa/user-active-methods/"),
        api_client.get("/auth/mfa/config/"),
        api_client.post("/auth/code/request/"),
        anon_client.post(flavour.login, credentials(user, "x")),
        login_with(anon_client, flavour, user, codes[0]),
    ]
    for response in responses:
        text = response.content.decode()
        assert not [c for c in codes if c in text]
    stored = list(BackupCode.objects.values_list("code_hash", "bucket"))
    assert not [c for c in codes for row in stored if c in row[0] or c in row[1]]


def test_codes_are_stored_with_the_hasher_prefix(
    real_hashers: None, user: Any, api_client: APIClient
) -> None:
    codes = activate(api_client)
    rows = list(BackupCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert len(rows) == len(codes) == 10
    assert all(r.startswith("pbkdf2_sha256$") for r in rows)


def test_same_code_stored_twice_gives_different_hashes(
    user: Any, monkeypatch: pytest.MonkeyPatch, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(BACKUP_CODES_QUANTITY=1)
    monkeypatch.setattr(crypto, "generate_string", lambda alphabet, length: "abcdefghjkmn")
    assert backup_codes.replace_backup_codes(user.pk) == ["abcdefghjkmn"]
    first = BackupCode.objects.get(user=user).code_hash
    assert backup_codes.replace_backup_codes(user.pk) == ["abcdefghjkmn"]
    second = BackupCode.objects.get(user=user).code_hash
    assert first != second
    assert hashers.check_password("abcdefghjkmn", first)
    assert hashers.check_password("abcdefghjkmn", second)


def test_backup_codes_hasher_setting(user: Any, trench_auth: Callable[..., Any]) -> None:
    trench_auth(BACKUP_CODES_HASHER="md5")
    backup_codes.replace_backup_codes(user.pk)
    assert all(h.startswith("md5$") for h in BackupCode.objects.values_list("code_hash", flat=True))


# --- normalisation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("abcd0123efgh", "abcd0123efgh"),
        ("ABCD0123EFGH", "abcd0123efgh"),
        ("abcd-0123-efgh", "abcd0123efgh"),
        ("abcd 0123 efgh", "abcd0123efgh"),
        ("  abcd0123efgh\n", "abcd0123efgh"),
        ("abcdO123efgh", "abcd0123efgh"),
        ("abcdo123efgh", "abcd0123efgh"),
        ("abcd0i23efgh", "abcd0123efgh"),
        ("abcd0I23efgh", "abcd0123efgh"),
        ("abcd0l23efgh", "abcd0123efgh"),
        ("ABCD-OL23 EFGH", "abcd0123efgh"),
    ],
)
def test_normalisation_rule(raw: str, normalised: str) -> None:
    assert backup_codes.normalise_backup_code(raw) == normalised


def test_normalised_forms_log_in(
    email_mfa_user: ActivatedUser,
    anon_client: APIClient,
    user: Any,
    flavour: Flavour,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Codes that contain both 0 and 1, so the look-alike rule is exercised.
    real = crypto.generate_string
    monkeypatch.setattr(crypto, "generate_string", lambda a, n: "01" + real(a, n - 2))
    code = backup_codes.replace_backup_codes(user.pk)[0]
    typed = "-".join([code[:4], code[4:8], code[8:]]).upper().replace("0", "O").replace("1", "l")
    response = login_with(anon_client, flavour, user, f"  {typed} ")
    assert response.status_code == 200
    # The same code, typed again in its canonical form, is used up.
    assert_error(login_with(anon_client, flavour, user, code), 401, "invalid_code")


# --- cost and limits ------------------------------------------------------------------


def test_wrong_code_costs_no_slow_hash_and_a_right_one_exactly_one(
    email_mfa_user: ActivatedUser,
    anon_client: APIClient,
    flavour: Flavour,
    hash_spy: dict[str, int],
) -> None:
    user, codes = email_mfa_user
    wrong = wrong_code_outside_buckets(user)
    assert_error(login_with(anon_client, flavour, user, wrong), 401, "invalid_code")
    assert hash_spy["check_password"] == 0
    assert login_with(anon_client, flavour, user, codes[5]).status_code == 200
    assert hash_spy == {"check_password": 1, "make_password": 0}


def test_six_digit_code_never_reaches_the_backup_hasher(
    email_mfa_user: ActivatedUser,
    anon_client: APIClient,
    flavour: Flavour,
    hash_spy: dict[str, int],
) -> None:
    user, _ = email_mfa_user
    token = start_login(anon_client, flavour, user)["ephemeral_token"]
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    anon_client.post(flavour.code, {"ephemeral_token": token, "code": wrong})
    assert (
        anon_client.post(flavour.code, {"ephemeral_token": token, "code": code}).status_code == 200
    )
    assert hash_spy["check_password"] == 0


@pytest.mark.parametrize("size", [65, 129, 1_000_000])
def test_long_input_is_refused_before_hashing(
    email_mfa_user: ActivatedUser,
    anon_client: APIClient,
    api_client: APIClient,
    user: Any,
    flavour: Flavour,
    hash_spy: dict[str, int],
    size: int,
) -> None:
    huge = "a" * size
    started = time.perf_counter()
    token = start_login(anon_client, flavour, user)["ephemeral_token"]
    response = anon_client.post(flavour.code, {"ephemeral_token": token, "code": huge})
    assert_error(response, 401, "invalid_code")
    response = api_client.post("/auth/email/deactivate/", {"code": huge})
    assert_error(response, 400, "invalid_input", "Code invalid or expired.")
    assert time.perf_counter() - started < 2.0
    assert hash_spy == {"check_password": 0, "make_password": 0}
    assert BackupCode.objects.filter(user=user, used_at__isnull=True).count() == 10
    # Malformed input counts nothing: the token still logs in with the right code.
    assert LoginChallenge.objects.get().failed_attempts == 0
    method = MFAMethod.objects.get(user=user, name="email")
    assert method.is_active and method.failure_count == 0
    response = anon_client.post(flavour.code, {"ephemeral_token": token, "code": last_code()})
    assert response.status_code == 200, response.content


def test_max_input_length_is_checked_before_normalising(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(raw: str) -> str:
        raise AssertionError("normalised")

    monkeypatch.setattr(backup_codes, "normalise_backup_code", boom)
    assert not backup_codes.is_well_formed("a" * 65)
    assert not backup_codes.use_backup_code(1, "a" * 65)


# --- single use, per user -------------------------------------------------------------


def test_each_code_works_once(email_mfa_user: ActivatedUser, user: Any) -> None:
    _, codes = email_mfa_user
    assert backup_codes.use_backup_code(user.pk, codes[0])
    assert not backup_codes.use_backup_code(user.pk, codes[0])
    assert backup_codes.remaining_backup_codes(user.pk) == 9
    assert BackupCode.objects.filter(user=user, used_at__isnull=False).count() == 1


def test_codes_belong_to_their_user(
    email_mfa_user: ActivatedUser, user_factory: Callable[..., Any]
) -> None:
    _, codes = email_mfa_user
    other = user_factory()
    backup_codes.replace_backup_codes(other.pk)
    assert not backup_codes.use_backup_code(other.pk, codes[0])


def test_first_method_returns_the_set_and_the_second_none(
    two_email_user: ActivatedUser, user: Any
) -> None:
    _, codes = two_email_user
    assert len(codes) == 10
    assert BackupCode.objects.filter(user=user).count() == 10


# --- read along with the login challenge (login step 2) --------------------------------


def test_a_prefetched_candidate_of_another_bucket_is_not_trusted(
    email_mfa_user: ActivatedUser, user: Any
) -> None:
    _, codes = email_mfa_user
    elsewhere = backup_codes.BackupCandidate("zzzzz", None, None)
    # The candidate was read for another code: the check reads its own.
    assert backup_codes.use_backup_code(user.pk, codes[0], elsewhere)


def test_an_empty_prefetched_bucket_refuses_without_a_read(
    email_mfa_user: ActivatedUser, user: Any, django_assert_num_queries: Any
) -> None:
    _, codes = email_mfa_user
    bucket = backup_codes.bucket_of(codes[0])
    assert bucket is not None
    with django_assert_num_queries(0):
        assert not backup_codes.use_backup_code(
            user.pk, codes[0], backup_codes.BackupCandidate(bucket, None, None)
        )
    assert backup_codes.remaining_backup_codes(user.pk) == 10


def test_another_users_code_fails_at_login_step_two(
    email_mfa_user: ActivatedUser,
    user_factory: Callable[..., Any],
    client_for: Callable[[Any], APIClient],
    flavour: Flavour,
) -> None:
    _, codes = email_mfa_user
    other = user_factory()
    assert len(activate(client_for(other))) == 10
    response = login_with(APIClient(), flavour, other, codes[0])
    assert_error(response, 401, "invalid_code")
    assert backup_codes.remaining_backup_codes(other.pk) == 10


def test_a_backup_code_resets_failures_but_is_not_a_use_of_the_method(
    email_mfa_user: ActivatedUser, user: Any, flavour: Flavour
) -> None:
    _, codes = email_mfa_user
    client = APIClient()
    assert login_with(client, flavour, user, "000000").status_code == 401
    method = MFAMethod.objects.get(user=user, name="email")
    assert method.failure_count == 1 and method.last_used_at is None
    response = login_with(client, flavour, user, codes[0])
    assert response.status_code == 200, response.content
    method.refresh_from_db()
    assert (method.failure_count, method.last_failure_at, method.last_used_at) == (0, None, None)
    assert BackupCode.objects.get(user=user, used_at__isnull=False).used_at is not None
