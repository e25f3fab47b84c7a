"""``manage.py cleanup_otp_codes``: prunes old codes and login challenges.

Runs on SQLite always and on PostgreSQL in the ``TEST_DATABASE_URL`` leg:
the batched ``DELETE ... WHERE id IN (SELECT ... LIMIT n)`` differs by database.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections

from trench_mfa.management.commands.cleanup_otp_codes import Command
from trench_mfa.models import CodePurpose, LoginChallenge, MFAMethod, OneTimeCode

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def run(*args: str) -> str:
    """Run the command; return its standard output."""
    out = StringIO()
    call_command("cleanup_otp_codes", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def make_code(method: MFAMethod, *, expires: datetime, consumed: datetime | None = None) -> int:
    """One code row with the given expiry and use time; returns its id."""
    row = OneTimeCode.objects.create(
        method=method,
        purpose=CodePurpose.LOGIN,
        code_hash="0" * 64,
        expires_at=expires,
        consumed_at=consumed,
    )
    return row.pk


def make_challenge(user: Any, *, expires: datetime, used: datetime | None = None) -> int:
    """One login challenge row; returns its id."""
    row = LoginChallenge.objects.create(
        user=user,
        method="email",
        secret_hash="0" * 64,
        user_state="0" * 64,
        expires_at=expires,
        used_at=used,
    )
    return row.pk


@pytest.fixture
def rows(user: Any, time_machine: Any) -> dict[str, set[int]]:
    """Old rows (to delete) and recent or live rows (to keep), at ``NOW``."""
    time_machine.move_to(NOW, tick=False)
    method = MFAMethod.objects.create(user=user, name="email", is_active=True)
    old = {
        make_code(method, expires=NOW - 8 * DAY),
        make_code(method, expires=NOW - 30 * DAY, consumed=NOW - 30 * DAY),
        make_code(method, expires=NOW - 8 * DAY, consumed=NOW - 9 * DAY),
        make_code(method, expires=NOW + DAY, consumed=NOW - 10 * DAY),
    }
    keep = {
        make_code(method, expires=NOW - 6 * DAY),  # expired, but younger than --days
        make_code(method, expires=NOW - DAY, consumed=NOW - DAY),
        make_code(method, expires=NOW + timedelta(minutes=5)),  # live
    }
    old_challenges = {
        make_challenge(user, expires=NOW - 8 * DAY),
        make_challenge(user, expires=NOW - 8 * DAY, used=NOW - 8 * DAY),
    }
    keep_challenges = {
        make_challenge(user, expires=NOW - 2 * DAY),
        make_challenge(user, expires=NOW + timedelta(minutes=10)),
    }
    return {
        "old": old,
        "keep": keep,
        "old_challenges": old_challenges,
        "keep_challenges": keep_challenges,
    }


def code_ids() -> set[int]:
    """Ids of the code rows left."""
    return set(OneTimeCode.objects.values_list("pk", flat=True))


def challenge_ids() -> set[int]:
    """Ids of the challenge rows left."""
    return set(LoginChallenge.objects.values_list("pk", flat=True))


def test_deletes_old_rows_and_keeps_the_rest(rows: dict[str, set[int]]) -> None:
    output = run()
    assert code_ids() == rows["keep"]
    assert challenge_ids() == rows["keep_challenges"]
    lines = output.strip().splitlines()
    assert len(lines) == 1
    assert re.search(r"\b4 one-time codes\b", lines[0])
    assert re.search(r"\b2 login challenges\b", lines[0])
    assert "7 days" in lines[0]


def test_days_option(rows: dict[str, set[int]]) -> None:
    run("--days", "3")
    # The code that expired 6 days ago and the challenge of 8 days ago go too.
    assert len(code_ids()) == 2
    assert len(challenge_ids()) == 2
    run("--days", "0")
    assert len(code_ids()) == 1  # only the live code is left
    assert len(challenge_ids()) == 1


def test_small_batches_still_delete_everything(rows: dict[str, set[int]], user: Any) -> None:
    method = MFAMethod.objects.get(user=user)
    extra = {make_code(method, expires=NOW - 20 * DAY) for _ in range(10)}
    output = run("--batch-size", "3")
    assert code_ids() == rows["keep"]
    assert not extra & code_ids()
    assert re.search(r"\b14 one-time codes\b", output)


@pytest.mark.parametrize("batch_size", ["1", "4", "10000"])
def test_batch_size_boundaries(rows: dict[str, set[int]], batch_size: str) -> None:
    run("--batch-size", batch_size)
    assert code_ids() == rows["keep"]
    assert challenge_ids() == rows["keep_challenges"]


def test_dry_run_counts_and_deletes_nothing(rows: dict[str, set[int]]) -> None:
    before_codes, before_challenges = code_ids(), challenge_ids()
    output = run("--dry-run")
    assert code_ids() == before_codes and challenge_ids() == before_challenges
    lines = output.strip().splitlines()
    assert len(lines) == 1
    assert re.search(r"\b4 one-time codes\b", lines[0])
    assert re.search(r"\b2 login challenges\b", lines[0])


def test_nothing_to_do(db: None) -> None:
    output = run()
    assert re.search(r"\b0 one-time codes\b", output)


def test_exit_codes(
    rows: dict[str, set[int]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # run_from_argv closes every connection when it ends; the test's own
    # connection holds the test transaction, so keep it open.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    # Success returns normally from the command-line entry point: exit code 0.
    Command().run_from_argv(["manage.py", "cleanup_otp_codes", "--batch-size", "2"])
    assert code_ids() == rows["keep"]
    assert len(capsys.readouterr().out.strip().splitlines()) == 1
    for bad in (["--days", "-1"], ["--batch-size", "0"]):
        with pytest.raises(SystemExit) as exc:
            Command().run_from_argv(["manage.py", "cleanup_otp_codes", *bad])
        assert exc.value.code != 0
    assert code_ids() == rows["keep"]


def test_idle_send_counters_are_pruned(db: None, time_machine: Any) -> None:
    from trench_mfa.models import SendQuota

    time_machine.move_to(NOW, tick=False)
    idle = SendQuota.objects.create(key="a" * 64, updated_at=NOW - timedelta(hours=2))
    busy = SendQuota.objects.create(key="b" * 64, updated_at=NOW - timedelta(minutes=5))
    output = run()
    assert re.search(r"\b1 idle send counters\b", output)
    assert set(SendQuota.objects.values_list("pk", flat=True)) == {busy.pk}
    assert idle.pk not in set(SendQuota.objects.values_list("pk", flat=True))


def test_idle_unlocked_hardcode_counters_are_pruned(db: None, time_machine: Any) -> None:
    from trench_mfa.models import HardcodeGuard

    time_machine.move_to(NOW, tick=False)
    week = timedelta(days=7)
    rows = {
        "idle": HardcodeGuard.objects.create(key="a" * 64, updated_at=NOW - week - week),
        "recent": HardcodeGuard.objects.create(key="b" * 64, updated_at=NOW - timedelta(days=1)),
        # Idle, but its lock still runs (a long LOCKOUT_DURATION): kept.
        "locked": HardcodeGuard.objects.create(
            key="c" * 64, updated_at=NOW - week - week, locked_until=NOW + timedelta(hours=1)
        ),
    }
    assert re.search(r"\b1 idle hardcode failure counters\b", run("--dry-run"))
    assert HardcodeGuard.objects.count() == 3
    assert re.search(r"\b1 idle hardcode failure counters\b", run())
    kept = set(HardcodeGuard.objects.values_list("pk", flat=True))
    assert kept == {rows["recent"].pk, rows["locked"].pk}


@pytest.fixture
def phantoms(user: Any, time_machine: Any) -> dict[str, set[int]]:
    """Phantom rows of decoy logins at ``NOW``: idle ones (to delete) and the rest."""

    def phantom(tag: str, **state: Any) -> MFAMethod:
        return MFAMethod.objects.create(name="email", phantom=tag * 64, **state)

    time_machine.move_to(NOW - 10 * DAY, tick=False)
    idle = phantom("a")
    old_code_only = phantom("b")
    make_code(old_code_only, expires=NOW - 9 * DAY)
    recent_code = phantom("c")
    make_code(recent_code, expires=NOW - 2 * DAY)
    failed = phantom("d", failure_count=3, last_failure_at=NOW - DAY)
    locked = phantom("e", failure_count=1, locked_until=NOW + timedelta(hours=1))
    channel_row = MFAMethod.objects.create(user=user, name="email")  # a user's: never pruned
    time_machine.move_to(NOW, tick=False)
    fresh = phantom("f")
    return {
        "old": {idle.pk, old_code_only.pk},
        "keep": {recent_code.pk, failed.pk, locked.pk, channel_row.pk, fresh.pk},
    }


def method_ids() -> set[int]:
    """Ids of the method rows left."""
    return set(MFAMethod.objects.values_list("pk", flat=True))


def test_idle_phantom_rows_of_decoy_logins_are_pruned(phantoms: dict[str, set[int]]) -> None:
    assert re.search(r"\b2 idle decoy login states\b", run("--dry-run"))
    assert method_ids() == phantoms["old"] | phantoms["keep"]
    assert re.search(r"\b2 idle decoy login states\b", run())
    assert method_ids() == phantoms["keep"]
    assert "decoy" not in run()  # nothing left to prune: no line
