"""RFC 4226 and RFC 6238 test vectors, run through the app method's verification.

Every vector goes through ``ApplicationMessageDispatcher.validate_code`` on a
real method row (encrypted seed, replay guard, frozen server clock), not
through pyotp alone. Values are the RFCs' own, verbatim.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import time_machine

from tests.support.app import SEEDS, handler_for
from trench_mfa.models import MFAMethod

# RFC 6238 Appendix B: (unix time, mode, 8-digit TOTP).
RFC6238 = [
    (59, "SHA1", "94287082"),
    (59, "SHA256", "46119246"),
    (59, "SHA512", "90693936"),
    (1111111109, "SHA1", "07081804"),
    (1111111109, "SHA256", "68084774"),
    (1111111109, "SHA512", "25091201"),
    (1111111111, "SHA1", "14050471"),
    (1111111111, "SHA256", "67062674"),
    (1111111111, "SHA512", "99943326"),
    (1234567890, "SHA1", "89005924"),
    (1234567890, "SHA256", "91819424"),
    (1234567890, "SHA512", "93441116"),
    (2000000000, "SHA1", "69279037"),
    (2000000000, "SHA256", "90698825"),
    (2000000000, "SHA512", "38618901"),
    (20000000000, "SHA1", "65353130"),
    (20000000000, "SHA256", "77737706"),
    (20000000000, "SHA512", "47863826"),
]

# RFC 4226 Appendix D, table 2: HOTP(count) with the SHA1 seed.
HOTP = [
    "755224",
    "287082",
    "359152",
    "969429",
    "338314",
    "254676",
    "287922",
    "162583",
    "399871",
    "520489",
]


@pytest.fixture
def sha1_method(app_method: Callable[..., MFAMethod]) -> MFAMethod:
    """An active ``app`` method with the RFCs' SHA1 seed."""
    return app_method(SEEDS["SHA1"])


@pytest.fixture
def window_zero(app_options: Callable[..., Any]) -> None:
    """``VALID_WINDOW=0``: only the current step verifies, as the RFC tables assume."""
    app_options(VALID_WINDOW=0)


@pytest.fixture
def vector_method(
    app_options: Callable[..., Any], app_method: Callable[..., MFAMethod]
) -> Callable[..., MFAMethod]:
    """``vector_method(mode, **options)``: the seed of ``mode`` under RFC 6238's settings.

    The algorithm is ``mode`` and the window zero, so that only the step of
    the vector's time verifies; ``options`` adds more (``DIGITS=8``).
    """

    def make(mode: str, **options: Any) -> MFAMethod:
        app_options(ALGORITHM=mode, VALID_WINDOW=0, **options)
        return app_method(SEEDS[mode])

    return make


@pytest.mark.parametrize(("at", "mode", "value"), RFC6238)
def test_rfc6238_eight_digit_vectors(
    at: int, mode: str, value: str, vector_method: Callable[..., MFAMethod]
) -> None:
    method = vector_method(mode, DIGITS=8)
    with time_machine.travel(at, tick=False):
        handler = handler_for(method)
        assert handler.current_step() == at // 30
        assert handler.validate_code(value) is True
        # The same step never verifies twice (replay guard).
        assert handler_for(method).validate_code(value) is False
    method.refresh_from_db()
    assert method.last_used_step == at // 30


@pytest.mark.parametrize(("at", "mode", "value"), RFC6238)
def test_rfc6238_six_digit_values(
    at: int, mode: str, value: str, vector_method: Callable[..., MFAMethod]
) -> None:
    # A 6-digit TOTP is the 8-digit value mod 10^6 (the derived table).
    method = vector_method(mode)
    with time_machine.travel(at, tick=False):
        assert handler_for(method).validate_code(value[-6:]) is True


def test_wrong_seed_length_gives_the_known_wrong_value(
    app_options: Callable[..., Any], app_method: Callable[..., MFAMethod]
) -> None:
    # The RFC erratum trap: SHA256 with the 20-byte seed gives 32247374 at t=59.
    app_options(DIGITS=8, ALGORITHM="SHA256", VALID_WINDOW=0)
    method = app_method(SEEDS["SHA1"])
    with time_machine.travel(59, tick=False):
        assert handler_for(method).validate_code("46119246") is False
        assert handler_for(method).validate_code("32247374") is True


@pytest.mark.parametrize(("count", "value"), list(enumerate(HOTP)))
@pytest.mark.usefixtures("window_zero")
def test_rfc4226_hotp_table_as_totp_steps(count: int, value: str, sha1_method: MFAMethod) -> None:
    # With SHA1, 6 digits and a 30 s step, TOTP(t) == HOTP(floor(t / 30)).
    with time_machine.travel(30 * count + 15, tick=False):
        handler = handler_for(sha1_method)
        assert handler.create_code() == value
        others = [v for i, v in enumerate(HOTP) if i != count and v != value]
        assert not any(handler_for(sha1_method).validate_code(v) for v in others)
        assert handler_for(sha1_method).validate_code(value) is True


def test_window_one_accepts_previous_current_and_next_step(
    app_method: Callable[..., MFAMethod],
) -> None:
    method = app_method(SEEDS["SHA1"])
    with time_machine.travel(59, tick=False):  # T = 1
        assert handler_for(method).validate_code(HOTP[3]) is False  # T + 2
        assert handler_for(method).validate_code(HOTP[0]) is True  # T - 1
        assert handler_for(method).validate_code(HOTP[1]) is True  # T
        assert handler_for(method).validate_code(HOTP[2]) is True  # T + 1
    method.refresh_from_db()
    assert method.last_used_step == 2


def test_window_one_rejects_two_steps_back(app_method: Callable[..., MFAMethod]) -> None:
    method = app_method(SEEDS["SHA1"])
    with time_machine.travel(30 * 5 + 1, tick=False):  # T = 5
        assert handler_for(method).validate_code(HOTP[3]) is False  # T - 2
        assert handler_for(method).validate_code(HOTP[7]) is False  # T + 2
        assert handler_for(method).validate_code(HOTP[4]) is True  # T - 1


@pytest.mark.parametrize(
    ("value", "accepted"), [(HOTP[0], False), (HOTP[1], True), (HOTP[2], False)]
)
@pytest.mark.usefixtures("window_zero")
def test_window_zero_accepts_only_the_current_step(
    value: str, accepted: bool, sha1_method: MFAMethod
) -> None:
    with time_machine.travel(59, tick=False):
        assert handler_for(sha1_method).validate_code(value) is accepted


def test_window_is_capped_at_one_step(
    app_options: Callable[..., Any], app_method: Callable[..., MFAMethod]
) -> None:
    # A misconfigured window (the system check reports it) never widens past ±1.
    app_options(VALID_WINDOW=5)
    method = app_method(SEEDS["SHA1"])
    with time_machine.travel(30 * 5 + 1, tick=False):
        assert handler_for(method).validate_code(HOTP[3]) is False
        assert handler_for(method).validate_code(HOTP[7]) is False


def test_older_step_fails_after_a_newer_one(app_method: Callable[..., MFAMethod]) -> None:
    method = app_method(SEEDS["SHA1"])
    with time_machine.travel(30 * 5 + 1, tick=False):
        assert handler_for(method).validate_code(HOTP[5]) is True  # T
        assert handler_for(method).validate_code(HOTP[4]) is False  # T - 1, older
        assert handler_for(method).validate_code(HOTP[5]) is False  # T again
        assert handler_for(method).validate_code(HOTP[6]) is True  # T + 1, newer


def test_clock_moved_back_does_not_reopen_used_steps(app_method: Callable[..., MFAMethod]) -> None:
    method = app_method(SEEDS["SHA1"])
    with time_machine.travel(30 * 5 + 1, tick=False):
        assert handler_for(method).validate_code(HOTP[5]) is True
    with time_machine.travel(30 * 4 + 1, tick=False):  # server clock one step back
        assert handler_for(method).validate_code(HOTP[4]) is False
        assert handler_for(method).validate_code(HOTP[5]) is False
        assert handler_for(method).validate_code(HOTP[3]) is False


def test_confirmation_uses_the_same_replay_guard(app_method: Callable[..., MFAMethod]) -> None:
    from trench_mfa.models import CodePurpose

    method = app_method(SEEDS["SHA1"], active=False)
    with time_machine.travel(59, tick=False):
        handler = handler_for(method, CodePurpose.ACTIVATION)
        assert handler.validate_confirmation_code(HOTP[1]) is True
        assert handler_for(method).validate_code(HOTP[1]) is False


def test_rfc6238_step_beyond_32_bits_is_stored(
    app_options: Callable[..., Any], app_method: Callable[..., MFAMethod]
) -> None:
    # t = 20000000000 does not fit in 32 bits (RFC 6238 §4.2); T is 0x27BC86AA.
    app_options(DIGITS=8, VALID_WINDOW=0)
    method = app_method(SEEDS["SHA1"])
    with time_machine.travel(20000000000, tick=False):
        assert handler_for(method).validate_code("65353130") is True
    method.refresh_from_db()
    assert method.last_used_step == 0x27BC86AA
