"""CompiledRead: compiled once per connection, re-run with new values, values converted."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import QuerySet
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from trench_mfa.compiled import CompiledRead
from trench_mfa.models import LoginChallenge

pytestmark = pytest.mark.django_db

NO_ID = -424242
NO_METHOD = "<none>"


def challenge(method: str, **fields: Any) -> LoginChallenge:
    """A login challenge row without a user (only its columns matter here)."""
    return LoginChallenge.objects.create(
        user=None,
        method=method,
        secret_hash="0" * 64,
        user_state="0" * 64,
        expires_at=timezone.now() + timedelta(minutes=5),
        **fields,
    )


class CountingBuild:
    """A ``build`` callable that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, pk: int, method: str) -> QuerySet[Any]:
        self.calls += 1
        return (
            LoginChallenge.objects.filter(pk=pk, method=method)
            .order_by("pk")
            .values_list("pk", "method", "factors", "expires_at", "used_at")
        )


def test_builds_once_and_swaps_the_values_in() -> None:
    first = challenge("app", factors=[{"kind": "code", "method": "app"}])
    second = challenge("email")
    build = CountingBuild()
    read = CompiledRead(build, (NO_ID, NO_METHOD))
    with transaction.atomic():
        assert read.rows(first.pk, "app", using=DEFAULT_DB_ALIAS)[0][:2] == (first.pk, "app")
        assert read.rows(second.pk, "email", using=DEFAULT_DB_ALIAS)[0][:2] == (
            second.pk,
            "email",
        )
        assert read.rows(first.pk, "email", using=DEFAULT_DB_ALIAS) == []
    assert build.calls == 1


def test_values_are_converted_as_the_orm_would() -> None:
    row = challenge("app", factors=[{"kind": "code", "method": "app"}])
    read = CompiledRead(CountingBuild(), (NO_ID, NO_METHOD))
    with transaction.atomic():
        ((pk, method, factors, expires_at, used_at),) = read.rows(
            row.pk, "app", using=DEFAULT_DB_ALIAS
        )
    expected = LoginChallenge.objects.values_list(
        "pk", "method", "factors", "expires_at", "used_at"
    ).get(pk=row.pk)
    assert (pk, method, factors, expires_at, used_at) == expected
    assert factors == [{"kind": "code", "method": "app"}]  # JSON decoded, not text
    assert isinstance(expires_at, datetime) and timezone.is_aware(expires_at)


@pytest.mark.django_db(transaction=True)
def test_refuses_to_run_outside_a_transaction() -> None:
    read = CompiledRead(CountingBuild(), (NO_ID, NO_METHOD))
    with pytest.raises(TransactionManagementError):
        read.rows(1, "app", using=DEFAULT_DB_ALIAS)


def test_a_placeholder_that_does_not_reach_the_statement_is_an_error() -> None:
    def build(pk: int, method: str) -> QuerySet[Any]:
        return LoginChallenge.objects.filter(pk=pk).values_list("pk")  # ``method`` unused

    read = CompiledRead(build, (NO_ID, NO_METHOD))
    with transaction.atomic(), pytest.raises(RuntimeError, match="placeholder"):
        read.rows(1, "app", using=DEFAULT_DB_ALIAS)


def test_the_number_of_values_must_match() -> None:
    read = CompiledRead(CountingBuild(), (NO_ID, NO_METHOD))
    with transaction.atomic(), pytest.raises(TypeError):
        read.rows(1, using=DEFAULT_DB_ALIAS)
