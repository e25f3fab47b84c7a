"""``trench_mfa.login.amr``: RFC 8176 values for what a login verified."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from tests.jwt_claims.conftest import NOW_TS
from tests.support.sms_outbox import OUTBOX
from trench_mfa.backends.email import EmailMessageDispatcher
from trench_mfa.login.amr import VerifiedFactor, amr_values, is_multi_factor, token_claims

PASSWORD = VerifiedFactor.secret("password")
HARDCODE = VerifiedFactor.secret("hardcode")


class FaceDispatcher(EmailMessageDispatcher):
    """A custom method that names its own amr values."""

    amr_values: ClassVar[tuple[str, ...]] = ("face", "mfa")


class CarelessDispatcher(EmailMessageDispatcher):
    """A custom method that wrote a string where a tuple belongs."""

    amr_values = "swk"  # type: ignore[assignment]


@pytest.fixture(autouse=True)
def _methods(trench_auth: Callable[..., Any]) -> None:
    handler = "tests.jwt_claims.test_amr."
    trench_auth(
        methods={
            "sms": OUTBOX,
            "yubi": {"HANDLER": "trench_mfa.backends.yubikey.YubiKeyMessageDispatcher"},
            "face": {"HANDLER": handler + "FaceDispatcher", "SOURCE_FIELD": "email"},
            "careless": {"HANDLER": handler + "CarelessDispatcher", "SOURCE_FIELD": "email"},
        }
    )


@pytest.mark.parametrize(
    ("factors", "expected"),
    [
        ([PASSWORD], ["pwd"]),
        ([PASSWORD, HARDCODE], ["pwd", "pin"]),
        ([PASSWORD, VerifiedFactor.code("email")], ["pwd", "otp", "mfa"]),
        ([PASSWORD, VerifiedFactor.code("app")], ["pwd", "otp", "mfa"]),
        ([PASSWORD, VerifiedFactor.code("sms")], ["pwd", "otp", "sms", "mfa"]),
        ([PASSWORD, VerifiedFactor.code("yubi")], ["pwd", "hwk", "otp", "mfa"]),
        ([PASSWORD, VerifiedFactor.code("yubi", backup_code=True)], ["pwd", "otp", "mfa"]),
        ([VerifiedFactor.code("email")], ["otp"]),
        ([VerifiedFactor.code("email"), VerifiedFactor.code("app")], ["otp", "mfa"]),
        ([HARDCODE, VerifiedFactor.code("sms")], ["pin", "otp", "sms", "mfa"]),
        ([PASSWORD, VerifiedFactor.code("face")], ["pwd", "face", "mfa"]),
        ([VerifiedFactor.code("face")], ["face"]),  # "mfa" is never the dispatcher's call
        ([PASSWORD, VerifiedFactor.code("careless")], ["pwd", "swk", "mfa"]),
    ],
)
def test_amr_values(factors: list[VerifiedFactor], expected: list[str]) -> None:
    assert amr_values(factors) == expected


def test_two_knowledge_secrets_are_not_multi_factor() -> None:
    assert not is_multi_factor([PASSWORD, HARDCODE])
    assert is_multi_factor([HARDCODE, VerifiedFactor.code("sms")])


def test_claims_carry_mfa_at_only_after_a_code() -> None:
    assert token_claims([PASSWORD]) == {"amr": ["pwd"]}
    assert token_claims([PASSWORD, HARDCODE]) == {"amr": ["pwd", "pin"]}
    assert token_claims([PASSWORD, VerifiedFactor.code("email")]) == {
        "amr": ["pwd", "otp", "mfa"],
        "mfa_at": NOW_TS,
    }
    at = datetime(2030, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    assert token_claims([VerifiedFactor.code("email")], now=at)["mfa_at"] == 1893553445


def test_nothing_verified_gives_no_claims() -> None:
    assert token_claims([]) == {}


@pytest.mark.parametrize(
    "factor",
    [
        VerifiedFactor.code("email"),
        VerifiedFactor.code("yubi", backup_code=True),
        VerifiedFactor.code("a:b"),
    ],
)
def test_done_entries_round_trip(factor: VerifiedFactor) -> None:
    assert VerifiedFactor.from_done(factor.as_done()) == factor


def test_done_entry_of_a_plain_code_is_the_method_name() -> None:
    # LoginChallenge.done keeps listing method names for codes of the method.
    assert VerifiedFactor.code("email").as_done() == "email"
    assert VerifiedFactor.code("yubi", backup_code=True).as_done() == "yubi:backup_code"
