"""Secrets at rest: Fernet/MultiFernet encryption, key derivation, rotation."""

from __future__ import annotations

import base64
import binascii
from io import StringIO
from typing import Any

import pyotp
import pytest
import time_machine
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client

from trench_mfa.backends.provider import get_mfa_handler
from trench_mfa.models import MFAMethod
from trench_mfa.state import secrets_at_rest
from trench_mfa.state.secrets_at_rest import (
    SecretDecryptionError,
    decrypt_secret,
    derive_key,
    encrypt_secret,
    uses_newest_key,
)

SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
K1, K2, K3 = (Fernet.generate_key().decode() for _ in range(3))


@pytest.fixture
def keys(settings: Any) -> Any:
    """Set ``ENCRYPTION_KEYS``: ``keys(K2, K1)`` (newest first)."""

    def configure(*values: str | None) -> None:
        explicit = None if values == (None,) else list(values)
        settings.TRENCH_AUTH = {**settings.TRENCH_AUTH, "ENCRYPTION_KEYS": explicit}

    return configure


def test_round_trip_and_raw_value_hides_the_secret(keys: Any) -> None:
    keys(K1)
    token = encrypt_secret(SEED)
    assert decrypt_secret(token) == SEED
    assert token != SEED and SEED not in token
    assert encrypt_secret(SEED) != token  # random IV: equal secrets look different
    with pytest.raises((binascii.Error, ValueError)):
        base64.b32decode(token + "=" * (-len(token) % 8))
    # It opens only with the key: another Fernet key does not decode it.
    with pytest.raises(InvalidToken):
        Fernet(K2.encode()).decrypt(token.encode())


def test_wrong_key_is_a_clear_error_never_a_silent_accept(keys: Any) -> None:
    keys(K1)
    token = encrypt_secret(SEED)
    keys(K2)
    with pytest.raises(SecretDecryptionError, match=r"ENCRYPTION_KEYS"):
        decrypt_secret(token)


@pytest.mark.parametrize("raw", [SEED, "", "gAAAAAB-not-a-token", "ünïcode"])
def test_values_that_are_not_our_tokens_do_not_decrypt(keys: Any, raw: str) -> None:
    keys(K1)
    with pytest.raises(SecretDecryptionError):
        decrypt_secret(raw)


def test_tampered_token_does_not_decrypt(keys: Any) -> None:
    keys(K1)
    token = bytearray(base64.urlsafe_b64decode(encrypt_secret(SEED)))
    token[-40] ^= 1
    with pytest.raises(SecretDecryptionError):
        decrypt_secret(base64.urlsafe_b64encode(bytes(token)).decode())


def test_old_key_still_decrypts_after_a_new_key_is_put_first(keys: Any) -> None:
    keys(K1)
    old = encrypt_secret(SEED)
    keys(K2, K1)
    assert decrypt_secret(old) == SEED
    assert not uses_newest_key(old)
    new = encrypt_secret(SEED)
    assert uses_newest_key(new)
    keys(K2)
    assert decrypt_secret(new) == SEED
    with pytest.raises(SecretDecryptionError):
        decrypt_secret(old)


def test_derived_keys_follow_secret_key_and_its_fallbacks(keys: Any, settings: Any) -> None:
    keys(None)
    token = encrypt_secret(SEED)
    assert secrets_at_rest.configured_keys()[0] == derive_key(settings.SECRET_KEY)
    old_secret_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-brand-new-secret-key-for-this-test-0123456789-abcdefghij"
    settings.SECRET_KEY_FALLBACKS = [old_secret_key]
    assert decrypt_secret(token) == SEED
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(SecretDecryptionError):
        decrypt_secret(token)


def test_derived_key_is_not_the_secret_key_itself(settings: Any) -> None:
    derived = derive_key(settings.SECRET_KEY)
    assert len(base64.urlsafe_b64decode(derived)) == 32
    assert settings.SECRET_KEY.encode() not in base64.urlsafe_b64decode(derived)
    assert derive_key("other") != derived


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not-a-key", r"ENCRYPTION_KEYS'\] must be a list"),
        ([], r"must not be empty"),
        (["short"], r"ENCRYPTION_KEYS'\]\[0\] is not a Fernet key"),
        ([K1, "x" * 44], r"ENCRYPTION_KEYS'\]\[1\] is not a Fernet key"),
    ],
)
def test_bad_keys_are_improperly_configured(settings: Any, value: Any, message: str) -> None:
    settings.TRENCH_AUTH = {**settings.TRENCH_AUTH, "ENCRYPTION_KEYS": value}
    with pytest.raises(ImproperlyConfigured, match=message) as info:
        encrypt_secret(SEED)
    assert "x" * 44 not in str(info.value)


def _app_row(user: Any) -> MFAMethod:
    return MFAMethod.objects.create(
        user=user, name="app", secret=encrypt_secret(SEED), is_active=True, is_primary=True
    )


def test_app_secret_column_is_encrypted(api_client: Any, user: Any) -> None:
    uri = api_client.post("/auth/app/activate/").json()["details"]
    secret = pyotp.parse_uri(uri).secret
    raw = MFAMethod.objects.values_list("secret", flat=True).get(user=user, name="app")
    assert raw != secret and secret not in raw
    assert raw.startswith("gAAAAA")  # a Fernet token (version byte 0x80)
    with pytest.raises((binascii.Error, ValueError)):
        base64.b32decode(raw + "=" * (-len(raw) % 8))
    assert decrypt_secret(raw) == secret


def test_rotate_command_re_encrypts_in_batches(keys: Any, user_factory: Any) -> None:
    keys(K1)
    rows = [_app_row(user_factory()) for _ in range(5)]
    empty = MFAMethod.objects.create(user=user_factory(), name="email")
    keys(K2, K1)
    out = StringIO()
    call_command("rotate_mfa_keys", "--batch-size", "2", stdout=out)
    assert "Re-encrypted 5 MFA secrets in 3 batches" in out.getvalue()
    assert "0 could not be decrypted" in out.getvalue()
    keys(K2)  # the old key is gone: every row opens with the new key alone
    for row in rows:
        raw = MFAMethod.objects.get(pk=row.pk).secret
        assert raw != row.secret and decrypt_secret(raw) == SEED
    assert MFAMethod.objects.get(pk=empty.pk).secret == ""


def test_rotated_rows_keep_verifying_codes(keys: Any, user: Any) -> None:
    keys(K1)
    method = _app_row(user)
    keys(K3, K1)
    with time_machine.travel(1_700_000_000, tick=False):
        code = pyotp.TOTP(SEED).now()
        assert get_mfa_handler(MFAMethod.objects.get(pk=method.pk)).validate_code(code)
    call_command("rotate_mfa_keys", stdout=StringIO())
    keys(K3)
    with time_machine.travel(1_700_000_030, tick=False):
        code = pyotp.TOTP(SEED).now()
        assert get_mfa_handler(MFAMethod.objects.get(pk=method.pk)).validate_code(code)


def test_rotate_command_reports_rows_no_key_opens(keys: Any, user_factory: Any) -> None:
    keys(K1)
    good = _app_row(user_factory())
    keys(K2)
    lost = _app_row(user_factory())
    keys(K3, K2)  # K1 was dropped too early
    out = StringIO()
    with pytest.raises(CommandError, match=rf"ids: {good.pk}\).*ENCRYPTION_KEYS"):
        call_command("rotate_mfa_keys", stdout=out)
    assert "Re-encrypted 1 MFA secrets in 1 batches" in out.getvalue()
    assert "1 could not be decrypted" in out.getvalue()
    assert MFAMethod.objects.get(pk=good.pk).secret == good.secret  # left untouched
    keys(K3)
    assert decrypt_secret(MFAMethod.objects.get(pk=lost.pk).secret) == SEED


def test_rotate_command_refuses_a_bad_batch_size() -> None:
    with pytest.raises(CommandError, match="batch-size"):
        call_command("rotate_mfa_keys", "--batch-size", "0")


def test_admin_never_shows_the_secret(user: Any, user_factory: Any) -> None:
    method = _app_row(user)
    admin_user = user_factory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin_user)
    pages = [
        client.get("/admin/trench_mfa/mfamethod/"),
        client.get(f"/admin/trench_mfa/mfamethod/{method.pk}/change/"),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert SEED not in html and method.secret not in html
        assert "gAAAAA" not in html
