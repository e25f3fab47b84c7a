"""Database models: methods, one-time codes, backup codes, login challenges.

Invariants live in the database (unique and check constraints), so they hold
across processes and app servers, not only in this code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from trench_mfa.user import UserPk


class MFAMethodQuerySet(models.QuerySet["MFAMethod"]):
    """Queries named by intent."""

    def for_user(self, user: AbstractBaseUser | UserPk) -> MFAMethodQuerySet:
        """Methods of one user, given the user or its primary key."""
        # A primary key need not be an int (UUID-keyed user models).
        user_id = user.pk if isinstance(user, models.Model) else user
        if user_id is None:
            # ``user_id=None`` would mean ``IS NULL``: every phantom row.
            return self.none()
        return self.filter(user_id=user_id)

    def of_account(self, method: MFAMethod) -> MFAMethodQuerySet:
        """The rows whose failures add up to ``method``'s lockout.

        Every row of its user; a phantom row (no user) stands alone.
        """
        if method.is_phantom:
            return self.filter(pk=method.pk)
        return self.for_user(method.user_id)

    def active(self) -> MFAMethodQuerySet:
        """Methods whose activation was confirmed."""
        return self.filter(is_active=True)

    def primary(self) -> MFAMethodQuerySet:
        """The primary method (at most one per user)."""
        return self.filter(is_primary=True, is_active=True)


class MFAMethod(models.Model):
    """One MFA method of one user: pending until confirmed, then active.

    A row without a user is a *phantom*: the state of decoy logins (a
    passwordless login for an identifier nobody can use, see
    ``trench_mfa.login.decoys``) under a keyed hash of the method and the
    identifier. It carries codes, cooldowns and failure counters exactly like
    a user's channel row, so decoys run the real rules; it is never active,
    never primary and never verifies a code.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="mfa_methods",
        verbose_name=_("user"),
        # Only phantom rows have none (see the check constraint).
        null=True,
    )
    name = models.CharField(_("name"), max_length=255)
    #: A phantom row's keyed hash of the method and the identifier (never the
    #: identifier); ``NULL`` on a user's row. Unique: NULLs never collide, on
    #: every database (a condition on the constraint would not be portable).
    phantom = models.CharField(
        _("phantom key"),
        max_length=64,
        null=True,
        blank=True,
        default=None,
        unique=True,
        editable=False,
    )
    #: Reversible secret (TOTP seed, device data), encrypted at rest; never
    #: shown after activation.
    secret = models.TextField(_("secret"), blank=True, default="", editable=False)
    #: Where an email or SMS method sends its codes: the address or number
    #: captured when activation started and proven by the activation code,
    #: encrypted at rest (see ``trench_mfa.state.destinations``). Empty for
    #: methods that send nothing and for rows that are not being activated.
    destination = models.TextField(_("destination"), blank=True, default="", editable=False)
    is_active = models.BooleanField(_("is active"), default=False)
    is_primary = models.BooleanField(_("is primary"), default=False)
    activation_started_at = models.DateTimeField(_("activation started at"), null=True)
    #: Last accepted TOTP time step (replay guard).
    last_used_step = models.BigIntegerField(_("last used step"), null=True, editable=False)
    failure_count = models.PositiveIntegerField(_("consecutive failures"), default=0)
    last_failure_at = models.DateTimeField(_("last failure at"), null=True, blank=True)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    objects = MFAMethodQuerySet.as_manager()

    class Meta:
        verbose_name = _("MFA method")
        verbose_name_plural = _("MFA methods")
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="trench_mfa_unique_user_name"),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(is_primary=True),
                name="trench_mfa_unique_user_primary",
            ),
            models.CheckConstraint(
                condition=Q(is_primary=False) | Q(is_active=True),
                name="trench_mfa_primary_is_active",
            ),
            # A row has a user or is a phantom, never both; a phantom can
            # never be active or primary, so it never answers as a method.
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(phantom__isnull=True))
                | (
                    Q(user__isnull=True)
                    & Q(phantom__isnull=False)
                    & Q(is_active=False)
                    & Q(is_primary=False)
                ),
                name="trench_mfa_user_or_phantom",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.user_id})"

    @property
    def is_phantom(self) -> bool:
        """Whether this row holds the state of decoy logins rather than a user's."""
        return self.phantom is not None


class CodePurpose(models.TextChoices):
    """What a one-time code may be used for; a code is valid for one only."""

    ACTIVATION = "activation", _("activation")
    LOGIN = "login", _("login")
    ACTION = "action", _("protected action")
    VERIFICATION = "verification", _("identifier verification")


class OneTimeCode(models.Model):
    """A random code sent by email or SMS: only its keyed hash is stored."""

    method = models.ForeignKey(MFAMethod, on_delete=models.CASCADE, related_name="codes")
    purpose = models.CharField(max_length=16, choices=CodePurpose.choices)
    #: Set for login codes: the code is valid with that login challenge only.
    #: A plain id, not a foreign key: both tables are pruned independently in
    #: batches, and a dangling id simply never matches a live challenge.
    challenge_id = models.BigIntegerField(null=True, blank=True)
    code_hash = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        indexes = [models.Index(fields=["method", "purpose"], name="trench_mfa_code_lookup")]

    def __str__(self) -> str:
        return f"{self.purpose} code for method {self.method_id}"


class BackupCode(models.Model):
    """One backup code of a user, salted and slow-hashed.

    ``bucket`` is a short keyed hash of the code: a login looks only at the
    rows in the submitted code's bucket, so a wrong code usually costs no slow
    hash at all and a right one costs exactly one.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_backup_codes"
    )
    bucket = models.CharField(max_length=8)
    code_hash = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("backup code")
        verbose_name_plural = _("backup codes")
        indexes = [models.Index(fields=["user", "bucket"], name="trench_mfa_backup_bucket")]

    def __str__(self) -> str:
        return f"backup code {self.pk} of user {self.user_id}"


class LoginChallenge(models.Model):
    """The server side of an ephemeral login token: single use, expiring.

    Under ``TRENCH_AUTH["FLOWS"]`` it also holds the login's flow, the code
    factors still to answer (``factors``, the current one first) and the
    methods already answered (``done``). A challenge without a user is a
    decoy: a passwordless login for an identifier nobody can use, which can
    never succeed (see ``trench_mfa.login.decoys``).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="mfa_login_challenges",
        null=True,
    )
    method = models.CharField(max_length=255)
    #: The flow's label (``"email+password+passcode"``); empty without FLOWS.
    flow = models.CharField(max_length=255, blank=True, default="")
    #: ``[{"kind": ..., "method": ...}, ...]``: the factors left, current first.
    factors = models.JSONField(default=list, blank=True)
    #: Names of the methods whose factor was answered, in order.
    done = models.JSONField(default=list, blank=True)
    secret_hash = models.CharField(max_length=64)
    #: Keyed hash of the user's password hash: a password change kills the token.
    user_state = models.CharField(max_length=64)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("login challenge")
        verbose_name_plural = _("login challenges")

    def __str__(self) -> str:
        return f"login challenge {self.pk} ({self.method})"


class SendQuota(models.Model):
    """Recent sends to one destination, for the per-number and per-address caps.

    ``key`` is a keyed hash of the channel and the normalised destination, so
    the table holds no phone numbers or email addresses. ``sent_at`` lists the epoch seconds of
    the sends inside the current window; ``version`` makes every change a
    compare-and-swap ``UPDATE`` (see ``trench_mfa.state.backoff``).
    """

    key = models.CharField(max_length=64, unique=True)
    sent_at = models.JSONField(default=list)
    version = models.PositiveBigIntegerField(default=0)
    #: Last change; rows untouched for longer than the window can be pruned.
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("send quota")
        verbose_name_plural = _("send quotas")

    def __str__(self) -> str:
        return f"send quota {self.key[:8]}"


class EventType(models.TextChoices):
    """What happened; each value matches a signal of ``trench_mfa.signals``."""

    METHOD_ACTIVATED = "mfa_method_activated", _("method activated")
    METHOD_DEACTIVATED = "mfa_method_deactivated", _("method deactivated")
    PRIMARY_METHOD_CHANGED = "primary_method_changed", _("primary method changed")
    CODE_SENT = "code_sent", _("code sent")
    CODE_VERIFIED = "code_verified", _("code verified")
    VERIFICATION_FAILED = "verification_failed", _("verification failed")
    BACKUP_CODE_USED = "backup_code_used", _("backup code used")
    BACKUP_CODES_REGENERATED = "backup_codes_regenerated", _("backup codes regenerated")
    LOCKED_OUT = "locked_out", _("locked out")
    DISPATCH_FAILED = "dispatch_failed", _("queued code not sent")
    DEVICE_REMEMBERED = "device_remembered", _("device remembered")
    DEVICE_USED = "device_used", _("remembered device skipped the code")
    DEVICE_REJECTED = "device_rejected", _("device token ignored")
    DEVICES_REVOKED = "devices_revoked", _("remembered devices revoked")
    CREDENTIAL_ADDED = "credential_added", _("security key added")
    CREDENTIAL_REMOVED = "credential_removed", _("security key removed")
    SIGN_COUNT_REGRESSION = "sign_count_regression", _("security key signature counter went back")


class MFAEvent(models.Model):
    """One audit record: who, which method, what happened, from where.

    Never holds a code, secret or token. ``outcome`` is ``"success"`` or the
    reason class of a failure (``invalid_code``, ``throttled``, ``locked``).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("user"),
        # No index of its own: ``trench_mfa_event_user`` (user, created_at)
        # serves every lookup by user, and each index costs every audit row.
        db_index=False,
    )
    method = models.CharField(_("method"), max_length=255, blank=True, default="")
    event = models.CharField(_("event"), max_length=32, choices=EventType.choices)
    purpose = models.CharField(
        _("purpose"), max_length=16, choices=CodePurpose.choices, blank=True, default=""
    )
    outcome = models.CharField(_("outcome"), max_length=32, default="success")
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("MFA event")
        verbose_name_plural = _("MFA events")
        indexes = [models.Index(fields=["user", "created_at"], name="trench_mfa_event_user")]

    def __str__(self) -> str:
        # Shown by the admin (title, breadcrumbs), so it is translated.
        return _("%(event)s (%(outcome)s) for user %(user)s") % {
            "event": self.event,
            "outcome": self.outcome,
            "user": self.user_id,
        }


# --- Login flows: hardcodes and confirmed identifiers ---------------------


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


class HardcodeGuard(models.Model):
    """Consecutive failed hardcode checks of one user, for back-off and lockout.

    ``key`` is a keyed hash of the user's primary key, or, for a login whose
    identifier names nobody, of the identifier field and value: unknown
    identifiers count and lock exactly like real ones, so a lockout tells
    nothing about who exists, and the table holds no identifier in clear.
    The counters follow the rules of ``trench_mfa.state.backoff`` with
    ``HARDCODE_LOCKOUT_THRESHOLD``; see ``trench_mfa.state.hardcode_guard``.
    """

    key = models.CharField(max_length=64, unique=True)
    failure_count = models.PositiveIntegerField(_("consecutive failures"), default=0)
    last_failure_at = models.DateTimeField(_("last failure at"), null=True, blank=True)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    #: Last change; idle rows without a lock can be pruned.
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("hardcode failure counter")
        verbose_name_plural = _("hardcode failure counters")

    def __str__(self) -> str:
        return f"hardcode failures {self.key[:8]}"


class RememberedDevice(models.Model):
    """A device that may skip the second factor: only its token's hash is stored.

    The token is bound to the user and to the password the user had when it
    was issued (``user_state``): a password change voids it, however the
    password was changed. Rows are deleted when revoked.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="mfa_devices",
        verbose_name=_("user"),
    )
    token_hash = models.CharField(max_length=64, unique=True)
    #: Keyed hash of the user's password hash when the device was remembered.
    user_state = models.CharField(max_length=64)
    #: A short description from the user agent ("Firefox on Linux").
    name = models.CharField(_("name"), max_length=255, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    last_ip = models.GenericIPAddressField(_("IP address of last use"), null=True, blank=True)

    class Meta:
        verbose_name = _("remembered device")
        verbose_name_plural = _("remembered devices")

    def __str__(self) -> str:
        return f"device {self.pk} of user {self.user_id}"


# --- WebAuthn: passkeys and security keys ---------------------------------


class WebAuthnCredential(models.Model):
    """One passkey or security key registered to a user's WebAuthn method.

    Only public data: the credential's id and public key, and what the
    authenticator reported. ``credential_digest`` (SHA-256 of the id) is
    unique across all users, so one authenticator's credential can belong to
    one account only; lookups go through it (an index-friendly fixed length).
    """

    method = models.ForeignKey(
        MFAMethod,
        on_delete=models.CASCADE,
        related_name="webauthn_credentials",
        verbose_name=_("method"),
    )
    name = models.CharField(_("name"), max_length=255)
    #: The credential id, base64url without padding, as browsers send it.
    credential_id = models.TextField(_("credential id"), editable=False)
    credential_digest = models.CharField(max_length=64, unique=True, editable=False)
    #: The COSE public key.
    public_key = models.BinaryField(editable=False)
    #: The authenticator's signature counter as last seen (0: it keeps none).
    sign_count = models.PositiveBigIntegerField(default=0, editable=False)
    #: Transports the browser reported at registration (usb, nfc, ble, internal, hybrid).
    transports = models.JSONField(_("transports"), default=list, blank=True)
    #: Whether the credential may be synced (a passkey) and whether it is.
    backup_eligible = models.BooleanField(_("backup eligible"), default=False)
    backed_up = models.BooleanField(_("backed up"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("security key")
        verbose_name_plural = _("security keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.method_id})"


class WebAuthnChallenge(models.Model):
    """A WebAuthn challenge handed to the browser: random, single use, expiring.

    Only a keyed hash of the challenge is stored. A challenge is bound to
    what it was issued for: registering a credential or a protected action
    of ``method``, or one login (``login_challenge_id``, the ephemeral
    token's row; ``method`` is empty for a passkey login, whose user the
    credential names).
    """

    method = models.ForeignKey(
        MFAMethod, on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    purpose = models.CharField(max_length=16, choices=CodePurpose.choices)
    #: A plain id, as in ``OneTimeCode``: both tables are pruned independently.
    login_challenge_id = models.BigIntegerField(null=True, blank=True)
    challenge_digest = models.CharField(max_length=64, unique=True)
    #: Whether the answer must carry the authenticator's user verification.
    user_verification = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("WebAuthn challenge")
        verbose_name_plural = _("WebAuthn challenges")

    def __str__(self) -> str:
        return f"{self.purpose} WebAuthn challenge {self.pk}"
