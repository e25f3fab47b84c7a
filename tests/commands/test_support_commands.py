"""``mfa_status`` and ``mfa_disable``: support-staff commands."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from trench_mfa.models import BackupCode, MFAMethod


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_status_of_user_without_mfa(user: Any) -> None:
    output = run("mfa_status", user.get_username())
    assert "MFA off" in output
    assert "Backup codes left: 0" in output


def test_status_lists_methods_and_backup_codes(email_mfa_user: tuple[Any, list[str]]) -> None:
    user, codes = email_mfa_user
    output = run("mfa_status", user.get_username())
    assert "MFA on" in output
    assert "email: active, primary" in output
    assert "Backup codes left: 10" in output
    # Support output never shows a code.
    assert not any(code in output for code in codes)


@pytest.mark.parametrize("command", ["mfa_status", "mfa_disable"])
def test_unknown_user_is_a_command_error(db: None, command: str) -> None:
    with pytest.raises(CommandError, match="Cannot find user 'nobody'"):
        run(command, "nobody")


def test_disable_all_turns_mfa_off_and_drops_backup_codes(
    email_mfa_user: tuple[Any, list[str]],
) -> None:
    user, _ = email_mfa_user
    assert "Deactivated 1 method(s)" in run("mfa_disable", user.get_username())
    assert not MFAMethod.objects.filter(user=user, is_active=True).exists()
    assert not BackupCode.objects.filter(user=user).exists()


def test_disable_unknown_method_is_a_command_error(email_mfa_user: tuple[Any, list[str]]) -> None:
    user, _ = email_mfa_user
    with pytest.raises(CommandError, match="no active method 'sms'"):
        run("mfa_disable", user.get_username(), "--method", "sms")
    assert MFAMethod.objects.filter(user=user, is_active=True).count() == 1
