"""What the package-neutral benchmark code needs to know about trench_mfa.

Only set-up work lives here (never inside a timed region): cloning the seeded
user's rows, issuing login tokens in bulk, and resetting per-method state.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mfa_site import passkey
from trench_mfa.models import BackupCode, MFAMethod
from trench_mfa.state import backup_codes, tokens

NAME = "trench_mfa"
#: Operations only this package has (bench_worker serves them too).
EXTRA_OPS = {"step2_totp": passkey.step2_totp, "step2_passkey": passkey.step2_passkey}
#: Rows copied from the template user to each cloned user (load test).
CLONE_MODELS = (MFAMethod, BackupCode)


def reset_state() -> None:
    """Forget accepted TOTP steps and failure counters of every method.

    The replay guard accepts each 30 s step once per method, and the
    benchmarks log the same user in many times a second; resetting between
    (untimed) logins keeps every measured login a first use of its step.
    """
    fields = {f.name for f in MFAMethod._meta.get_fields()}
    changes: dict[str, Any] = {"last_used_step": None}
    for name, value in (("failure_count", 0), ("locked_until", None), ("last_failure_at", None)):
        if name in fields:
            changes[name] = value
    MFAMethod.objects.update(**changes)


def regenerate_backup_codes(user: Any) -> list[str]:
    """A fresh set of backup codes for ``user`` (plain text)."""
    return backup_codes.replace_backup_codes(user.pk)


def issue_tokens(users: Iterable[Any], method: str = "app") -> list[str]:
    """One ephemeral login token per user, as step 1 would issue it."""
    return [tokens.issue_token(user, method)[0] for user in users]
