"""A decoy walks the real state machine: no sequence of requests tells it from a real login.

Two worlds take the same random sequence of actions at the same frozen
instants: in one the identifier belongs to an account with a confirmed
address, in the other it belongs to nobody. Step 1 (again and again, which
re-binds the live code to the newest token, and in another spelling), wrong
and malformed codes on any token, a code answered under another method's
name, resends on any token and clock jumps must give both worlds the same
statuses, error codes and bodies (the tokens aside) and the same
``retry_after``: resend cooldown, send limit, per-number cap, back-off,
lockout and the attempt caps of codes and tokens all included.

Hypothesis runs a fixed number of derandomized examples (no example
database), so every run checks the same sequences; ``pytest
--hypothesis-show-statistics`` lists which answers they reached.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import time_machine
from django.core import mail
from hypothesis import event, example, given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from tests.conftest import FLAVOURS, Flavour
from tests.support import sms_outbox as outbox
from tests.support.hypothesis import fuzz_settings
from trench_mfa.services import identifiers

#: Rule sets the sequences run under. ``defaults``: the package's defaults
#: with the back-off on. ``tight``: limits a short sequence reaches (a
#: token's attempt cap, the send limit, the per-number cap first for SMS,
#: the lockout). ``no back-off``: the lockout comes quickly.
TIGHT = {
    "THROTTLE_FACTOR": 1,
    "LOCKOUT_THRESHOLD": 5,
    "LOCKOUT_DURATION": 120,
    "MAX_CODE_ATTEMPTS": 3,
    "RESEND_COOLDOWN": 30,
    "SEND_LIMIT": 4,
    "SEND_LIMIT_WINDOW": 300,
    "SMS_MAX_PER_NUMBER": 3,
}
RULES: dict[str, dict[str, Any]] = {
    "defaults": {"THROTTLE_FACTOR": 1},
    "tight": TIGHT,
    "no back-off": {**TIGHT, "THROTTLE_FACTOR": 0, "LOCKOUT_THRESHOLD": 3, "MAX_CODE_ATTEMPTS": 5},
}
START = "2026-03-02 09:00:00+00:00"
#: ``retry_after`` may differ by this many seconds (rounding at a boundary).
TOLERANCE = 1

Action = tuple[Any, ...]

token_index = st.integers(min_value=0, max_value=3)
#: Mostly short waits (inside back-off and cooldown), some past the windows.
seconds = st.one_of(
    st.integers(min_value=1, max_value=20), st.sampled_from([31, 61, 121, 301, 601, 3601])
)
wrong = st.tuples(st.just("wrong"), token_index)
wait = st.tuples(st.just("wait"), seconds)
#: Wrong codes and waits weigh double: the lockout needs several of them.
action = st.one_of(
    st.just(("login",)),
    st.just(("login", "other spelling")),
    wrong,
    wrong,
    st.tuples(st.just("malformed"), token_index),
    st.tuples(st.just("other_method"), token_index),
    st.tuples(st.just("resend"), token_index),
    wait,
    wait,
)
#: Every generated sequence starts with a step 1, so tokens exist early.
sequence = st.lists(action, min_size=12, max_size=40).map(lambda rest: [("login",), *rest])

#: Two step 1s for one address, five wrong codes on the first token while
#: waiting out the back-off, then a resend on the second token: the live code
#: (re-bound to the second token and never tried with it) is inside its
#: cooldown, so a real account answers 429 ``throttled``.
FIVE_WRONG_THEN_RESEND: list[Action] = [
    ("login",),
    ("login",),
    ("wrong", 0),
    ("wait", 1),
    ("wrong", 0),
    ("wait", 2),
    ("wrong", 0),
    ("wait", 4),
    ("wrong", 0),
    ("wait", 8),
    ("wrong", 0),
    ("resend", 1),
]
#: Two step 1s, then a resend on the first token: a real account re-binds
#: the live code to that token without a send; the decoy must do the same.
RESEND_ON_THE_FIRST_TOKEN: list[Action] = [("login",), ("login",), ("resend", 0)]

_numbers = itertools.count(1)


@dataclass
class World:
    """One identifier and the tokens step 1 gave for it, in order."""

    flavour: Flavour
    field: str
    value: str
    tokens: list[str] = field(default_factory=list)

    def post(self, url: str, body: dict[str, Any]) -> Any:
        """A request from a fresh anonymous client."""
        return APIClient().post(url, body)

    def spelling(self, variant: bool) -> str:
        """The identifier, or another spelling of it (upper case for an address)."""
        return self.value.upper() if variant and self.field == "email" else self.value

    def act(self, action: Action, wrong_code: str) -> Any:
        """Apply one action other than ``wait``; the response, or ``None`` when skipped."""
        kind = action[0]
        if kind == "login":
            value = self.spelling(len(action) > 1)
            response = self.post(self.flavour.login, {self.field: value})
            if response.status_code == 200:
                self.tokens.append(response.json()["ephemeral_token"])
            return response
        if not self.tokens:
            return None
        token = self.tokens[action[1] % len(self.tokens)]
        if kind == "resend":
            return self.post(self.flavour.resend, {"ephemeral_token": token})
        body = {"ephemeral_token": token, "code": wrong_code}
        if kind == "malformed":
            body["code"] = "12ab"
        elif kind == "other_method":
            body["method"] = "app"
        return self.post(self.flavour.code, body)


def seen(response: Any) -> dict[str, Any]:
    """What a client can compare: status, error code, body (token aside), ``retry_after``."""
    if response is None:
        return {"status": None}
    body = response.json()
    assert isinstance(body, dict), body
    retry_after = body.pop("retry_after", None)
    if "ephemeral_token" in body:
        body["ephemeral_token"] = "<token>"
    return {
        "status": response.status_code,
        "error_code": body.get("error_code"),
        "keys": sorted(body),
        "body": body,
        "retry_after": retry_after,
        "Retry-After": response.get("Retry-After"),
    }


def assert_alike(known: dict[str, Any], unknown: dict[str, Any], step: int) -> None:
    """Equal in everything; ``retry_after`` (and its header) within :data:`TOLERANCE`."""
    for name in ("retry_after", "Retry-After"):
        a, b = known.pop(name, None), unknown.pop(name, None)
        assert (a is None) == (b is None), (step, name, a, b)
        if a is not None:
            assert abs(int(a) - int(b)) <= TOLERANCE, (step, name, a, b)
    assert known == unknown, step


def codes_sent_to(value: str) -> set[str]:
    """Every code mailed or texted to ``value`` so far."""
    texts = [m.body for m in mail.outbox if value in m.to]
    texts += [text for to, text in outbox.sent if to == value]
    return {code for text in texts for code in re.findall(r"\b[0-9]{6}\b", text)}


def a_wrong_code(value: str) -> str:
    """A well-formed code that was never sent to ``value``."""
    sent = codes_sent_to(value)
    return next(c for c in (f"{n:06d}" for n in range(0, 10**6, 111111)) if c not in sent)


@pytest.fixture
def make_worlds(user_factory: Callable[..., Any]) -> Callable[[str], tuple[World, World]]:
    """``make_worlds(channel)``: a confirmed account's world and an unknown one, both fresh.

    One login flavour: the decoy path below the views is the same for both
    (tests/flows/test_enumeration.py compares decoys in each flavour).
    """
    flavour = FLAVOURS[0]

    def make(channel: str) -> tuple[World, World]:
        # Hypothesis runs every example in one test: start each one clean.
        mail.outbox.clear()
        outbox.sent.clear()
        n = next(_numbers)
        email, phone = f"known{n}@example.com", f"+48600{100000 + n:06d}"
        account = user_factory(username=f"known{n}", email=email, phone_number=phone)
        identifiers.mark_confirmed(account, "email")
        identifiers.mark_confirmed(account, "phone_number")
        if channel == "email":
            return (
                World(flavour, "email", email),
                World(flavour, "email", f"unknown{n}@example.com"),
            )
        return (
            World(flavour, "phone_number", phone),
            World(flavour, "phone_number", f"+48600{900000 - n:06d}"),
        )

    return make


@pytest.fixture
def configure(flows_config: Callable[..., Any], no_login_throttle: None) -> Callable[[str], None]:
    """``configure(rules)``: passwordless flows by email and by phone, no step-1 rate."""

    def apply(rules: str) -> None:
        flows_config(flows=[("email", "passcode"), ("phone_number", "passcode")], **RULES[rules])

    return apply


@fuzz_settings(max_examples=60)
@given(
    channel=st.sampled_from(["email", "phone_number"]),
    rules=st.sampled_from(sorted(RULES)),
    steps=sequence,
)
@example(channel="email", rules="defaults", steps=FIVE_WRONG_THEN_RESEND)
@example(channel="phone_number", rules="defaults", steps=FIVE_WRONG_THEN_RESEND)
@example(channel="email", rules="defaults", steps=RESEND_ON_THE_FIRST_TOKEN)
def test_any_sequence_answers_alike_for_a_known_and_an_unknown_identifier(
    configure: Callable[[str], None],
    make_worlds: Callable[[str], tuple[World, World]],
    channel: str,
    rules: str,
    steps: list[Action],
) -> None:
    configure(rules)
    known, unknown = make_worlds(channel)
    with time_machine.travel(START, tick=False) as clock:
        for index, action in enumerate(steps):
            if action[0] == "wait":
                clock.shift(action[1])
                continue
            wrong = a_wrong_code(known.value)
            answer = seen(known.act(action, wrong))
            # Shown by --hypothesis-show-statistics: which answers the sequences reach.
            event(f"{action[0]}: {answer['status']} {answer.get('error_code') or ''}".rstrip())
            assert_alike(answer, seen(unknown.act(action, wrong)), index)
    assert codes_sent_to(unknown.value) == set()
