"""The scene of the input-validation tests, and spies on hashing and SMS sending.

Every bad input must keep four invariants (asserted by
``invariants.py`` on the endpoints of ``endpoints.py``):

(a) no 5xx;
(b) no DB change: no method created or activated, no code consumed, no
    token issued (:meth:`Scene.snapshot` compares every row of the tables that hold
    that state, before and after);
(c) the body does not say which check failed (``assert_generic``: the
    body is one of the documented shapes, echoes nothing of the input but
    django-trench's one echo of an unknown ``method`` at change-primary-method,
    and names no internal error; a malformed code gets the endpoint's one
    malformed-code answer, ``Endpoint.malformed_code``);
(d) no provider call (the mail outbox and the SMS spy are part of the
    snapshot).

The scene (:class:`Scene`) gives ``alice`` an active primary ``email`` method
with backup codes, a pending ``email2`` activation, a live action code and a
login challenge with its code, so every endpoint has a valid body to spoil
one field of.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.utils.timezone import now
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import (
    EMAIL2,
    FLAVOURS,
    PASSWORD,
    Flavour,
    credentials,
    has_user_field,
    username_field,
)
from tests.input_validation.endpoints import Endpoint
from tests.support.methods import bound_method
from trench_mfa.backends.console import ConsoleMessageDispatcher
from trench_mfa.models import BackupCode, CodePurpose, LoginChallenge, MFAMethod, OneTimeCode
from trench_mfa.state import backup_codes, codes, tokens


class SMSSpy:
    """Counts sends of the console SMS method (``sms`` in testproject)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []


@pytest.fixture(autouse=True)
def sms_spy(monkeypatch: pytest.MonkeyPatch) -> SMSSpy:
    """Record every console SMS instead of logging it."""
    spy = SMSSpy()

    def send_sms(self: ConsoleMessageDispatcher, recipient: str, body: str) -> None:
        spy.sent.append((recipient, body))

    monkeypatch.setattr(ConsoleMessageDispatcher, "send_sms", send_sms)
    return spy


class HashSpy:
    """The inputs of every keyed hash and every password hasher call."""

    def __init__(self) -> None:
        self.inputs: list[str] = []

    def longest(self) -> int:
        """The length of the longest value that was hashed."""
        return max((len(v) for v in self.inputs), default=0)


@pytest.fixture
def hash_spy(monkeypatch: pytest.MonkeyPatch) -> HashSpy:
    """Spy on ``crypto.keyed_hash``/``plain_hash`` and the password hashers."""
    from django.contrib.auth import hashers

    from trench_mfa.state import crypto

    spy = HashSpy()
    for name in ("keyed_hash", "plain_hash"):
        original = getattr(crypto, name)

        def wrapped(*args: Any, _original: Any = original) -> Any:
            spy.inputs.append(str(args[-1]))
            return _original(*args)

        monkeypatch.setattr(crypto, name, wrapped)
    for hasher in (hashers.MD5PasswordHasher, hashers.PBKDF2PasswordHasher):
        for method in ("encode", "verify"):
            original = getattr(hasher, method)

            def spied(self: Any, password: Any, *args: Any, _original: Any = original) -> Any:
                spy.inputs.append(str(password))
                return _original(self, password, *args)

            monkeypatch.setattr(hasher, method, spied)
    return spy


@dataclass
class Scene:
    """Alice's state and the valid values to mix into a spoiled body."""

    user: Any
    client: APIClient
    anon: APIClient
    backup_codes: list[str]
    token: str
    login_code: str
    action_code: str
    confirm_code: str
    sms: SMSSpy

    def valid_body(self, endpoint: Endpoint) -> dict[str, Any]:
        """A body of ``endpoint`` with every field valid."""
        values: dict[str, Any] = {
            "username": self.user.get_username(),
            "password": PASSWORD,
            "ephemeral_token": self.token,
            "method": "email",
            "code": {
                "confirm": self.confirm_code,
            }.get(endpoint.name, self.login_code if endpoint.anonymous else self.action_code),
        }
        body = {f: values[f] for f in endpoint.fields}
        if "username" in body:
            body[username_field()] = body.pop("username")
        return body

    def value(self, endpoint: Endpoint, field_name: str) -> Any:
        """The valid value of ``field_name`` in ``endpoint``'s body."""
        key = username_field() if field_name == "username" else field_name
        return self.valid_body(endpoint)[key]

    def client_for(self, endpoint: Endpoint) -> APIClient:
        """The anonymous client for login endpoints, alice's client otherwise."""
        return self.anon if endpoint.anonymous else self.client

    def post(self, endpoint: Endpoint, body: dict[str, Any]) -> Any:
        """POST ``body`` as JSON (the login throttle's cache is cleared first)."""
        cache.clear()
        return self.client_for(endpoint).post(endpoint.path, body, format="json")

    def post_raw(self, endpoint: Endpoint, raw: bytes | str, content_type: str) -> Any:
        """POST a raw body with the given content type."""
        cache.clear()
        return self.client_for(endpoint).generic(
            "POST", endpoint.path, raw, content_type=content_type
        )

    def login(self, flavour: Flavour = FLAVOURS[0]) -> str:
        """Login step 1 as alice; the new ephemeral token."""
        cache.clear()
        response = self.anon.post(flavour.login, credentials(self.user), format="json")
        assert response.status_code == 200, response.content
        return str(response.json()["ephemeral_token"])

    def real_tokens(self) -> list[str]:
        """A refresh, an access and an authtoken key of alice (logged in with backup codes)."""
        issued: list[str] = []
        for index, flavour in enumerate(FLAVOURS):
            body = {"ephemeral_token": self.login(flavour), "code": self.backup_codes[index + 1]}
            response = self.anon.post(flavour.code, body, format="json")
            assert response.status_code == 200, response.content
            issued.extend(response.json().values())
        assert len(issued) == 3
        return issued

    def spoil(self, endpoint: Endpoint, field_name: str, value: Any) -> dict[str, Any]:
        """The valid body of ``endpoint`` with ``field_name`` set to ``value``."""
        body = self.valid_body(endpoint)
        key = username_field() if field_name == "username" else field_name
        body[key] = value
        return body

    def snapshot(self) -> tuple[Any, ...]:
        """Every row a request could change, and the number of messages sent."""
        return (
            list(MFAMethod.objects.order_by("pk").values()),
            list(OneTimeCode.objects.order_by("pk").values()),
            list(BackupCode.objects.order_by("pk").values()),
            list(LoginChallenge.objects.order_by("pk").values()),
            list(Token.objects.order_by("pk").values_list("key", "user_id")),
            get_user_model().objects.count(),
            len(mail.outbox),
            len(self.sms.sent),
        )


@pytest.fixture
def scene(
    user_factory: Callable[..., Any],
    client_for: Callable[[Any], APIClient],
    trench_auth: Callable[..., Any],
    sms_spy: SMSSpy,
) -> Scene:
    """Alice with email (primary, backup codes), a pending email2, live codes, a login.

    Built with the services rather than the API: it is set up for hundreds
    of tests, and the API flows have their own tests.
    """
    trench_auth(methods={"email2": EMAIL2})
    extra = {"phone_number": "+48600100200"} if has_user_field("phone_number") else {}
    user = user_factory(username="alice", email="alice@example.com", **extra)
    email = bound_method(user, "email", is_primary=True)
    backup = backup_codes.replace_backup_codes(user.pk)
    email2 = MFAMethod.objects.create(user=user, name="email2", activation_started_at=now())
    token, challenge = tokens.issue_token(user, "email")
    return Scene(
        user=user,
        client=client_for(user),
        anon=APIClient(),
        backup_codes=backup,
        token=token,
        login_code=codes.issue_code(
            email, CodePurpose.LOGIN, validity=300, challenge_id=challenge.pk
        ),
        action_code=codes.issue_code(email, CodePurpose.ACTION, validity=300),
        confirm_code=codes.issue_code(email2, CodePurpose.ACTIVATION, validity=300),
        sms=sms_spy,
    )


@pytest.fixture
def bob(user_factory: Callable[..., Any]) -> Any:
    """A second user, ``bob``: the owner that extra body fields try to hand rows to."""
    return user_factory(username="bob")


def takeover_fields(owner: Any, **fields: Any) -> dict[str, Any]:
    """Body fields no endpoint accepts: ``owner`` as the row's user, ``is_active``, and ``fields``.

    Posted beside a valid body, every one of them must be ignored: a client
    never chooses whose row it writes nor the server-kept state of it.
    """
    return {"user": owner.pk, "user_id": owner.pk, "is_active": True, **fields}
