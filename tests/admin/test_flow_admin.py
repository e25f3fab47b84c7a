"""Admin pages of verified identifiers and hardcodes: read-only, never a digest or hash."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.support.flows import IDENTIFIERS
from tests.support.sms_outbox import OUTBOX
from trench_mfa.models import Hardcode, VerifiedIdentifier
from trench_mfa.services import hardcode, identifiers
from trench_mfa.state import identity

PIN = "4711"


@pytest.fixture(autouse=True)
def _identifiers(trench_auth: Callable[..., Any]) -> None:
    trench_auth(methods={"sms": OUTBOX}, IDENTIFIERS=IDENTIFIERS)


@pytest.fixture
def flow_user(user: Any) -> Any:
    """``user`` with a confirmed email, a pending phone number and a hardcode."""
    identifiers.mark_confirmed(user, "email")
    VerifiedIdentifier.objects.create(
        user=user,
        field="phone_number",
        pending_digest=identity.value_digest("phone_number", user.phone_number),
    )
    hardcode.store_hardcode(user, PIN)
    return user


def _secrets(user: Any) -> list[str]:
    stored = [PIN, user.email, user.phone_number]
    for row in VerifiedIdentifier.objects.filter(user=user):
        stored += [row.value_digest, row.pending_digest]
    code_hash = Hardcode.objects.get(user=user).code_hash
    stored += [code_hash, code_hash.split("$")[-1]]
    return [s for s in stored if s]


def _pages(user: Any) -> list[str]:
    email_row = VerifiedIdentifier.objects.get(user=user, field="email")
    return [
        reverse("admin:trench_mfa_verifiedidentifier_changelist"),
        reverse("admin:trench_mfa_verifiedidentifier_changelist") + f"?q={user.get_username()}",
        reverse("admin:trench_mfa_verifiedidentifier_change", args=[email_row.pk]),
        reverse("admin:trench_mfa_hardcode_changelist"),
        reverse("admin:trench_mfa_hardcode_change", args=[Hardcode.objects.get(user=user).pk]),
    ]


def test_pages_never_show_a_digest_hash_or_value(staff: Client, flow_user: Any) -> None:
    if get_user_model().USERNAME_FIELD == "email":
        pytest.skip("the user's address is its name on this user model")
    for page in _pages(flow_user):
        response = staff.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        for secret in _secrets(flow_user):
            assert secret not in html, (page, "leaked")


def test_the_list_says_which_values_are_confirmed(staff: Client, flow_user: Any) -> None:
    url = reverse("admin:trench_mfa_verifiedidentifier_changelist")
    response = staff.get(url)
    rows = {r.field: r for r in response.context["cl"].result_list}
    admin = response.context["cl"].model_admin
    assert admin.is_confirmed(rows["email"]) and not admin.is_confirmed(rows["phone_number"])
    for column in ("User", "Field", "Confirmed", "Confirmed at"):
        assert column in response.content.decode()
    # A value changed since its confirmation is shown as not confirmed.
    get_user_model().objects.filter(pk=flow_user.pk).update(email="new@example.com")
    response = staff.get(url)
    rows = {r.field: r for r in response.context["cl"].result_list}
    assert not response.context["cl"].model_admin.is_confirmed(rows["email"])
    found = staff.get(url, {"field__exact": "email"}).context["cl"].result_list
    assert [r.field for r in found] == ["email"]


@pytest.mark.parametrize("model", ["verifiedidentifier", "hardcode"])
def test_nothing_can_be_added_changed_or_deleted(staff: Client, flow_user: Any, model: str) -> None:
    row = (VerifiedIdentifier if model == "verifiedidentifier" else Hardcode).objects.filter(
        user=flow_user
    )[0]
    assert staff.get(reverse(f"admin:trench_mfa_{model}_add")).status_code == 403
    change = reverse(f"admin:trench_mfa_{model}_change", args=[row.pk])
    staff.post(change, {"field": "username", "code_hash": "x", "value_digest": "x"})
    delete = reverse(f"admin:trench_mfa_{model}_delete", args=[row.pk])
    assert staff.post(delete, {"post": "yes"}).status_code == 403
    type(row).objects.get(pk=row.pk)  # still there
    assert identifiers.is_confirmed(flow_user, "email")
    assert hardcode.check_hardcode(flow_user, PIN)
    listing = staff.get(reverse(f"admin:trench_mfa_{model}_changelist")).content.decode()
    assert "delete_selected" not in listing
