"""Backup codes: per user, shown once, salted slow hash, single use.

Normalisation rule (documented in the settings reference): outer whitespace,
inner spaces and dashes are dropped; when the alphabet has letters of one
case only, input is folded to that case; when the alphabet lacks ``o``, ``i``
and ``l`` but has ``0`` and ``1`` (Crockford base32, the default), those
letters are read as the digits they look like.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from trench_mfa.conf import mfa_settings
from trench_mfa.models import BackupCode
from trench_mfa.state import crypto
from trench_mfa.user import UserPk

#: Longest input looked at; anything longer is refused before any hashing.
MAX_INPUT_LENGTH = 64
_BUCKET_CHARS = 5  # 20 bits: a wrong code hits a stored bucket ~1 time in 100,000


@sensitive_variables()
def normalise_backup_code(raw: str) -> str:
    """Apply the normalisation rule above to ``raw``."""
    alphabet = mfa_settings.BACKUP_CODES_CHARACTERS
    value = raw.strip()
    for separator in ("-", " "):
        if separator not in alphabet:
            value = value.replace(separator, "")
    letters = [c for c in alphabet if c.isalpha()]
    if letters and all(c.islower() for c in letters):
        value = value.lower()
    elif letters and all(c.isupper() for c in letters):
        value = value.upper()
    if "0" in alphabet and "o" not in alphabet and "O" not in alphabet:
        value = value.replace("o", "0").replace("O", "0")
    if "1" in alphabet:
        for look_alike in "iIlL":
            if look_alike not in alphabet:
                value = value.replace(look_alike, "1")
    return value


@sensitive_variables()
def is_well_formed(raw: str) -> bool:
    """Whether ``raw`` can be a backup code (length and alphabet only)."""
    if len(raw) > MAX_INPUT_LENGTH or not raw.isascii():
        # ASCII first: case folding maps some non-ASCII letters into the
        # alphabet (KELVIN SIGN.lower() == "k").
        return False
    value = normalise_backup_code(raw)
    alphabet = mfa_settings.BACKUP_CODES_CHARACTERS
    return len(value) == mfa_settings.BACKUP_CODES_LENGTH and all(c in alphabet for c in value)


@dataclass(frozen=True)
class BackupCandidate:
    """The user's unused code in ``bucket``, read along with other rows (login step 2).

    ``pk`` and ``code_hash`` are ``None`` when the bucket holds no unused code.
    """

    bucket: str
    pk: int | None
    code_hash: str | None


@sensitive_variables()
def _bucket(normalised: str) -> str:
    # Not keyed by the user: login step 2 computes the bucket before it
    # knows who the token belongs to, and reads the candidate in the same
    # statement as the challenge. Each user's set still has one code per
    # bucket (see replace_backup_codes), and rows are found by user too.
    return crypto.keyed_hash("backup-code-bucket", normalised)[:_BUCKET_CHARS]


@sensitive_variables()
def bucket_of(raw: str) -> str | None:
    """The bucket of ``raw`` if it is a well-formed backup code, else ``None``."""
    return _bucket(normalise_backup_code(raw)) if is_well_formed(raw) else None


@sensitive_variables()
def replace_backup_codes(user_id: UserPk) -> list[str]:
    """Replace the user's whole set with new codes; return them (shown once).

    Codes are drawn until every one has its own bucket, so a right code never
    costs more than one slow hash.
    """
    quantity = mfa_settings.BACKUP_CODES_QUANTITY
    alphabet = mfa_settings.BACKUP_CODES_CHARACTERS
    length = mfa_settings.BACKUP_CODES_LENGTH
    hasher = mfa_settings.BACKUP_CODES_HASHER or "default"
    codes: dict[str, str] = {}
    while len(codes) < quantity:
        code = crypto.generate_string(alphabet, length)
        codes.setdefault(_bucket(normalise_backup_code(code)), code)
    rows = [
        BackupCode(
            user_id=user_id,
            bucket=bucket,
            code_hash=make_password(normalise_backup_code(code), hasher=hasher),
        )
        for bucket, code in codes.items()
    ]
    with transaction.atomic():
        BackupCode.objects.filter(user_id=user_id).delete()
        BackupCode.objects.bulk_create(rows)
    return list(codes.values())


@sensitive_variables()
def use_backup_code(user_id: UserPk, raw: str, prefetched: BackupCandidate | None = None) -> bool:
    """Check ``raw`` against the user's unused codes and use it at most once.

    ``prefetched`` is the candidate of ``raw``'s bucket when the caller has
    read it already (login step 2); the check then needs no read of its own.
    """
    if not is_well_formed(raw):
        return False
    value = normalise_backup_code(raw)
    bucket = _bucket(value)
    candidates: list[tuple[int, str]]
    if prefetched is not None and prefetched.bucket == bucket:
        candidates = (
            [(prefetched.pk, prefetched.code_hash)]
            if prefetched.pk is not None and prefetched.code_hash is not None
            else []
        )
    else:
        candidates = list(
            BackupCode.objects.filter(
                user_id=user_id, bucket=bucket, used_at__isnull=True
            ).values_list("pk", "code_hash")
        )
    for pk, encoded in candidates:
        if check_password(value, encoded):
            # The conditional UPDATE is what makes the code single use under
            # concurrency: only one request can flip used_at from NULL.
            return (
                BackupCode.objects.filter(pk=pk, used_at__isnull=True).update(
                    used_at=timezone.now()
                )
                == 1
            )
    return False


def remaining_backup_codes(user_id: UserPk) -> int:
    """How many unused backup codes the user has left."""
    return BackupCode.objects.filter(user_id=user_id, used_at__isnull=True).count()


def delete_backup_codes(user_id: UserPk) -> None:
    """Remove the user's backup codes (MFA turned off)."""
    BackupCode.objects.filter(user_id=user_id).delete()
