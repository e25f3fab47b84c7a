"""One code, one token: exactly one success when 20 requests share it across two servers.

Each case sends the same secret 20 times at once, ten requests to each app
server (two processes of four threads each), and checks the answers and the
rows: the single use is decided in PostgreSQL, so it holds whichever server
and process each request reaches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyotp
import pytest

from tests.cluster import figures, load
from tests.cluster.conftest import Cluster
from tests.cluster.servers import AppServer
from trench_mfa.models import (
    BackupCode,
    CodePurpose,
    EventType,
    LoginChallenge,
    MFAEvent,
    MFAMethod,
    OneTimeCode,
)
from trench_mfa.state.backup_codes import replace_backup_codes

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

#: Requests that share one secret, spread evenly over both servers.
PARALLEL = 20


def tokens_for(servers: list[AppServer], user: Any, count: int) -> list[str]:
    """``count`` ephemeral tokens of ``user``: parallel logins over both servers."""
    replies = load.burst(load.same_request(servers, count, load.LOGIN, load.login_body(user)))
    assert load.statuses(replies) == {200: count}, [r.text for r in replies if r.status != 200]
    return [str(r.body["ephemeral_token"]) for r in replies]


def test_one_email_code_confirms_one_action(
    cluster: Cluster, servers: list[AppServer], signed_in: Callable[..., tuple[Any, str]]
) -> None:
    user, key = signed_in("email-code")
    sent = load.request(servers[0], "/auth/code/request/", ip=load.client_ip(0), token=key)()
    assert sent.status == 200, sent.text
    code = cluster.mailbox.last_code(user.email)
    body = {"code": code}
    replies = load.burst(
        load.same_request(servers, PARALLEL, "/auth/email/codes/regenerate/", body, token=key)
    )
    figures.record("one email code (regenerate backup codes)", replies)
    assert load.per_server(replies) == {s.name: PARALLEL // 2 for s in servers}
    counts = load.statuses(replies)
    assert counts[200] == 1, counts
    # The others: the code is used (400), or the back-off after that failure (429).
    assert set(counts) <= {200, 400, 429}, counts
    assert MFAEvent.objects.filter(user=user, event=EventType.BACKUP_CODES_REGENERATED).count() == 1
    assert not OneTimeCode.objects.filter(
        method__user=user, purpose=CodePurpose.ACTION, consumed_at__isnull=True
    ).exists()


def test_one_backup_code_logs_in_once(
    servers: list[AppServer], mfa_user: Callable[..., Any]
) -> None:
    user = mfa_user("backup-code")
    backup = replace_backup_codes(user.pk)
    tokens = tokens_for(servers, user, PARALLEL)
    replies = load.answers_at_once(servers, tokens, backup[0])
    figures.record("one backup code (20 logins)", replies)
    counts = load.statuses(replies)
    assert counts[200] == 1, counts
    assert set(counts) <= {200, 401, 429}, counts
    assert BackupCode.objects.filter(user=user, used_at__isnull=False).count() == 1
    assert BackupCode.objects.filter(user=user, used_at__isnull=True).count() == len(backup) - 1
    assert LoginChallenge.objects.filter(user=user, used_at__isnull=False).count() == 1


def test_one_totp_code_logs_in_once(servers: list[AppServer], mfa_user: Callable[..., Any]) -> None:
    seed = pyotp.random_base32()
    user = mfa_user("totp-code", "app", secret=seed)
    tokens = tokens_for(servers, user, PARALLEL)
    code = pyotp.TOTP(seed).now()
    replies = load.answers_at_once(servers, tokens, code)
    figures.record("one TOTP code (20 logins)", replies)
    counts = load.statuses(replies)
    assert counts[200] == 1, counts
    assert set(counts) <= {200, 401, 429}, counts
    assert LoginChallenge.objects.filter(user=user, used_at__isnull=False).count() == 1
    assert MFAMethod.objects.get(user=user).last_used_step is not None


def test_one_ephemeral_token_logs_in_once(
    cluster: Cluster, servers: list[AppServer], mfa_user: Callable[..., Any]
) -> None:
    user = mfa_user("one-token")
    backup = replace_backup_codes(user.pk)
    token = load.start_login(servers[0], user, load.client_ip(0))
    emailed = cluster.mailbox.last_code(user.email)
    # Every request carries a valid code: ten distinct backup codes, ten
    # copies of the emailed one. Only the token can stop all but one.
    codes = backup[:10] + [emailed] * (PARALLEL - 10)
    replies = load.burst(
        [
            load.request(
                server,
                load.LOGIN_CODE,
                {"ephemeral_token": token, "code": code},
                ip=load.client_ip(n),
            )
            for n, (server, code) in enumerate(
                zip(load.spread(servers, PARALLEL), codes, strict=True)
            )
        ]
    )
    figures.record("one ephemeral token (20 valid codes)", replies)
    counts = load.statuses(replies)
    assert counts == {200: 1, 401: PARALLEL - 1}, counts
    assert {r.body["error_code"] for r in replies if r.status == 401} == {"invalid_token"}
    assert LoginChallenge.objects.get(user=user).used_at is not None
    used_backup = BackupCode.objects.filter(user=user, used_at__isnull=False).count()
    used_email = OneTimeCode.objects.filter(
        method__user=user, purpose=CodePurpose.LOGIN, consumed_at__isnull=False
    ).count()
    assert used_backup + used_email == 1
