"""Models of login flows: verified identifiers and hardcodes.

Re-exported by :mod:`trench_mfa.models`. Neither table holds an identifier
or a secret in clear: identifiers are stored as keyed hashes of their
normalised value, hardcodes with Django's password hashers.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class VerifiedIdentifier(models.Model):
    """The verification state of one identifier field (email, phone) of a user.

    The value counts as confirmed while ``value_digest`` (set when it was
    confirmed) equals the digest of the user's *current* value, so a changed
    value is unconfirmed at once, however it was changed.
    ``pending_digest`` is the value the latest code was sent to: a code only
    confirms that value.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    field = models.CharField(_("field"), max_length=150)
    value_digest = models.CharField(_("confirmed value digest"), max_length=64, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    pending_digest = models.CharField(_("pending value digest"), max_length=64, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("verified identifier")
        verbose_name_plural = _("verified identifiers")
        constraints = [
            models.UniqueConstraint(fields=["user", "field"], name="trench_mfa_unique_identifier")
        ]

    def __str__(self) -> str:
        return f"{self.field} of user {self.user_id}"


class Hardcode(models.Model):
    """A user's hardcode: a second static secret (device or card PIN), slow-hashed."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    code_hash = models.CharField(_("hash"), max_length=255)
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("hardcode")
        verbose_name_plural = _("hardcodes")

    def __str__(self) -> str:
        return f"hardcode of user {self.user_id}"
