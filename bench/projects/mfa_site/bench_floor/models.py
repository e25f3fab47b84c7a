"""The two tables of the floors: a login challenge and an audit row.

They have the indexes a careful developer would give them and no more: the
challenge is found by its unique random key, the audit row by user (the
foreign key's index) and by age (``created_at``, for pruning).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class FloorChallenge(models.Model):
    """One pending second step: a random key for one user, usable once."""

    key = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    counter = models.PositiveIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"challenge {self.pk} of user {self.user_id}"


class FloorEvent(models.Model):
    """One audit row: who logged in, with what outcome, from where."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    event = models.CharField(max_length=32)
    outcome = models.CharField(max_length=32, default="success")
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.event} ({self.outcome}) for user {self.user_id}"
