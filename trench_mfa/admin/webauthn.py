"""Admin page of WebAuthn credentials: listed read-only, nothing that helps an attacker.

Staff see whose passkeys and security keys exist, their names, dates,
transports and backup state. Never the credential id, the public key, the
signature counter or the user handle: with them an attacker could target or
replay against one credential. Keys are removed by their owners
(``DELETE <method>/credentials/<id>/``) or with the whole method (the
methods page). Registered by :mod:`trench_mfa.admin`.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from trench_mfa.admin.flows import ReadOnlyAdmin
from trench_mfa.models import WebAuthnCredential


@admin.register(WebAuthnCredential)
class WebAuthnCredentialAdmin(ReadOnlyAdmin):
    """Registered passkeys and security keys; no key material, id or counter."""

    list_display = ("owner", "name", "method_name", "created_at", "last_used_at", "backed_up")
    list_filter = ("backed_up", "backup_eligible")
    list_select_related = ("method__user",)
    fields = (
        "owner",
        "method_name",
        "name",
        "transports",
        "backup_eligible",
        "backed_up",
        "created_at",
        "last_used_at",
    )

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        """Search by the owner's ``USERNAME_FIELD`` and the key's name."""
        return (f"method__user__{get_user_model().USERNAME_FIELD}", "name")

    @admin.display(description=_("user"), ordering="method__user")
    def owner(self, obj: WebAuthnCredential) -> object:
        """The user the credential belongs to."""
        return obj.method.user

    @admin.display(description=_("method"), ordering="method__name")
    def method_name(self, obj: WebAuthnCredential) -> str:
        """The WebAuthn method's name."""
        return obj.method.name
