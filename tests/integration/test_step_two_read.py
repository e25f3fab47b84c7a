"""Login step 2's one read loads exactly what the ORM would, in one statement.

:func:`trench_mfa.state.challenge_read.read_step_two` is plain SQL written from the
models' metadata; these tests compare everything it returns with the same
rows read through the ORM, for each test user model (``make test`` runs them
with the default, email-only and UUID-keyed models) and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.db.models import Model
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from trench_mfa.models import BackupCode, LoginChallenge, MFAMethod
from trench_mfa.state import backup_codes, tokens
from trench_mfa.state.challenge_read import read_step_two

pytestmark = pytest.mark.django_db


def fields_of(instance: Model) -> dict[str, Any]:
    """Every concrete field's value, by attribute name."""
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


@pytest.fixture
def scene(user_factory: Callable[..., Any]) -> dict[str, Any]:
    """A user with two method rows, backup codes, a flow challenge; another user likewise."""
    user = user_factory(username="reader")
    MFAMethod.objects.create(user=user, name="email", is_active=True, is_primary=True)
    MFAMethod.objects.create(user=user, name="app", failure_count=2, last_failure_at=timezone.now())
    codes = backup_codes.replace_backup_codes(user.pk)
    _token, challenge = tokens.issue_token(
        user, "email", flow="username+password", factors=[{"kind": "mfa", "method": "email"}]
    )
    other = user_factory(username="other")
    MFAMethod.objects.create(user=other, name="email", is_active=True, is_primary=True)
    other_codes = backup_codes.replace_backup_codes(other.pk)
    return {
        "user": user,
        "codes": codes,
        "challenge": challenge,
        "other_codes": other_codes,
    }


def test_rows_user_and_challenge_equal_the_orms(scene: dict[str, Any]) -> None:
    challenge = scene["challenge"]
    with transaction.atomic():
        read = read_step_two(challenge.pk, "", using=DEFAULT_DB_ALIAS)
    assert read is not None
    orm_rows = list(MFAMethod.objects.filter(user=scene["user"]).order_by("pk"))
    assert [fields_of(r) for r in read.rows] == [fields_of(r) for r in orm_rows]
    assert fields_of(read.user) == fields_of(type(scene["user"]).objects.get(pk=scene["user"].pk))
    assert fields_of(read.challenge) == fields_of(LoginChallenge.objects.get(pk=challenge.pk))
    # Decoded as the ORM decodes them: JSON, aware datetimes, booleans.
    assert read.challenge.factors == [{"kind": "mfa", "method": "email"}]
    assert timezone.is_aware(read.challenge.expires_at)
    assert read.rows[0].is_active is True and read.rows[1].is_active is False
    # One user object shared by the challenge and the rows, as the ORM would.
    assert read.challenge.user is read.user and all(r.user is read.user for r in read.rows)


def test_the_backup_candidate_is_the_users_unused_code_of_the_bucket(
    scene: dict[str, Any],
) -> None:
    challenge, code = scene["challenge"], scene["codes"][0]
    bucket = backup_codes.bucket_of(code)
    assert bucket is not None
    row = BackupCode.objects.get(user=scene["user"], bucket=bucket)
    with transaction.atomic():
        read = read_step_two(challenge.pk, bucket, using=DEFAULT_DB_ALIAS)
    assert read is not None and (read.backup_pk, read.backup_hash) == (row.pk, row.code_hash)
    BackupCode.objects.filter(pk=row.pk).update(used_at=timezone.now())
    with transaction.atomic():
        used = read_step_two(challenge.pk, bucket, using=DEFAULT_DB_ALIAS)
    assert used is not None and (used.backup_pk, used.backup_hash) == (None, None)


def test_another_users_backup_code_is_never_the_candidate(scene: dict[str, Any]) -> None:
    theirs = backup_codes.bucket_of(scene["other_codes"][0])
    assert theirs is not None
    mine = set(BackupCode.objects.filter(user=scene["user"]).values_list("bucket", flat=True))
    with transaction.atomic():
        read = read_step_two(scene["challenge"].pk, theirs, using=DEFAULT_DB_ALIAS)
    assert read is not None
    expected = BackupCode.objects.filter(user=scene["user"], bucket=theirs).first()
    assert read.backup_pk == (expected.pk if expected else None)
    assert theirs in mine or read.backup_pk is None


def test_one_statement(scene: dict[str, Any]) -> None:
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        read_step_two(scene["challenge"].pk, "abcde", using=DEFAULT_DB_ALIAS)
    assert len(queries.captured_queries) == 1


def test_nothing_for_an_unknown_challenge_or_a_user_without_rows(
    scene: dict[str, Any], user_factory: Callable[..., Any]
) -> None:
    bare = user_factory(username="bare")
    _token, empty = tokens.issue_token(bare, "email")
    LoginChallenge.objects.filter(pk=empty.pk).update(
        expires_at=timezone.now() + timedelta(minutes=1)
    )
    with transaction.atomic():
        assert read_step_two(empty.pk, "", using=DEFAULT_DB_ALIAS) is None
        assert read_step_two(10**9, "", using=DEFAULT_DB_ALIAS) is None


@pytest.mark.django_db(transaction=True)
def test_refuses_to_run_outside_a_transaction() -> None:
    # Its row locks would end with the statement.
    with pytest.raises(TransactionManagementError):
        read_step_two(1, "", using=DEFAULT_DB_ALIAS)
