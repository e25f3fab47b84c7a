"""End to end in a real browser: the demo's passkey page in headless Chromium.

Debian's ``chromium`` (``apt-get install chromium``; ``.ci/run`` installs it
when missing), driven by Playwright with that executable (no browser
download), with a CDP virtual authenticator: CTAP2, internal transport,
resident keys and user verification. The page (``/passkeys/``) uses only
the REST API; it is served by a live server on ``localhost`` (an IP address
cannot be an RP ID) on a port of 8670-8689. Steps: log in with the password,
activate the authenticator app (its QR code), register a passkey, log out,
log in with the password and the passkey, then with the passkey alone.

Each step's screenshot goes to the test's temporary directory, and to the
directory named by ``TRENCH_MFA_SCREENSHOTS`` when it is set (the docs'
pictures: ``TRENCH_MFA_SCREENSHOTS=docs/_static/webauthn``).
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from tests.conftest import PASSWORD
from tests.support.authenticator import WEBAUTHN_METHOD
from trench_mfa.models import MFAMethod, WebAuthnCredential

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: The ports this test may serve on (the first free one is taken).
PORTS = range(8670, 8690)

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no Chromium: install Debian's chromium (apt-get install chromium); .ci/run does",
    ),
]


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("localhost", port))
            except OSError:
                continue
            return port
    pytest.fail(f"no free port in {PORTS.start}-{PORTS.stop - 1} for the live server")


@pytest.fixture
def passkey_site(
    transactional_db: None, trench_auth: Callable[..., dict[str, Any]]
) -> Iterator[str]:
    """The demo's pages on ``http://localhost:<port>``, WebAuthn configured for that origin."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer(f"localhost:{_free_port()}")
    origin = f"http://localhost:{server.thread.port}"
    method = {**WEBAUTHN_METHOD, "RP_ID": "localhost", "ORIGINS": [origin]}
    trench_auth(methods={"webauthn": method}, PASSKEY_LOGIN=True)
    try:
        yield origin
    finally:
        server.stop()


class Steps:
    """Screenshots of the page, numbered in the order they are taken."""

    def __init__(self, page: Any, folder: Path) -> None:
        self.page = page
        self.folders = [folder]
        extra = os.environ.get("TRENCH_MFA_SCREENSHOTS")
        if extra:
            self.folders.append(Path(extra))
        self.taken: list[str] = []

    def shot(self, name: str) -> None:
        """Save a full-page screenshot as ``NN-name.png``."""
        filename = f"{len(self.taken) + 1:02d}-{name}.png"
        for folder in self.folders:
            folder.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(folder / filename), full_page=True)
        self.taken.append(filename)


def _virtual_authenticator(page: Any) -> None:
    session = page.context.new_cdp_session(page)
    session.send("WebAuthn.enable", {"enableUI": False})
    session.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def _log_in_with_password(page: Any, user: Any) -> None:
    page.fill("#username", user.get_username())
    page.fill("#password", PASSWORD)
    page.click("#login-password")


def test_register_a_passkey_and_log_in_with_it_in_chromium(
    passkey_site: str,
    user_factory: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API keeps an event loop in this thread; the ORM is
    # only used before and after the browser runs.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    user = user_factory(username="ada")
    expect = sync_api.expect
    # Generous waits: CI's two cores run other legs next to this one. They are
    # upper bounds on waiting for the page, never sleeps.
    expect.set_options(timeout=30_000)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 900, "height": 900})
        page.set_default_timeout(30_000)
        _virtual_authenticator(page)
        steps = Steps(page, tmp_path)
        status, error = page.locator("#status"), page.locator("#error")
        page.goto(f"{passkey_site}/passkeys/")

        _log_in_with_password(page, user)
        expect(status).to_have_text("Signed in (password).")
        steps.shot("signed-in-with-password")

        page.click("#activate-app")
        expect(page.locator("#qr img")).to_be_visible()
        steps.shot("authenticator-app-qr-code")
        uri = page.locator("#otpauth").inner_text()
        secret = parse_qs(urlsplit(uri).query)["secret"][0]
        page.fill("#app-code", pyotp.TOTP(secret).now())
        page.click("#confirm-app")
        expect(page.locator("#backup-codes")).to_be_visible()
        backup_codes = page.locator("#backup-codes").inner_text().split()
        steps.shot("backup-codes")

        # MFA is on now: adding the passkey takes a code (here a backup code).
        page.fill("#stepup-code", backup_codes[0])
        page.fill("#passkey-name", "Chromium's authenticator")
        page.click("#register-passkey")
        expect(page.locator("#passkeys li")).to_have_count(1)
        expect(error).to_have_text("")
        steps.shot("passkey-registered")

        page.click("#logout")
        expect(status).to_have_text("Signed out.")
        _log_in_with_password(page, user)
        expect(page.locator("#challenge-method")).to_have_text("app")
        expect(page.locator("#challenge-others")).to_have_text("webauthn")
        steps.shot("second-step")
        page.click("#use-passkey")
        expect(status).to_have_text("Signed in (password + passkey).")
        expect(page.locator("#amr")).to_have_text('["pwd","hwk","user","mfa"]')
        steps.shot("signed-in-with-password-and-passkey")

        page.click("#logout")
        page.click("#login-passkey")
        expect(status).to_have_text("Signed in (passkey only).")
        expect(page.locator("#amr")).to_have_text('["hwk","user","mfa"]')
        steps.shot("signed-in-with-passkey-only")
        browser.close()

    assert steps.taken == [
        "01-signed-in-with-password.png",
        "02-authenticator-app-qr-code.png",
        "03-backup-codes.png",
        "04-passkey-registered.png",
        "05-second-step.png",
        "06-signed-in-with-password-and-passkey.png",
        "07-signed-in-with-passkey-only.png",
    ]
    (credential,) = WebAuthnCredential.objects.filter(method__user=user)
    assert credential.name == "Chromium's authenticator"
    assert credential.transports == ["internal"]
    assert credential.last_used_at is not None
    active = MFAMethod.objects.filter(user=user, is_active=True)
    assert set(active.values_list("name", flat=True)) == {"app", "webauthn"}
