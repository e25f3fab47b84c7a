"""The bound address or number is stored encrypted, rotated with the keys, masked in the admin."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.conftest import credentials
from tests.destination_binding.conftest import (
    ATTACKERS,
    ATTACKERS_PHONE,
    ORIGINAL,
    activate_email,
)
from tests.support.flows import sms_code
from tests.support.sms_outbox import OUTBOX
from tests.support.smtp import Mailbox
from trench_mfa.models import MFAMethod

pytestmark = pytest.mark.django_db

K1, K2 = (Fernet.generate_key().decode() for _ in range(2))


def raw_destination(user: Any, name: str) -> str:
    """The ``destination`` column of ``user``'s method ``name``, read with plain SQL."""
    pk = MFAMethod.objects.values_list("pk", flat=True).get(user=user, name=name)
    table = connection.ops.quote_name(MFAMethod._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT destination FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return str(cursor.fetchone()[0])


def activate_sms_and_email(client: APIClient, user: Any, mailbox: Mailbox) -> None:
    """Activate the in-memory SMS method ``sms``, then email (with a code of the SMS primary)."""
    number = user.phone_number
    assert client.post("/auth/sms/activate/").status_code == 200
    confirm = client.post("/auth/sms/activate/confirm/", {"code": sms_code(number)})
    assert confirm.status_code == 200, confirm.content
    assert client.post("/auth/code/request/").status_code == 200
    assert client.post("/auth/email/activate/", {"code": sms_code(number)}).status_code == 200
    confirm = client.post("/auth/email/activate/confirm/", {"code": mailbox.last_code()})
    assert confirm.status_code == 200, confirm.content


def use_keys(trench_auth: Callable[..., Any], *keys: str) -> None:
    """``ENCRYPTION_KEYS``, newest first."""
    trench_auth(ENCRYPTION_KEYS=list(keys))


def test_the_column_holds_a_fernet_token_not_the_address_or_number(
    trench_auth: Callable[..., Any], user: Any, api_client: APIClient, mailbox: Mailbox
) -> None:
    use_keys(trench_auth, K1)
    trench_auth(methods={"sms": OUTBOX})
    activate_sms_and_email(api_client, user, mailbox)

    email, phone = raw_destination(user, "email"), raw_destination(user, "sms")
    for raw, value, fragments in (
        (email, ORIGINAL, ("alice", "example")),
        (phone, user.phone_number, ("600100200", "600 100 200")),
    ):
        assert raw.startswith("gAAAAA")  # a Fernet token (version byte 0x80)
        assert not any(fragment in raw for fragment in fragments)
        assert Fernet(K1).decrypt(raw.encode()).decode() == value


def test_rotating_the_keys_re_encrypts_the_destination(
    trench_auth: Callable[..., Any], user: Any, api_client: APIClient, mailbox: Mailbox
) -> None:
    use_keys(trench_auth, K1)
    activate_email(api_client, mailbox)
    before = raw_destination(user, "email")
    use_keys(trench_auth, K2, K1)
    out = StringIO()
    call_command("rotate_mfa_keys", stdout=out)
    assert "Re-encrypted 1 MFA secrets" in out.getvalue()

    after = raw_destination(user, "email")
    assert after != before
    assert Fernet(K2).decrypt(after.encode()).decode() == ORIGINAL
    use_keys(trench_auth, K2)  # the old key is gone
    assert APIClient().post("/auth/jwt/login/", credentials(user)).status_code == 200
    assert mailbox.recipients == [ORIGINAL, ORIGINAL]


@pytest.fixture
def staff(user_factory: Callable[..., Any]) -> Client:
    """A Django test client logged in as a superuser."""
    client = Client()
    client.force_login(user_factory(username="root", is_staff=True, is_superuser=True))
    return client


def test_the_admin_shows_the_destination_masked(
    trench_auth: Callable[..., Any],
    staff: Client,
    user: Any,
    api_client: APIClient,
    mailbox: Mailbox,
) -> None:
    trench_auth(methods={"sms": OUTBOX})
    activate_sms_and_email(api_client, user, mailbox)
    # The profile moves on, so the page cannot show the bound values as the user's.
    changed = get_user_model().objects.get(pk=user.pk)
    changed.email, changed.phone_number = ATTACKERS, ATTACKERS_PHONE
    changed.save()

    for name, masked, hidden in (
        ("email", "a***@example.com", (ORIGINAL, "alice@")),
        ("sms", "+48*******00", ("600100200", "100200")),
    ):
        method = MFAMethod.objects.get(user=user, name=name)
        page = staff.get(reverse("admin:trench_mfa_mfamethod_change", args=[method.pk]))
        assert page.status_code == 200
        html = page.content.decode()
        assert masked in html
        assert not any(value in html for value in hidden), name
