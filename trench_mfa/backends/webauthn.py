"""WebAuthn method: passkeys and security keys, through py_webauthn.

Nothing is sent: a dispatch hands the browser the options for
``navigator.credentials.create()`` (activation) or ``.get()`` (login,
protected actions) under ``"options"``, with a new challenge
(:mod:`trench_mfa.state.webauthn_challenges`: random, single use, expiring,
bound to the method, or to the login's ephemeral token). The browser's
answer comes back as the code (:mod:`trench_mfa.backends.webauthn_answer`)
and is checked here: the challenge is used up first, then py_webauthn checks
the origin (``ORIGINS``), the RP ID hash (``RP_ID``), user presence, user
verification when asked for, and the signature; the signature counter must
grow (a counter that goes back is refused and audited: a cloned
authenticator), unless the authenticator keeps none (always 0).

Method options (defaults in ``trench_mfa.conf.KNOWN_METHODS["webauthn"]``):
``RP_ID`` (the site's domain), ``RP_NAME`` (default ``APPLICATION_ISSUER_NAME``),
``ORIGINS`` (the allowed origins, e.g. ``["https://example.com"]``),
``USER_VERIFICATION`` and ``RESIDENT_KEY`` (``required``, ``preferred``,
``discouraged``), ``ATTESTATION`` (``none``, ``indirect``, ``direct``,
``enterprise``) and ``VALIDITY_PERIOD`` (seconds a challenge lives).

The user handle given to authenticators is 32 random bytes made once per
user (never the primary key), stored encrypted in the method row's
``secret``; credentials live in :class:`~trench_mfa.models.WebAuthnCredential`.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from trench_mfa import signals
from trench_mfa.backends.base import AbstractMessageDispatcher, CodeCheck, DispatchResult
from trench_mfa.backends.webauthn_answer import (
    MAX_ANSWER_LENGTH,
    Answer,
    b64url_decode,
    client_challenge,
    decode_answer,
)
from trench_mfa.conf import mfa_settings
from trench_mfa.exceptions import CodeInvalidOrExpired
from trench_mfa.models import CodePurpose, MFAMethod, WebAuthnCredential
from trench_mfa.state import audit
from trench_mfa.state import webauthn_challenges as challenges
from trench_mfa.state import webauthn_credentials as credentials
from trench_mfa.state.crypto import constant_time_equals
from trench_mfa.state.secrets_at_rest import decrypt_secret, encrypt_secret

logger = logging.getLogger("trench_mfa.webauthn")

#: RFC 8176 values: a key in hardware, a synced (software) passkey, a verified user.
HWK = "hwk"
SWK = "swk"
USER = "user"

_KNOWN_TRANSPORTS = {t.value for t in AuthenticatorTransport}


def _new_user_handle() -> str:
    return challenges.encode(secrets.token_bytes(32))


class WebAuthnDispatcher(AbstractMessageDispatcher):
    """Passkeys and security keys: options out, signed answers in."""

    sends_codes: ClassVar[bool] = False
    default_validity_period: ClassVar[int | None] = 300
    #: Without details of the answer (see :meth:`answer_amr`): a key in hardware.
    amr_values: ClassVar[tuple[str, ...]] = (HWK,)
    #: A user may register several credentials: activating the active method adds one.
    adds_credentials: ClassVar[bool] = True
    max_code_length: ClassVar[int | None] = MAX_ANSWER_LENGTH

    instructions = _("Use your passkey or security key.")
    activation_instructions = _("Register your passkey or security key.")

    #: What a successful registration check found, stored by :meth:`confirm_activation`.
    _registered: credentials.NewCredential | None = None
    _registered_code: str | None = None
    #: The amr values of the last accepted assertion.
    _amr: tuple[str, ...] | None = None

    # --- settings ---------------------------------------------------------

    @property
    def rp_id(self) -> str:
        """The relying party id: the site's registrable domain (``RP_ID``)."""
        return str(self._config.get("RP_ID") or "")

    @property
    def rp_name(self) -> str:
        """The name authenticators show (``RP_NAME``, else the issuer name)."""
        return str(self._config.get("RP_NAME") or mfa_settings.APPLICATION_ISSUER_NAME)

    @property
    def origins(self) -> list[str]:
        """The origins a browser answer may come from (``ORIGINS``)."""
        value = self._config.get("ORIGINS") or ()
        return [value] if isinstance(value, str) else [str(o) for o in value]

    @property
    def user_verification(self) -> UserVerificationRequirement:
        """``USER_VERIFICATION``: required, preferred or discouraged."""
        return UserVerificationRequirement(str(self._config.get("USER_VERIFICATION", "preferred")))

    @property
    def timeout_ms(self) -> int:
        """The options' timeout: the challenge's lifetime, in milliseconds."""
        return self.validity_period * 1000

    # --- the user handle ----------------------------------------------------

    def user_handle(self) -> str:
        """The user's handle (base64url), made on first use."""
        if self._mfa_method.secret:
            return decrypt_secret(self._mfa_method.secret)
        handle = _new_user_handle()
        self._mfa_method.secret = encrypt_secret(handle)
        MFAMethod.objects.filter(pk=self._mfa_method.pk).update(secret=self._mfa_method.secret)
        return handle

    def prepare_activation(self) -> None:
        """Make the user handle when the method has none (kept across re-activations)."""
        self.user_handle()

    # --- options ------------------------------------------------------------

    def _binding(self) -> challenges.Binding:
        if self.purpose == CodePurpose.LOGIN:
            method = self._mfa_method if self._mfa_method.pk is not None else None
            return challenges.Binding(self.purpose, method, self.challenge_id)
        return challenges.Binding(self.purpose, self._mfa_method)

    def _issue(self, *, user_verification: bool) -> bytes:
        return challenges.issue(
            self._binding(), validity=self.validity_period, user_verification=user_verification
        )

    def _descriptors(self) -> list[PublicKeyCredentialDescriptor]:
        rows = credentials.of_method(self._mfa_method) if self._mfa_method.pk else []
        descriptors = []
        for row in rows:
            known = [AuthenticatorTransport(t) for t in row.transports if t in _KNOWN_TRANSPORTS]
            descriptors.append(
                PublicKeyCredentialDescriptor(
                    id=b64url_decode(row.credential_id), transports=known or None
                )
            )
        return descriptors

    def registration_options(self) -> dict[str, Any]:
        """Options for ``navigator.credentials.create()`` (JSON form)."""
        uv = self.user_verification
        resident = ResidentKeyRequirement(str(self._config.get("RESIDENT_KEY", "preferred")))
        attestation = AttestationConveyancePreference(str(self._config.get("ATTESTATION", "none")))
        user = self._mfa_method.user
        assert user is not None  # registration is for a user's own method row
        username = str(user.get_username())
        options = generate_registration_options(
            rp_id=self.rp_id,
            rp_name=self.rp_name,
            user_name=username,
            user_id=b64url_decode(self.user_handle()),
            user_display_name=username,
            challenge=self._issue(user_verification=uv == UserVerificationRequirement.REQUIRED),
            timeout=self.timeout_ms,
            attestation=attestation,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=resident, user_verification=uv
            ),
            exclude_credentials=self._descriptors(),
        )
        result: dict[str, Any] = json.loads(options_to_json(options))
        return result

    def authentication_options(self) -> dict[str, Any]:
        """Options for ``navigator.credentials.get()`` (JSON form).

        Without a method row (a passkey login) no credential is named, so the
        browser offers the user's discoverable credentials, and user
        verification is required.
        """
        passkey = self._mfa_method.pk is None
        uv = UserVerificationRequirement.REQUIRED if passkey else self.user_verification
        options = generate_authentication_options(
            rp_id=self.rp_id,
            challenge=self._issue(user_verification=uv == UserVerificationRequirement.REQUIRED),
            timeout=self.timeout_ms,
            allow_credentials=[] if passkey else self._descriptors(),
            user_verification=uv,
        )
        result: dict[str, Any] = json.loads(options_to_json(options))
        return result

    def dispatch_message(self) -> DispatchResult:
        """The options for the browser, with a new challenge."""
        if self.purpose == CodePurpose.ACTIVATION:
            return DispatchResult.sent(
                str(self.activation_instructions), options=self.registration_options()
            )
        return DispatchResult.sent(str(self.instructions), options=self.authentication_options())

    # --- checking answers ---------------------------------------------------

    def is_well_formed(self, code: str) -> bool:
        """A credential JSON answer (see :mod:`~trench_mfa.backends.webauthn_answer`)."""
        return decode_answer(code) is not None

    def create_code(self) -> str:
        """A WebAuthn answer is made by the authenticator, never by the server."""
        raise NotImplementedError("WebAuthn answers are made by the authenticator.")

    def discard_code(self) -> None:
        """Nothing is stored per code (challenges expire by themselves)."""

    def _consume(self, answer: Answer) -> tuple[bytes, bool, bool] | None:
        """(challenge, user verification required, passkey) of the answer's live challenge."""
        encoded = client_challenge(answer)
        row = challenges.consume(self._binding(), encoded) if encoded else None
        if row is None or encoded is None:
            return None
        required = row.user_verification or (
            self.user_verification == UserVerificationRequirement.REQUIRED
        )
        return b64url_decode(encoded), required, row.method_id is None

    def check_code(self, code: str) -> CodeCheck:
        """Check a registration (activation) or an assertion (login, action)."""
        self._amr = None
        answer = decode_answer(code)
        if answer is None:
            return CodeCheck(False)
        if self.purpose == CodePurpose.ACTIVATION:
            return CodeCheck(self._check_registration(answer, code))
        return CodeCheck(self._check_assertion(answer))

    def validate_code(self, code: str) -> bool:
        """An assertion for a login or a protected action (see :meth:`check_code`)."""
        return self.check_code(code).ok

    def validate_confirmation_code(self, code: str) -> bool:
        """A registration response (see :meth:`check_code`)."""
        return self.check_code(code).ok

    def _refused(self, why: str, exc: Exception | None = None) -> bool:
        # The class name only: py_webauthn's messages repeat client data.
        logger.info(
            "WebAuthn answer refused (method %r, purpose %s): %s%s",
            self._mfa_method.name,
            self.purpose,
            why,
            f" ({type(exc).__name__})" if exc else "",
        )
        return False

    def _check_registration(self, answer: Answer, code: str) -> bool:
        consumed = self._consume(answer)
        if consumed is None:
            return self._refused("no live challenge")
        challenge, uv_required, _passkey = consumed
        try:
            verified = verify_registration_response(
                credential=answer.credential,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origins,
                require_user_verification=uv_required,
            )
        except Exception as exc:  # py_webauthn raises many kinds for hostile input
            return self._refused("registration did not verify", exc)
        credential_id = challenges.encode(verified.credential_id)
        if credentials.is_registered(credential_id):
            return self._refused("credential already registered")
        self._registered = credentials.NewCredential(
            credential_id=credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=[t for t in answer.transports if t in _KNOWN_TRANSPORTS],
            backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
            backed_up=verified.credential_backed_up,
            name=answer.name.strip()[:255] or str(self._config.get("VERBOSE_NAME") or "passkey"),
        )
        self._registered_code = code
        return True

    def confirm_activation(self, code: str) -> None:
        """Store the credential that :meth:`check_code` just verified."""
        if self._registered is None or self._registered_code != code:
            raise ValueError("confirm_activation() needs the answer that was just verified.")
        row = credentials.add(self._mfa_method, self._registered)
        if row is None:
            raise CodeInvalidOrExpired()  # registered by someone else meanwhile
        audit.send(
            signals.credential_added,
            __name__,
            user=self._mfa_method.user,
            method=self._mfa_method.name,
            request=self.request,
            credential=row.pk,
        )

    def _owned_credential(self, answer: Answer, passkey: bool) -> WebAuthnCredential | None:
        row = credentials.find(answer.credential_id)
        if row is None or row.method_id != self._mfa_method.pk:
            return None  # unknown, or another user's (or method's) credential
        if passkey or answer.user_handle is not None:
            handle = answer.user_handle
            if handle is None or not constant_time_equals(handle.rstrip("="), self.user_handle()):
                return None
        return row

    def _check_assertion(self, answer: Answer) -> bool:
        consumed = self._consume(answer)
        if consumed is None:
            return self._refused("no live challenge")
        challenge, uv_required, passkey = consumed
        row = self._owned_credential(answer, passkey)
        if row is None:
            return self._refused("not a credential of this method")
        try:
            verified = verify_authentication_response(
                credential=answer.credential,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origins,
                credential_public_key=bytes(row.public_key),
                # The counter is compared below, after the signature verified,
                # so only a genuine answer can report a clone.
                credential_current_sign_count=0,
                require_user_verification=uv_required,
            )
        except Exception as exc:  # py_webauthn raises many kinds for hostile input
            return self._refused("assertion did not verify", exc)
        new, stored = verified.new_sign_count, row.sign_count
        if (new > 0 or stored > 0) and new <= stored:
            audit.send(
                signals.sign_count_regression,
                __name__,
                user=self._mfa_method.user,
                method=self._mfa_method.name,
                request=self.request,
                purpose=str(self.purpose),
                credential=row.pk,
            )
            return self._refused("signature counter went back")
        if not credentials.record_use(row, new, backed_up=verified.credential_backed_up):
            return self._refused("a parallel answer used the counter")
        synced = verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE
        self._amr = (SWK if synced else HWK, *((USER,) if verified.user_verified else ()))
        return True

    def answer_amr(self) -> tuple[str, ...] | None:
        """``hwk`` (or ``swk`` for a synced passkey), and ``user`` when the user was verified."""
        return self._amr
