"""Ephemeral login tokens: opaque, signed, single use, expiring.

A token is ``Signer``-signed ``"<challenge id>.<random secret>"``. The
signature is checked first, without touching the database; the challenge row
then holds the secret's hash, the expiry, the use flag, a failure count and
a keyed hash of the user's password hash (a password change kills the
token). Tokens carry 256 bits of randomness from :mod:`secrets`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core import signing
from django.db import router
from django.db.models import F, QuerySet
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from trench_mfa.conf import mfa_settings
from trench_mfa.exceptions import InvalidToken
from trench_mfa.models import LoginChallenge, MFAMethod
from trench_mfa.state import crypto, sql
from trench_mfa.state.backup_codes import BackupCandidate
from trench_mfa.state.challenge_read import read_step_two
from trench_mfa.state.step_writes import StepWrites, Write, execute
from trench_mfa.user import AnyUser

_SALT = "trench_mfa.ephemeral-token"
MAX_TOKEN_LENGTH = 256
#: The flow label of a passkey login's challenge (no user until a credential
#: names one). No ``FLOWS`` label can be it: field names have no ":".
PASSKEY_FLOW = ":passkey"


def _signer() -> signing.Signer:
    return signing.Signer(salt=_SALT, algorithm="sha256")


def user_state(user: AnyUser) -> str:
    """A keyed fingerprint of the user's password hash."""
    return crypto.keyed_hash("user-state", f"{user.pk}:{user.password}")


@sensitive_variables()
def issue_token(
    user: AnyUser | None,
    method: str,
    *,
    flow: str = "",
    factors: list[dict[str, Any]] | None = None,
) -> tuple[str, LoginChallenge]:
    """Start a login challenge for ``method``; return the token and its row.

    ``flow`` and ``factors`` record a flow login (see ``LoginChallenge``);
    ``user=None`` makes a decoy, which :func:`resolve_token` only returns
    when asked for decoys and which can never be answered.
    """
    secret = secrets.token_urlsafe(32)
    now = timezone.now()
    values = {
        "user": user.pk if user is not None else None,
        "method": method,
        "flow": flow,
        "factors": factors or [],
        "done": [],
        "secret_hash": crypto.plain_hash(secret),
        # A decoy has no password hash to fingerprint: any value will do.
        "user_state": user_state(user) if user is not None else crypto.plain_hash(secret),
        "failed_attempts": 0,
        "created_at": now,
        "expires_at": now + timedelta(seconds=mfa_settings.EPHEMERAL_TOKEN_VALIDITY),
        "used_at": None,
    }
    if pre_save.has_listeners(LoginChallenge) or post_save.has_listeners(LoginChallenge):
        # A project listens to the model's saves: save it through the ORM.
        challenge = LoginChallenge.objects.create(
            **{f"{k}_id" if k == "user" else k: v for k, v in values.items()}
        )
    else:
        # One plain INSERT (trench_mfa.state.sql): the ORM's would cost more
        # Python than the rest of login step 1 but the password check.
        challenge = sql.insert_row(router.db_for_write(LoginChallenge), LoginChallenge, values)
    return _signer().sign(f"{challenge.pk}.{secret}"), challenge


@sensitive_variables()
def parse_token(token: str) -> tuple[int, str]:
    """The challenge id and secret of a well-signed ``token`` (no query).

    Raises :class:`InvalidToken` for anything else.
    """
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise InvalidToken()
    try:
        payload = _signer().unsign(token)
    except signing.BadSignature:
        raise InvalidToken() from None
    challenge_id, _, secret = payload.partition(".")
    if not (challenge_id.isascii() and challenge_id.isdigit()) or not secret:
        raise InvalidToken()
    return int(challenge_id), secret


@sensitive_variables()
def _check_live(
    challenge: LoginChallenge | None, secret: str, *, allow_decoy: bool, passkey: bool = False
) -> LoginChallenge:
    """``challenge`` when ``secret`` opens it and it may still be answered.

    A passkey login's challenge is returned only when ``passkey`` asks for
    one, and then nothing else is.
    """
    if challenge is None or not crypto.constant_time_equals(
        challenge.secret_hash, crypto.plain_hash(secret)
    ):
        raise InvalidToken()
    if passkey != (challenge.user_id is None and challenge.flow == PASSKEY_FLOW):
        raise InvalidToken()
    user = challenge.user
    if (
        challenge.used_at is not None
        or challenge.expires_at <= timezone.now()
        or challenge.failed_attempts >= mfa_settings.MAX_CODE_ATTEMPTS
    ):
        raise InvalidToken()
    if user is None:
        if not (allow_decoy or passkey):
            raise InvalidToken()
        return challenge
    if not getattr(user, mfa_settings.USER_ACTIVE_FIELD, False) or not (
        crypto.constant_time_equals(challenge.user_state, user_state(user))
    ):
        raise InvalidToken()
    return challenge


@sensitive_variables()
def resolve_token(
    token: str, *, allow_decoy: bool = False, passkey: bool = False
) -> LoginChallenge:
    """The live challenge behind ``token``; raises :class:`InvalidToken`.

    Every failure (tampered, unknown, expired, used, too many wrong codes,
    inactive user, changed password) raises the same error. A decoy (no
    user) is returned only with ``allow_decoy``, a passkey login's challenge
    only with ``passkey``, under the same expiry, use and attempt rules as
    a real challenge.
    """
    challenge_id, secret = parse_token(token)
    return _check_live(
        _read_challenge(challenge_id), secret, allow_decoy=allow_decoy, passkey=passkey
    )


def _read_challenge(challenge_id: int) -> LoginChallenge | None:
    return LoginChallenge.objects.select_related("user").filter(pk=challenge_id).first()


@dataclass(frozen=True)
class LockedChallenge:
    """What :func:`resolve_locked` read: the live challenge and its user's rows.

    ``rows`` are all the user's method rows, locked, by primary key;
    ``backup`` the user's unused backup code in the bucket asked for.
    """

    challenge: LoginChallenge
    rows: list[MFAMethod]
    backup: BackupCandidate | None = None


@sensitive_variables()
def resolve_locked(
    token: str, *, backup_bucket: str | None = None, allow_decoy: bool = False
) -> LockedChallenge:
    """The live challenge behind ``token`` and all its user's method rows, locked.

    Must run inside ``transaction.atomic()``. One statement reads the
    challenge, the user, every method row of the user (locked by primary
    key, see :func:`trench_mfa.state.locks.lock_methods`) and, when
    ``backup_bucket`` is given, the user's unused backup code in that
    bucket, so the code check that follows needs no further read. Raises
    like :func:`resolve_token`; a decoy (no user, no rows) only with ``allow_decoy``.
    """
    challenge_id, secret = parse_token(token)
    db = router.db_for_write(MFAMethod)
    read = read_step_two(challenge_id, backup_bucket, using=db)
    if read is None:
        # A user without method rows (or a decoy): nothing to lock.
        return LockedChallenge(
            _check_live(_read_challenge(challenge_id), secret, allow_decoy=allow_decoy), []
        )
    backup = (
        BackupCandidate(backup_bucket, read.backup_pk, read.backup_hash)
        if backup_bucket is not None
        else None
    )
    return LockedChallenge(
        _check_live(read.challenge, secret, allow_decoy=False), read.rows, backup
    )


def _answerable(challenge: LoginChallenge) -> QuerySet[LoginChallenge]:
    """The challenge's row while it is unused and has attempts left."""
    return LoginChallenge.objects.filter(
        pk=challenge.pk,
        used_at__isnull=True,
        failed_attempts__lt=mfa_settings.MAX_CODE_ATTEMPTS,
    )


def is_answerable(challenge: LoginChallenge) -> bool:
    """Whether the challenge is still unused and has attempts left (one query)."""
    return _answerable(challenge).exists()


def advance_challenge(
    challenge: LoginChallenge, method: str, factors: list[dict[str, Any]], *, done: str
) -> bool:
    """Move a flow login to its next factor; ``False`` when another request did first."""
    return (
        _answerable(challenge)
        .filter(method=challenge.method)
        .update(method=method, factors=factors, done=[*challenge.done, done])
        == 1
    )


def _consume_write(using: str, challenge: LoginChallenge) -> Write:
    """``UPDATE`` marking the challenge used, while unused and with attempts left."""

    def build() -> str:
        table = sql.quoted_table(using, LoginChallenge)

        def col(name: str | None = None) -> str:
            return sql.quoted_column(using, LoginChallenge, name)

        return (
            f"UPDATE {table} SET {col('used_at')} = %s"  # noqa: S608 - quoted names only
            f" WHERE {col()} = %s AND {col('used_at')} IS NULL"
            f" AND {col('failed_attempts')} < %s"
        )

    now = sql.prepared(using, LoginChallenge, "used_at", timezone.now())
    return Write(
        sql.cached(using, "challenge-consume", build),
        [now, challenge.pk, mfa_settings.MAX_CODE_ATTEMPTS],
    )


def consume_challenge(challenge: LoginChallenge, writes: StepWrites | None = None) -> bool:
    """Mark the challenge used; ``False`` when another request did first.

    With ``writes`` (login step 2), the ``UPDATE`` is collected there and
    sent with the step's other writes, which then check that it found the
    row (``True`` here).
    """
    using = writes.using if writes is not None else router.db_for_write(LoginChallenge)
    write = _consume_write(using, challenge)
    if writes is not None:
        writes.add(write)
        return True
    return execute(using, write) == 1


def reserve_attempt(challenge: LoginChallenge) -> bool:
    """Count one answer against the challenge *before* it is checked.

    A conditional ``UPDATE``: of any number of parallel requests, only as
    many as ``MAX_CODE_ATTEMPTS`` allows get ``True``; the others must be
    refused unevaluated. A successful answer uses the challenge up, so its
    reserved attempt never matters; give back the attempt of an answer that
    was not evaluated (:func:`refund_attempt`).
    """
    return (
        LoginChallenge.objects.filter(
            pk=challenge.pk,
            used_at__isnull=True,
            failed_attempts__lt=mfa_settings.MAX_CODE_ATTEMPTS,
        ).update(failed_attempts=F("failed_attempts") + 1)
        == 1
    )


def refund_attempt(challenge: LoginChallenge) -> None:
    """Give back an attempt reserved for an answer that was not evaluated."""
    LoginChallenge.objects.filter(pk=challenge.pk, failed_attempts__gt=0).update(
        failed_attempts=F("failed_attempts") - 1
    )


def record_failure(challenge: LoginChallenge) -> bool:
    """Count a wrong code against the challenge (it dies at the cap).

    ``False`` when the challenge was used up or out of attempts already (a
    parallel request got there first): the answer must then not count.
    """
    return _answerable(challenge).update(failed_attempts=F("failed_attempts") + 1) == 1
