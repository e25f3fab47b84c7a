"""Random one-time codes: issue, consume exactly once, void, withdraw.

Only an HMAC of each code is stored. Consumption is a single conditional
``UPDATE`` (never read-then-save), so two concurrent requests with the same
code cannot both succeed, on any database. A voided code stays as a row
(it was sent, so it counts toward ``SEND_LIMIT``); a withdrawn one, whose
delivery failed, is deleted: it was never a message.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from trench_mfa.conf import mfa_settings
from trench_mfa.models import CodePurpose, MFAMethod, OneTimeCode
from trench_mfa.state import crypto


@sensitive_variables()
def code_digest(method_id: int, purpose: str, code: str) -> str:
    """The stored form of ``code``: bound to its method and purpose."""
    return crypto.keyed_hash("one-time-code", f"{method_id}:{purpose}:{code}")


def _live(method: MFAMethod, purpose: str) -> dict[str, object]:
    return {
        "method_id": method.pk,
        "purpose": purpose,
        "consumed_at__isnull": True,
        "expires_at__gt": timezone.now(),
    }


@sensitive_variables()
def issue_code(
    method: MFAMethod,
    purpose: CodePurpose,
    *,
    validity: int,
    challenge_id: int | None = None,
) -> str:
    """Store a new random code for ``method`` and ``purpose``; return it.

    The previous live code of the same method and purpose stops working.
    """
    code = crypto.generate_numeric_code(mfa_settings.CODE_LENGTH)
    now = timezone.now()
    with transaction.atomic():
        OneTimeCode.objects.filter(
            method_id=method.pk, purpose=purpose, consumed_at__isnull=True
        ).update(consumed_at=now)
        OneTimeCode.objects.create(
            method_id=method.pk,
            purpose=purpose,
            challenge_id=challenge_id,
            code_hash=code_digest(method.pk, purpose, code),
            expires_at=now + timedelta(seconds=validity),
        )
    return code


@sensitive_variables()
def consume_code(
    method: MFAMethod,
    purpose: CodePurpose,
    code: str,
    *,
    challenge_id: int | None = None,
) -> bool:
    """Use ``code`` once. A wrong code counts against the live code's attempts.

    A code dies after ``MAX_CODE_ATTEMPTS`` wrong tries; a login code only
    verifies with the login challenge it was issued for.
    """
    live = OneTimeCode.objects.filter(
        **_live(method, purpose), attempts__lt=mfa_settings.MAX_CODE_ATTEMPTS
    )
    if purpose == CodePurpose.LOGIN:
        live = live.filter(challenge_id=challenge_id)
    digest = code_digest(method.pk, purpose, code)
    if live.filter(code_hash=digest).update(consumed_at=timezone.now()) == 1:
        return True
    live.update(attempts=F("attempts") + 1)
    return False


def void_codes(method: MFAMethod, purpose: CodePurpose | None = None) -> int:
    """Make every live code of ``method`` (optionally of one purpose) unusable."""
    return void_codes_of([method.pk], purpose)


def withdraw_codes(method: MFAMethod, purpose: CodePurpose, code: str | None = None) -> int:
    """Delete the live codes of ``method`` and ``purpose`` (only ``code``, if given); how many.

    For codes whose delivery failed: gone, they are unusable like voided
    ones, and do not count toward ``SEND_LIMIT``
    (:func:`trench_mfa.state.send_limits.check_cooldown`), so an outage of
    the mail server or the SMS provider does not use up the user's sends.
    """
    live = OneTimeCode.objects.filter(
        method_id=method.pk, purpose=purpose, consumed_at__isnull=True
    )
    if code is not None:
        live = live.filter(code_hash=code_digest(method.pk, purpose, code))
    deleted, _ = live.delete()
    return deleted


def void_codes_of(
    methods: Iterable[int] | QuerySet[MFAMethod], purpose: CodePurpose | None = None
) -> int:
    """Make every live code of these methods (primary keys or rows) unusable; how many."""
    codes = OneTimeCode.objects.filter(method__in=methods, consumed_at__isnull=True)
    if purpose is not None:
        codes = codes.filter(purpose=purpose)
    return codes.update(consumed_at=timezone.now())
