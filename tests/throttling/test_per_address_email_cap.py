"""Emails to one address are capped, whatever asks for them (mail bombing).

Sign-ups, verification requests, activations and login codes all count
against one quota per address (``EMAIL_MAX_PER_ADDRESS`` in any sliding
hour), across users, like SMS per number. Mail goes over real SMTP to a
loopback server. A sign-up over the cap answers exactly as any other
sign-up and simply sends nothing; the endpoints that send on request answer
``429`` as the per-number SMS cap does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.conftest import assert_error, has_user_field
from tests.support.smtp import Mailbox
from tests.support.throttling import T0
from trench_mfa.models import SendQuota
from trench_mfa.services import identifiers

pytestmark = pytest.mark.django_db

VICTIM = "victim@example.com"
SIGN_UP = "/auth/users/"
REQUEST = "/auth/verification/request/"
CAP = 3

needs_shared_addresses = pytest.mark.skipif(
    not has_user_field("username"),
    reason="the email address is this user model's unique login: one sign-up per address",
)


@pytest.fixture
def set_cap(flows_config: Callable[..., Any]) -> Callable[..., None]:
    """``set_cap(cap, **settings)``: ``EMAIL_MAX_PER_ADDRESS`` ``cap``, and ``settings``."""

    def configure(cap: int | None, **settings: Any) -> None:
        # Only the per-address cap limits here: no cooldown or per-method limit.
        flows_config(EMAIL_MAX_PER_ADDRESS=cap, RESEND_COOLDOWN=0, SEND_LIMIT=None, **settings)

    return configure


@pytest.fixture(autouse=True)
def _cap(set_cap: Callable[..., None], mailbox: Mailbox) -> None:
    set_cap(CAP)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    """A frozen clock at :data:`T0`."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sign_up(django_capture_on_commit_callbacks: Any) -> Callable[[str, str], Any]:
    """``sign_up(username, email)``: djoser's sign-up, its on-commit sends run."""

    def post(username: str, email: str) -> Any:
        body = {"username": username, "email": email, "password": "a-long-sign-up-passphrase"}
        with django_capture_on_commit_callbacks(execute=True):
            response = APIClient().post(SIGN_UP, body)
        assert response.status_code == 201, response.content
        return response

    return post


def delivered_to(mailbox: Mailbox, address: str) -> int:
    """How many messages the SMTP server accepted for ``address``."""
    return sum(1 for to in mailbox.recipients if to.casefold() == address.casefold())


@needs_shared_addresses
def test_sign_ups_with_one_address_send_at_most_the_cap(
    sign_up: Callable[[str, str], Any], mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="trench_mfa.identifiers"):
        responses = [sign_up(f"squatter{n}", VICTIM) for n in range(2 * CAP)]
    assert delivered_to(mailbox, VICTIM) == CAP == len(mailbox.messages)
    # Over the cap the sign-up answers as before: nothing tells it apart.
    bodies = [{k: v for k, v in r.json().items() if k not in ("id", "username")} for r in responses]
    assert bodies == [{"email": VICTIM}] * len(responses)
    assert {tuple(sorted(r.json())) for r in responses} == {("email", "id", "username")}
    # The unsent codes are logged by reason, never with the address.
    skipped = [r.getMessage() for r in caplog.records if "No verification code" in r.getMessage()]
    assert len(skipped) == CAP and all("throttled" in line for line in skipped)
    assert not any("victim" in r.getMessage() for r in caplog.records)


@needs_shared_addresses
@pytest.mark.parametrize(
    "spellings",
    [
        pytest.param(
            [
                "victim@example.com",
                "Victim@Example.COM",
                "victim+news@example.com",
                "VICTIM+x@example.com",
            ],
            id="case-and-plus-tags",
        ),
        pytest.param(
            [
                '"victim"@éxample.com',
                '"v\\ictim"@xn--xample-9ua.com',
                "victim@ÉXAMPLE.com",
                "victim@xn--xample-9ua.com",
                '"vi\\ctim+tag"@éxample.com',
            ],
            id="quoted-and-internationalised",
        ),
    ],
)
def test_spellings_of_one_mailbox_share_its_cap(
    sign_up: Callable[[str, str], Any], mailbox: Mailbox, spellings: list[str]
) -> None:
    for n, spelling in enumerate(spellings):
        sign_up(f"squatter{n}", spelling)
    assert len(mailbox.messages) == CAP


@needs_shared_addresses
def test_the_quota_row_holds_no_address(
    sign_up: Callable[[str, str], Any], mailbox: Mailbox
) -> None:
    sign_up("squatter", VICTIM)
    (row,) = SendQuota.objects.all()
    assert "victim" not in repr(row.__dict__) and "example" not in repr(row.__dict__)


def test_verification_requests_are_capped_across_users(
    user_factory: Callable[..., Any], client_for: Callable[[Any], APIClient], mailbox: Mailbox
) -> None:
    # One account per request (the sign-ups' own sends do not run here: no
    # commit): the cap is per address, not per user, and sees past +tags.
    statuses = []
    for n in range(2 * CAP):
        squatter = user_factory(username=f"squatter{n}", email=f"victim+{n}@example.com")
        response = client_for(squatter).post(REQUEST, {"field": "email"})
        statuses.append(response.status_code)
        if response.status_code == 429:
            # What the per-number SMS cap answers: 429, retry_after and Retry-After.
            assert_error(response, 429, "throttled")
            assert set(response.json()) == {"error", "error_code", "retry_after"}
            assert response["Retry-After"] == str(response.json()["retry_after"])
    assert statuses == [200] * CAP + [429] * CAP
    assert len(mailbox.messages) == CAP


@needs_shared_addresses
def test_different_addresses_have_their_own_caps(
    sign_up: Callable[[str, str], Any], mailbox: Mailbox
) -> None:
    for n in range(2 * CAP):
        sign_up(f"a{n}", "first@example.com")
        sign_up(f"b{n}", "second@example.com")
    assert delivered_to(mailbox, "first@example.com") == CAP
    assert delivered_to(mailbox, "second@example.com") == CAP


@needs_shared_addresses
def test_the_window_passing_allows_mail_again(
    sign_up: Callable[[str, str], Any], mailbox: Mailbox, clock: time_machine.Coordinates
) -> None:
    for n in range(CAP + 1):
        sign_up(f"early{n}", VICTIM)
    assert len(mailbox.messages) == CAP
    clock.shift(timedelta(seconds=3599))  # the first sends are still inside the hour
    sign_up("late0", VICTIM)
    assert len(mailbox.messages) == CAP
    clock.shift(timedelta(seconds=1))  # a full hour after them
    sign_up("late1", VICTIM)
    assert len(mailbox.messages) == CAP + 1


def test_sign_up_verification_activation_and_login_share_one_cap(
    set_cap: Callable[..., None],
    user_factory: Callable[..., Any],
    client_for: Callable[[Any], APIClient],
    mailbox: Mailbox,
    django_capture_on_commit_callbacks: Any,
) -> None:
    set_cap(5, flows=[("email", "passcode")])
    # 1: the sign-up's verification code.
    with django_capture_on_commit_callbacks(execute=True):
        owner = user_factory(username="owner", email=VICTIM)
    client = client_for(owner)
    # 2: a verification code on request; confirming it sends nothing.
    assert client.post(REQUEST, {"field": "email"}).status_code == 200
    code = mailbox.last_code()
    assert client.post("/auth/verification/email/confirm/", {"code": code}).status_code == 200
    # 3: activating the email method; 4: a protected-action code.
    assert client.post("/auth/email/activate/").status_code == 200
    confirm = {"code": mailbox.last_code()}
    assert client.post("/auth/email/activate/confirm/", confirm).status_code == 200
    assert client.post("/auth/code/request/", {"method": "email"}).status_code == 200
    # 5: a passwordless login's code.
    assert APIClient().post("/auth/token/login/", {"email": VICTIM}).status_code == 200
    assert len(mailbox.messages) == 5
    # The quota is used up for every kind of message, for the owner and anyone else.
    assert_error(APIClient().post("/auth/token/login/", {"email": VICTIM}), 429, "throttled")
    assert_error(client.post("/auth/code/request/", {"method": "email"}), 429, "throttled")
    with django_capture_on_commit_callbacks(execute=True):
        user_factory(username="squatter", email=VICTIM.upper())
    assert len(mailbox.messages) == 5
    assert identifiers.is_confirmed(owner, "email")


def test_no_cap_when_turned_off(
    set_cap: Callable[..., None], user: Any, api_client: APIClient, mailbox: Mailbox
) -> None:
    set_cap(None)
    statuses = [api_client.post(REQUEST, {"field": "email"}).status_code for _ in range(CAP + 3)]
    assert statuses == [200] * (CAP + 3)
    assert not SendQuota.objects.exists()


def test_a_passwordless_login_over_the_cap_looks_the_same_for_an_unknown_address(
    set_cap: Callable[..., None],
    verified_user: Any,
    mailbox: Mailbox,
    clock: time_machine.Coordinates,
) -> None:
    set_cap(1, flows=[("email", "passcode")])
    client = APIClient()
    known, unknown = verified_user.email, "nobody@example.com"
    first = [client.post("/auth/token/login/", {"email": a}) for a in (known, unknown)]
    assert [r.status_code for r in first] == [200, 200]
    second = [client.post("/auth/token/login/", {"email": a}) for a in (known, unknown)]
    assert [r.status_code for r in second] == [429, 429]
    assert second[0].json() == second[1].json()
    assert mailbox.recipients == [known]
