"""Django's error pages under ``DEBUG = True``, and ways to make a request fail deep inside.

``error_page`` sends a request that fails and returns both renderings of
Django's technical 500 report (the HTML page a browser gets, with every
frame's local variables, and the text an API client gets, with the request's
POST data and headers), made from the failure the request raised. The failures
are ones a project can meet: a crashing signal receiver of its own, an
email template or password hasher that raises, a failing QR library.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.signals import got_request_exception
from django.dispatch import Signal
from django.views.debug import ExceptionReporter
from rest_framework.test import APIClient

#: The message of every failure forced here.
FAILURE = "forced failure deep inside the request"


class ForcedFailure(RuntimeError):
    """The error a test makes a request raise."""

    def __init__(self) -> None:
        super().__init__(FAILURE)


@dataclass(frozen=True)
class ErrorPage:
    """Both renderings of one technical 500 report, HTML entities decoded."""

    html: str
    text: str

    def shown(self, secrets: list[str]) -> list[str]:
        """The ``secrets`` that appear anywhere in the report.

        A secret counts where it stands on its own: six digits inside the
        long number of a frame id are not a code.
        """
        return [s for s in secrets if s and (_found(s, self.html) or _found(s, self.text))]


def _found(secret: str, text: str) -> bool:
    pattern = rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])"
    return re.search(pattern, text) is not None


@pytest.fixture
def error_page(settings: Any) -> Iterator[Callable[[Callable[[], Any]], ErrorPage]]:
    """``error_page(lambda: client.post(...))``: the report of the failure the request raised.

    ``DEBUG`` is on, so Django answers with its technical 500 response; the
    answer itself is the HTML page (a browser's ``Accept``), the text
    rendering is made from the same exception and request.
    """
    settings.DEBUG = True
    caught: list[tuple[Any, Any]] = []

    def keep(sender: Any, request: Any, **kwargs: Any) -> None:
        import sys

        caught.append((request, sys.exc_info()))

    got_request_exception.connect(keep)

    def run(send: Callable[[], Any]) -> ErrorPage:
        caught.clear()
        response = send()
        assert response.status_code == 500, response.content[:500]
        assert len(caught) == 1
        request, exc_info = caught[0]
        assert isinstance(exc_info[1], ForcedFailure), exc_info
        text = ExceptionReporter(request, *exc_info).get_traceback_text()
        page = html.unescape(response.content.decode())
        # The report is complete: the failure, the frames of trench_mfa and
        # (on the page; the text has none) their local variables.
        for rendering in (page, text):
            assert FAILURE in rendering and "trench_mfa" in rendering
        assert "Local vars" in page
        return ErrorPage(page, text)

    yield run
    got_request_exception.disconnect(keep)


@pytest.fixture
def browser() -> Callable[[Any], APIClient]:
    """``browser(user)``: a client that asks for HTML and gets Django's 500 page, not an error.

    ``user`` is logged in with ``force_authenticate`` (``None``: anonymous).
    """

    def make(user: Any = None) -> APIClient:
        client = APIClient(raise_request_exception=False, HTTP_ACCEPT="text/html")
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


class RaisingHasher(MD5PasswordHasher):
    """A password hasher that fails while hashing (a broken hasher of the project's)."""

    algorithm = "raising"

    def encode(self, password: str, salt: str) -> str:
        """Raise instead of hashing."""
        raise ForcedFailure()


@pytest.fixture
def raising_hasher(settings: Any) -> None:
    """The project's preferred password hasher is a :class:`RaisingHasher`.

    Hashing a password fails; checking one against an MD5 hash still works
    and then fails while upgrading the hash to the preferred one.
    """
    settings.PASSWORD_HASHERS = [
        "tests.error_reports.conftest.RaisingHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]


@pytest.fixture
def break_mail(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """``break_mail()``: from now on the email method's templates fail to render.

    As a template of the project's that raises would: an error trench_mfa
    does not expect (a failing email *backend* is a ``503``), so the request
    fails with a 500 while the code is in the sending frames.
    """
    from trench_mfa.backends import email

    def failing_render(*args: Any, **kwargs: Any) -> str:
        raise ForcedFailure()

    return lambda: monkeypatch.setattr(email, "render_to_string", failing_render)


@pytest.fixture
def crash_on() -> Iterator[Callable[..., list[Any]]]:
    """``crash_on(signal, sender=None)``: a receiver of the project's that raises when sent.

    Returns the list the receiver appends each call's keyword arguments to.
    """
    connected: list[tuple[Signal, Any]] = []

    def connect(signal: Signal, sender: Any = None) -> list[Any]:
        calls: list[Any] = []

        def crash(**kwargs: Any) -> None:
            calls.append(kwargs)
            raise ForcedFailure()

        signal.connect(crash, sender=sender, weak=False, dispatch_uid="error-reports-crash")
        connected.append((signal, sender))
        return calls

    yield connect
    for signal, sender in connected:
        signal.disconnect(sender=sender, dispatch_uid="error-reports-crash")


@pytest.fixture
def backup_codes_issued(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every backup code the server makes, also those no answer carried."""
    from trench_mfa.state import backup_codes

    seen: list[str] = []
    real = backup_codes.replace_backup_codes

    def spy(*args: Any, **kwargs: Any) -> list[str]:
        made = real(*args, **kwargs)
        seen.extend(made)
        return made

    monkeypatch.setattr(backup_codes, "replace_backup_codes", spy)
    return seen


@pytest.fixture
def tokens_issued(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every ephemeral login token the server makes, also those no answer carried."""
    from trench_mfa.state import tokens

    seen: list[str] = []
    real = tokens.issue_token

    def spy(*args: Any, **kwargs: Any) -> Any:
        token, challenge = real(*args, **kwargs)
        seen.append(token)
        return token, challenge

    monkeypatch.setattr(tokens, "issue_token", spy)
    return seen


@dataclass(frozen=True)
class Failing:
    """The fixtures of a debug-page test together: how a request is made to fail, what it held.

    ``codes``, ``tokens`` and ``backup_codes``: every one-time code, ephemeral
    token and backup code the server made (fixtures ``issued``,
    ``tokens_issued``, ``backup_codes_issued``).
    """

    page: Callable[[Callable[[], Any]], ErrorPage]
    browser: Callable[..., APIClient]
    break_mail: Callable[[], None]
    crash_on: Callable[..., list[Any]]
    codes: list[str]
    tokens: list[str]
    backup_codes: list[str]

    def post(self, path: str, body: Any = None, user: Any = None, **extra: Any) -> ErrorPage:
        """The report of a failing POST of ``body`` to ``path`` (as ``user`` when given)."""
        return self.page(lambda: self.browser(user).post(path, body, **extra))


@pytest.fixture
def failing(
    error_page: Callable[[Callable[[], Any]], ErrorPage],
    browser: Callable[..., APIClient],
    break_mail: Callable[[], None],
    crash_on: Callable[..., list[Any]],
    issued: list[str],
    tokens_issued: list[str],
    backup_codes_issued: list[str],
) -> Failing:
    """The debug-page fixtures as one :class:`Failing`."""
    return Failing(
        error_page, browser, break_mail, crash_on, issued, tokens_issued, backup_codes_issued
    )
