"""A project's own code that calls trench_mfa's functions gets error reports without secrets.

With ``DEBUG = False`` Django mails its error report to ``ADMINS`` (the HTML
page, with every frame's variables, when ``AdminEmailHandler`` has
``include_html``), made by the project's exception reporter filter
(Django's by default), which hides the variables of functions marked with
``sensitive_variables``. Each test calls a trench_mfa function the way a
project's view, task or command would, makes it fail deep inside while
secrets are in its frames, and searches the report of that failure for them.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Callable
from typing import Any

import pytest
import qrcode
from django.db.models.signals import post_save
from django.views.debug import ExceptionReporter
from django.views.decorators.debug import sensitive_variables
from rest_framework.authtoken.models import Token

from tests.conftest import PASSWORD, ActivatedUser, credentials, last_code
from tests.error_reports.conftest import ErrorPage, ForcedFailure
from trench_mfa import signals
from trench_mfa.login import factors, start
from trench_mfa.models import MFAMethod
from trench_mfa.services import hardcode, identifiers, methods
from trench_mfa.state import authtokens
from trench_mfa.state.secrets_at_rest import decrypt_secret

pytestmark = pytest.mark.django_db

HARDCODE = "pin-7Qx2-hardcode"


# The caller's own arguments are marked, as a careful project marks them;
# every frame below keeps only what trench_mfa marks itself.
@sensitive_variables("call", "args", "kwargs")
def report_of(call: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Django's error mail (HTML, entities decoded) for the failure of ``call(*args, **kwargs)``."""
    try:
        call(*args, **kwargs)
    except ForcedFailure:
        reporter = ExceptionReporter(None, *sys.exc_info(), is_email=True)
        report = html.unescape(reporter.get_traceback_html())
    else:
        raise AssertionError("the call did not fail")
    assert "trench_mfa" in report and "local vars" in report.lower()
    return report


def shown(report: str, secrets: list[str]) -> list[str]:
    """The ``secrets`` in ``report``."""
    return ErrorPage(report, "").shown(secrets)


def test_starting_a_login(
    email_mfa_user: ActivatedUser,
    crash_on: Callable[..., list[Any]],
    tokens_issued: list[str],
    issued: list[str],
) -> None:
    user, _ = email_mfa_user
    crash_on(signals.code_sent)
    report = report_of(start.start_login, None, credentials(user))
    assert shown(report, [PASSWORD, tokens_issued[-1], issued[-1]]) == []


def test_answering_a_login(
    email_mfa_user: ActivatedUser,
    crash_on: Callable[..., list[Any]],
    tokens_issued: list[str],
) -> None:
    user, backup = email_mfa_user
    start.start_login(None, credentials(user))
    token, code = tokens_issued[-1], last_code()
    crash_on(signals.code_verified)
    report = report_of(factors.answer, token, code)
    assert shown(report, [token, code, *backup]) == []


def test_confirming_an_activation(
    user: Any, crash_on: Callable[..., list[Any]], backup_codes_issued: list[str]
) -> None:
    methods.activate_method(user, "email")
    code = last_code()
    crash_on(signals.mfa_method_activated)
    report = report_of(methods.confirm_activation, user, "email", code, reissue_key=True)
    key = Token.objects.get(user=user).key
    assert len(backup_codes_issued) == 10
    assert shown(report, [code, key, *backup_codes_issued]) == []


def test_regenerating_backup_codes(
    email_mfa_user: ActivatedUser,
    crash_on: Callable[..., list[Any]],
    backup_codes_issued: list[str],
) -> None:
    user, old = email_mfa_user
    methods.request_code(user, None)
    code = last_code()
    crash_on(signals.backup_codes_regenerated)
    report = report_of(methods.regenerate_backup_codes, user, "email", code)
    assert shown(report, [code, *old, *backup_codes_issued]) == []


def test_sending_a_code(
    email_mfa_user: ActivatedUser, break_mail: Callable[[], None], issued: list[str]
) -> None:
    user, _ = email_mfa_user
    break_mail()
    report = report_of(methods.request_code, user, None)
    assert shown(report, [issued[-1]]) == []


def test_activating_an_authenticator_app(user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise ForcedFailure()

    monkeypatch.setattr(qrcode.QRCode, "make", fail)
    report = report_of(methods.activate_method, user, "app")
    seed = decrypt_secret(MFAMethod.objects.get(user=user, name="app").secret)
    assert shown(report, [seed]) == []


def test_setting_a_hardcode(user: Any, raising_hasher: None) -> None:
    proof = hardcode.ChangeProof(password=PASSWORD)
    report = report_of(hardcode.set_hardcode, user, HARDCODE, proof)
    assert shown(report, [HARDCODE, PASSWORD]) == []


def test_confirming_an_identifier(
    user: Any,
    flows_config: Callable[..., Any],
    crash_on: Callable[..., list[Any]],
    issued: list[str],
) -> None:
    flows_config()
    identifiers.request_code(user, "email")
    code = issued[-1]
    crash_on(signals.code_verified)
    report = report_of(identifiers.confirm_code, user, "email", code)
    assert shown(report, [code]) == []


def test_issuing_an_authtoken_key(user: Any, crash_on: Callable[..., list[Any]]) -> None:
    saved = crash_on(post_save, sender=Token)
    report = report_of(authtokens.login_key, user, code_verified=False)
    assert shown(report, [saved[0]["instance"].key]) == []
