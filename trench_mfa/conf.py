"""Settings for trench_mfa, read from ``settings.TRENCH_AUTH`` at call time.

``mfa_settings`` merges the project's ``TRENCH_AUTH`` dict with ``DEFAULTS``
without mutating it, and validates each entry of ``MFA_METHODS`` once into a
frozen :class:`MethodConfig`. The merged view is cached against the identity
of the project's dict and dropped on ``setting_changed``, so
``override_settings(TRENCH_AUTH=...)`` takes effect immediately.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

SETTING_NAME = "TRENCH_AUTH"

# Per-method keys, as in django-trench.
HANDLER = "HANDLER"
SOURCE_FIELD = "SOURCE_FIELD"
VALIDITY_PERIOD = "VALIDITY_PERIOD"
VERBOSE_NAME = "VERBOSE_NAME"

#: Crockford's base32 alphabet in lower case: no i, l, o, u, so codes read
#: aloud or typed from paper are not confused (see ``normalise_backup_code``).
BACKUP_CODE_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"

DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {
        "USER_ACTIVE_FIELD": "is_active",
        "BACKUP_CODES_QUANTITY": 10,
        "BACKUP_CODES_LENGTH": 12,
        "BACKUP_CODES_CHARACTERS": BACKUP_CODE_ALPHABET,
        "BACKUP_CODES_HASHER": None,
        "SECRET_KEY_LENGTH": 32,
        "DEFAULT_VALIDITY_PERIOD": 30,
        "CODE_LENGTH": 6,
        "MAX_CODE_ATTEMPTS": 5,
        "EPHEMERAL_TOKEN_VALIDITY": 600,
        "ACTIVATION_VALIDITY": 900,
        "CONFIRM_DISABLE_WITH_CODE": True,
        # Activating a method while another is active needs a code of it (or
        # a backup code) in the activate request (not in django-trench).
        "CONFIRM_ACTIVATION_WITH_CODE": True,
        "CONFIRM_BACKUP_CODES_REGENERATION_WITH_CODE": True,
        "ALLOW_BACKUP_CODES_REGENERATION": True,
        "ENCRYPT_BACKUP_CODES": True,
        "APPLICATION_ISSUER_NAME": "MyApplication",
        "MFA_METHODS": None,
        # Seconds before a new code of the same method and purpose is sent
        # while the last one is still usable (0 turns the cooldown off).
        "RESEND_COOLDOWN": 60,
        # At most SEND_LIMIT codes of one method and purpose in any sliding
        # SEND_LIMIT_WINDOW seconds (None or 0 turns the cap off).
        "SEND_LIMIT": 5,
        "SEND_LIMIT_WINDOW": 600,
        # SMS sends per destination number in any sliding hour, across all
        # users (None or 0 turns the cap off).
        "SMS_MAX_PER_NUMBER": 5,
        # Emails (codes and verification links, whatever asked for them) per
        # destination address in any sliding hour, across all users, against
        # mail bombing (None or 0 turns the cap off).
        "EMAIL_MAX_PER_ADDRESS": 10,
        # Fernet keys for secrets at rest, newest first; None derives them
        # from SECRET_KEY and SECRET_KEY_FALLBACKS (see secrets_at_rest.py).
        "ENCRYPTION_KEYS": None,
        # Back-off after failed code checks: after n consecutive failures of
        # a method, its next check waits THROTTLE_FACTOR * 2**(n-1) seconds
        # (0 turns the back-off off). See trench_mfa.state.backoff.
        "THROTTLE_FACTOR": 1,
        # Consecutive failures across all of a user's methods that lock every
        # method for LOCKOUT_DURATION seconds (NIST: never more than 100).
        "LOCKOUT_THRESHOLD": 20,
        "LOCKOUT_DURATION": 900,
        # Write an MFAEvent row for every signal (see trench_mfa.state.audit).
        "AUDIT_LOG": True,
        # How email and SMS codes leave the server: "sync" sends inside the
        # request; "celery" stores the code in the request and sends it from
        # the task trench_mfa.send_code after commit (see dispatch_queue.py).
        "DISPATCH": "sync",
        # Login flows (multauth): None keeps django-trench's login (username
        # and password, then the primary method). See trench_mfa.flows.
        "FLOWS": None,
        # Identifier fields that must be verified, e.g. {"email": {"METHOD":
        # "email", "CONFIRMED_ON_CREATE": False}}; None verifies nothing.
        "IDENTIFIERS": None,
        # The confirmation link put in verification emails: a URL with a
        # "{key}" placeholder; None sends the code only.
        "VERIFICATION_LINK_URL": None,
        # Seconds a confirmation link stays valid.
        "VERIFICATION_LINK_VALIDITY": 86400,
        # Shortest hardcode (second static secret) POST hardcode/ accepts.
        "HARDCODE_MIN_LENGTH": 4,
        # Consecutive wrong tries (at login, or the password of POST
        # hardcode/) that lock a user's hardcode for LOCKOUT_DURATION seconds:
        # a short PIN needs a far smaller threshold than codes. 1 to 10.
        "HARDCODE_LOCKOUT_THRESHOLD": 10,
        # IsMFAAuthenticated: the amr values of which a token must carry at
        # least one ("mfa": a code plus another factor; see trench_mfa.login.amr),
        # and the most seconds since its mfa_at (None: no limit).
        "MFA_ACCEPTED_AMR": ("mfa",),
        "MFA_MAX_AGE": None,
        # Confirming the user's first method deletes their DRF authtoken key:
        # a key from a password-only login stops working when MFA goes on
        # (not in django-trench; False keeps the key).
        "ROTATE_AUTHTOKEN_ON_ENABLE": True,
        # Remembered devices (see trench_mfa.state.devices): off unless
        # REMEMBER_DEVICE is True; a device token lives REMEMBER_DEVICE_DAYS
        # days (None also turns the feature off). The cookie carries it for
        # browser clients (None: no cookie; the body field and the header
        # work either way).
        "REMEMBER_DEVICE": False,
        "REMEMBER_DEVICE_DAYS": 30,
        "REMEMBER_DEVICE_COOKIE": "trench_mfa_device",
        "REMEMBER_DEVICE_COOKIE_SECURE": True,
        # Security notification emails (see trench_mfa.services.notifications):
        # None or False sends none (django-trench's behaviour); True sends
        # every kind; a dict sends every kind but those mapped to False,
        # e.g. {"device_remembered": False}.
        "SECURITY_NOTIFICATIONS": None,
        # Who must have MFA (see trench_mfa.login.enrolment): None, or any of
        # "staff", "superusers", a callable user -> bool or its dotted path.
        # Such a user without MFA gets an enrolment token at login step 1.
        "REQUIRE_MFA_FOR": None,
        # The MFA admin site (trench_mfa.admin.mfa_site): a staff user
        # without MFA is sent to set it up (True) or refused (False).
        "ADMIN_MFA_SETUP": True,
        # Passwordless login with a passkey (POST passkey/begin/, then
        # passkey/ in the login URLs); needs a configured WebAuthn method.
        "PASSKEY_LOGIN": False,
    }
)

#: Defaults merged into a configured method of the same name.
KNOWN_METHODS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "email": {
            VERBOSE_NAME: _("email"),
            HANDLER: "trench_mfa.backends.email.EmailMessageDispatcher",
            SOURCE_FIELD: "email",
            "EMAIL_SUBJECT": _("Your verification code"),
            "EMAIL_PLAIN_TEMPLATE": "trench_mfa/email/code.txt",
            "EMAIL_HTML_TEMPLATE": "trench_mfa/email/code.html",
        },
        # SMS methods: the text (SMS_BODY) and TIMEOUT default in the SMS base.
        "sms_twilio": {
            VERBOSE_NAME: _("SMS (Twilio)"),
            HANDLER: "trench_mfa.backends.twilio.TwilioMessageDispatcher",
            SOURCE_FIELD: "phone_number",
        },
        "sms_api": {
            VERBOSE_NAME: _("SMS (SMSAPI)"),
            HANDLER: "trench_mfa.backends.sms_api.SMSAPIMessageDispatcher",
            SOURCE_FIELD: "phone_number",
        },
        "sms_aws": {
            VERBOSE_NAME: _("SMS (AWS SNS)"),
            HANDLER: "trench_mfa.backends.aws.AWSMessageDispatcher",
            SOURCE_FIELD: "phone_number",
        },
        "sms_vonage": {
            VERBOSE_NAME: _("SMS (Vonage)"),
            HANDLER: "trench_mfa.backends.vonage.VonageMessageDispatcher",
            SOURCE_FIELD: "phone_number",
        },
        "app": {
            VERBOSE_NAME: _("authenticator app"),
            HANDLER: "trench_mfa.backends.application.ApplicationMessageDispatcher",
            # The TOTP step: set here so a project-wide DEFAULT_VALIDITY_PERIOD
            # meant for sent codes does not change what authenticator apps show.
            VALIDITY_PERIOD: 30,
            "DIGITS": 6,
            "ALGORITHM": "SHA1",
            "VALID_WINDOW": 1,
            "QR_CODE_FORMAT": "svg",
        },
        "yubi": {
            VERBOSE_NAME: _("YubiKey"),
            HANDLER: "trench_mfa.backends.yubikey.YubiKeyMessageDispatcher",
            "YUBICLOUD_CLIENT_ID": None,
            "YUBICLOUD_SECRET_KEY": None,
            "YUBICLOUD_API_URLS": ("https://api.yubico.com/wsapi/2.0/verify",),
            "YUBICLOUD_TIMEOUT": 10,
        },
        # Passkeys and security keys (WebAuthn, through py_webauthn).
        # VALIDITY_PERIOD: seconds a challenge handed to the browser lives.
        "webauthn": {
            VERBOSE_NAME: _("passkey"),
            HANDLER: "trench_mfa.backends.webauthn.WebAuthnDispatcher",
            VALIDITY_PERIOD: 300,
            "RP_ID": None,
            "RP_NAME": None,
            "ORIGINS": (),
            "USER_VERIFICATION": "preferred",
            "RESIDENT_KEY": "preferred",
            "ATTESTATION": "none",
        },
    }
)

#: django-trench keys that trench_mfa accepts and ignores, so a migrating
#: project's settings pass the unknown-key check (``trench_mfa.E008``).
IGNORED_TRENCH_KEYS: frozenset[str] = frozenset({"USER_MFA_MODEL"})

#: Methods offered when the project sets no ``MFA_METHODS``.
DEFAULT_METHODS: tuple[str, ...] = ("email", "app")


@cache
def _import_handler(path: str) -> type:
    # Cached per dotted path: importing is the costly part, and a path names
    # the same class for the life of the process.
    try:
        return import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"Could not import MFA handler {path!r}: {exc}") from exc


@dataclass(frozen=True, eq=False)
class MethodConfig(Mapping[str, Any]):
    """One validated entry of ``MFA_METHODS``.

    It is also a read-only mapping of the method's merged options, so a
    dispatcher written for django-trench can keep using ``self._config[KEY]``.
    """

    name: str
    handler_path: str
    verbose_name: str
    source_field: str | None
    validity_period: int
    options: Mapping[str, Any]

    @property
    def handler(self) -> type:
        """The dispatcher class named by ``HANDLER``, imported on first use."""
        return _import_handler(self.handler_path)

    def __getitem__(self, key: str) -> Any:
        return self.options[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.options)

    def __len__(self) -> int:
        return len(self.options)


def build_method_config(name: str, raw: Mapping[str, Any], user: Mapping[str, Any]) -> MethodConfig:
    """Validate one method's settings into a :class:`MethodConfig`.

    ``user`` is the project's whole ``TRENCH_AUTH`` dict: an explicit
    ``DEFAULT_VALIDITY_PERIOD`` there wins over the handler's own default.
    Raises ``ImproperlyConfigured`` with a message naming the method.
    """
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured(f"TRENCH_AUTH['MFA_METHODS'][{name!r}] must be a dict.")
    options: dict[str, Any] = {**KNOWN_METHODS.get(name, {}), **raw}
    handler_path = options.get(HANDLER)
    if not isinstance(handler_path, str) or not handler_path:
        raise ImproperlyConfigured(f"Missing HANDLER in the {name!r} MFA method configuration.")
    try:
        handler = _import_handler(handler_path)
    except ImproperlyConfigured as exc:
        # Name the method: the same handler path may serve several methods.
        raise ImproperlyConfigured(f"MFA method {name!r}: {exc}") from exc
    period = options.get(VALIDITY_PERIOD)
    if period is None:
        period = user.get("DEFAULT_VALIDITY_PERIOD")
    if period is None:
        period = getattr(handler, "default_validity_period", None)
    if period is None:
        period = DEFAULTS["DEFAULT_VALIDITY_PERIOD"]
    if isinstance(period, bool) or not isinstance(period, int) or period <= 0:
        raise ImproperlyConfigured(
            f"VALIDITY_PERIOD of the {name!r} MFA method must be a positive number of seconds."
        )
    options[VALIDITY_PERIOD] = period
    source_field = options.get(SOURCE_FIELD)
    return MethodConfig(
        name=name,
        handler_path=handler_path,
        verbose_name=str(options.get(VERBOSE_NAME, name)),
        source_field=source_field or None,
        validity_period=period,
        options=MappingProxyType(options),
    )


class MFASettings:
    """Attribute access to the merged ``TRENCH_AUTH`` settings.

    ``mfa_settings.CODE_LENGTH`` returns the project's value or the default;
    ``mfa_settings.methods`` maps each configured method name to its
    :class:`MethodConfig`.
    """

    def __init__(self) -> None:
        self._source: object = None
        self._merged: dict[str, Any] = {}
        self._methods: dict[str, MethodConfig] | None = None

    @staticmethod
    def user_settings() -> Mapping[str, Any]:
        """The project's ``TRENCH_AUTH`` dict (empty when unset or ``None``).

        Raises ``ImproperlyConfigured`` when it is anything but a dict (the
        system check ``trench_mfa.E007`` reports that without raising).
        """
        raw = getattr(settings, SETTING_NAME, None)
        if type(raw) is dict:
            return raw  # the common case, read on every access: no ABC check
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            raise ImproperlyConfigured(
                f"settings.{SETTING_NAME} must be a dict, not {type(raw).__name__}."
            )
        return raw

    def _load(self) -> dict[str, Any]:
        user = self.user_settings()
        if user is not self._source:
            unknown = set(user) - set(DEFAULTS)
            self._merged = {**DEFAULTS, **{k: v for k, v in user.items() if k not in unknown}}
            self._methods = None
            self._source = user
        return self._merged

    def __getattr__(self, name: str) -> Any:
        if name.isupper() and name in DEFAULTS:
            return self._load()[name]
        raise AttributeError(name)

    def raw_methods(self) -> Mapping[str, Mapping[str, Any]]:
        """``MFA_METHODS`` as the project wrote it (or the default set)."""
        configured = self._load()["MFA_METHODS"]
        if configured is None:
            return {name: {} for name in DEFAULT_METHODS}
        return configured

    @property
    def methods(self) -> Mapping[str, MethodConfig]:
        """Every configured method, validated; raises ``ImproperlyConfigured``."""
        user = self.user_settings()
        self._load()
        if self._methods is None:
            raw = self.raw_methods()
            if not isinstance(raw, Mapping):
                # Raised here: an AttributeError inside this property would
                # surface as a confusing "no attribute 'methods'".
                raise ImproperlyConfigured("TRENCH_AUTH['MFA_METHODS'] must be a dict.")
            self._methods = {
                name: build_method_config(name, entry, user) for name, entry in raw.items()
            }
        return MappingProxyType(self._methods)

    def method(self, name: str) -> MethodConfig | None:
        """The configuration of ``name``, or ``None`` when it is not configured."""
        return self.methods.get(name)

    def reload(self) -> None:
        """Forget the cached merge; the next access reads settings again."""
        self._source = None
        self._methods = None


mfa_settings = MFASettings()


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in (SETTING_NAME, "SECRET_KEY"):
        mfa_settings.reload()


def connect_reload() -> None:
    """Reload the settings whenever a test overrides ``TRENCH_AUTH``."""
    setting_changed.connect(_on_setting_changed, dispatch_uid="trench_mfa.conf.reload")
