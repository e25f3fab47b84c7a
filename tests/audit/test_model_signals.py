"""Projects that listen to the package's model saves see every row of a login.

Login steps write their rows with plain statements when nobody listens
(``trench_mfa.state.step_writes``); a ``post_save`` receiver on ``MFAEvent``
or ``LoginChallenge`` makes them save through the ORM, so it sees each one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db.models.signals import post_save
from rest_framework.test import APIClient

from tests.conftest import credentials, last_code
from trench_mfa.models import LoginChallenge, MFAEvent
from trench_mfa.state import sql

pytestmark = pytest.mark.django_db


@pytest.fixture
def saved() -> Iterator[list[Any]]:
    """Every ``MFAEvent`` and ``LoginChallenge`` saved while the test runs."""
    seen: list[Any] = []

    def receiver(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
        seen.append(instance)

    for model in (MFAEvent, LoginChallenge):
        post_save.connect(receiver, sender=model, dispatch_uid=f"test-saved-{model.__name__}")
    yield seen
    for model in (MFAEvent, LoginChallenge):
        post_save.disconnect(sender=model, dispatch_uid=f"test-saved-{model.__name__}")


def test_a_login_saves_its_challenge_and_events_through_the_orm_for_listeners(
    email_mfa_user: Any, anon_client: APIClient, saved: list[Any]
) -> None:
    user, _ = email_mfa_user
    MFAEvent.objects.all().delete()  # the activation's
    step1 = anon_client.post("/auth/jwt/login/", credentials(user))
    token = step1.json()["ephemeral_token"]
    wrong = anon_client.post("/auth/jwt/login/code/", {"ephemeral_token": token, "code": "000000"})
    right = anon_client.post(
        "/auth/jwt/login/code/", {"ephemeral_token": token, "code": last_code()}
    )
    assert (wrong.status_code, right.status_code) == (401, 200)
    challenges = [i for i in saved if isinstance(i, LoginChallenge)]
    events = [i.event for i in saved if isinstance(i, MFAEvent)]
    assert [c.pk for c in challenges] == [LoginChallenge.objects.get(user=user).pk]
    assert events == ["code_sent", "verification_failed", "code_verified"]
    assert list(MFAEvent.objects.order_by("pk").values_list("event", flat=True)) == events


def test_a_plain_insert_must_name_every_column() -> None:
    with pytest.raises(ValueError, match="missing"):
        sql.insert_row("default", LoginChallenge, {"method": "email"})
    with pytest.raises(ValueError, match="unknown"):
        sql.insert_row("default", LoginChallenge, {"nonsense": 1})
