"""End to end in headless Chromium: the admin's password login, then the MFA code, then a page.

Drives Debian's ``chromium`` with Playwright (``executable_path``; no browser
download) against a live server on 127.0.0.1 (``TRENCH_MFA_LIVE_PORT``, else
a free port). Skipped when no ``chromium`` binary or no Playwright is found.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core import mail

from tests.conftest import PASSWORD, activate, last_code
from tests.support.smtp import free_port

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary on PATH (apt-get install chromium)"
)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@pytest.fixture
def server(transactional_db: None) -> Iterator[str]:
    """The test project served on 127.0.0.1; yields its base URL."""
    from pytest_django.live_server_helper import LiveServer

    port = int(os.environ.get("TRENCH_MFA_LIVE_PORT") or free_port())
    live = LiveServer(f"127.0.0.1:{port}")
    try:
        yield live.url
    finally:
        live.stop()


@contextmanager
def chromium_page() -> Iterator[Any]:
    """A fresh headless Chromium page.

    Opened only after the test's own queries: Playwright's sync API runs an
    event loop in this thread, and a connection Django opens meanwhile lives
    in that loop's context, out of reach of the test database's teardown.
    """
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_admin_login_with_password_then_code_then_a_page(
    server: str, user_factory: Callable[..., Any], client_for: Callable[[Any], Any]
) -> None:
    root = user_factory(username="root", is_staff=True, is_superuser=True)
    backup_codes = activate(client_for(root))
    username = root.get_username()
    mail.outbox.clear()
    with chromium_page() as page:
        _log_in(page, server, username, backup_codes)


def _log_in(page: Any, server: str, username: str, backup_codes: list[str]) -> None:
    page.goto(f"{server}/mfa-admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/mfa-admin/mfa/verify/**")
    assert page.locator("#id_code").is_visible()

    # A wrong code first: refused on the page, the admin stays closed.
    page.fill("#id_code", "000000")
    page.click("#mfa-verify-form input[type=submit]")
    assert page.locator(".errornote").is_visible()
    page.goto(f"{server}/mfa-admin/")
    page.wait_for_url("**/mfa-admin/mfa/verify/**")

    page.fill("#id_code", last_code())
    page.click("#mfa-verify-form input[type=submit]")
    page.wait_for_url(f"{server}/mfa-admin/")
    assert page.locator("#site-name").is_visible()
    page.goto(f"{server}/mfa-admin/trench_mfa/mfaevent/")
    assert page.locator("#result_list").is_visible()
    assert not any(code in page.content() for code in backup_codes)
