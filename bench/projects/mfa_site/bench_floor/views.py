"""The floor views: login step 2 without any MFA logic, with the plain ORM.

Both take the body of login step 2, ``{"ephemeral_token", "code"}``, check
its shape with a DRF serializer, and answer ``{"refresh", "access"}`` (a
simplejwt pair from ``RefreshToken.for_user``) or 401. The token is the
random ``key`` of a :class:`~bench_floor.models.FloorChallenge` row; the code
is not checked (one HMAC-SHA1, tens of microseconds, is not worth a floor).

Statements on PostgreSQL:

- read-only floor: ``SELECT challenge JOIN auth_user WHERE key = %s``
  (``select_related``), in autocommit;
- durable-writes floor: ``BEGIN``; the same ``SELECT``;
  ``UPDATE challenge SET counter = counter + 1, used_at = now
  WHERE id = %s AND used_at IS NULL`` (``filter().update()`` with ``F()``);
  ``INSERT`` of one :class:`~bench_floor.models.FloorEvent`; ``COMMIT``.
  A challenge already used (the update matched no row) gets a 401 and no
  audit row.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import RefreshToken

from bench_floor.models import FloorChallenge, FloorEvent


class StepTwoSerializer(serializers.Serializer):
    """The body of login step 2."""

    ephemeral_token = serializers.CharField(max_length=64)
    code = serializers.CharField(max_length=32)


def _tokens(user: Any) -> Response:
    refresh = RefreshToken.for_user(user)
    return Response({"refresh": str(refresh), "access": str(refresh.access_token)})


def _refused() -> Response:
    return Response({"error": "invalid token"}, status=status.HTTP_401_UNAUTHORIZED)


class FloorView(APIView):
    """Shared parts: no authentication, no throttling, the serializer."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def _challenge(self, request: Request) -> FloorChallenge | None:
        """The unused challenge of the token, with its active user, or None."""
        body = StepTwoSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            challenge = FloorChallenge.objects.select_related("user").get(
                key=body.validated_data["ephemeral_token"]
            )
        except FloorChallenge.DoesNotExist:
            return None
        if challenge.used_at is not None or not challenge.user.is_active:
            return None
        return challenge


class ReadFloorView(FloorView):
    """The read-only floor: one read, then the JWT pair."""

    def post(self, request: Request) -> Response:
        """Read the challenge and its user; sign."""
        challenge = self._challenge(request)
        return _refused() if challenge is None else _tokens(challenge.user)


class WriteFloorView(FloorView):
    """The durable-writes floor: the read, a conditional update and an audit row, atomically."""

    def post(self, request: Request) -> Response:
        """Read, use the challenge once, record it, commit; sign."""
        with transaction.atomic():
            challenge = self._challenge(request)
            if challenge is None:
                return _refused()
            now = timezone.now()
            used = FloorChallenge.objects.filter(pk=challenge.pk, used_at__isnull=True).update(
                counter=F("counter") + 1, used_at=now
            )
            if not used:
                return _refused()
            FloorEvent.objects.create(
                user=challenge.user,
                event="login",
                outcome="success",
                ip=request.META.get("REMOTE_ADDR"),
                created_at=now,
            )
        return _tokens(challenge.user)
