"""The dispatcher contract, and the shared base of code-sending methods.

A dispatcher is named by ``HANDLER`` in a method's settings and built as
``Dispatcher(mfa_method, config)``, as in django-trench. It never builds an
HTTP response: it returns a :class:`DispatchResult`, and the service layer
turns a failed result into the right error.
"""

from __future__ import annotations

import enum
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import reduce
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from trench_mfa.conf import mfa_settings
from trench_mfa.models import CodePurpose, MFAMethod
from trench_mfa.state import backoff, codes, destinations
from trench_mfa.user import AnyRequest

if TYPE_CHECKING:
    pass

logger = logging.getLogger("trench_mfa.dispatch")


class DispatchFailure(enum.Enum):
    """Why a dispatch did not happen."""

    FAILED = "dispatch_failed"
    THROTTLED = "throttled"
    INVALID_RECIPIENT = "invalid_recipient"


@dataclass(frozen=True)
class DispatchResult:
    """The outcome of ``dispatch_message()``.

    ``details`` is the text shown to the user; ``extra`` holds additional
    response fields (the app method's ``qr_code``).
    """

    ok: bool
    #: Not in ``repr()``: an authenticator app's activation answer is its otpauth URI.
    details: str = field(default="", repr=False)
    reason: DispatchFailure | None = None
    retry_after: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def sent(cls, details: str, **extra: Any) -> DispatchResult:
        """A successful dispatch."""
        return cls(ok=True, details=details, extra=extra)

    @classmethod
    def failed(
        cls, reason: DispatchFailure = DispatchFailure.FAILED, *, retry_after: int | None = None
    ) -> DispatchResult:
        """A dispatch that did not deliver anything."""
        return cls(ok=False, reason=reason, retry_after=retry_after)


class DispatchError(Exception):
    """Raised by ``send()`` when the provider did not accept the message.

    Its text is for logs only; it must never contain the code or a credential.
    """


@dataclass(frozen=True)
class CodeMessage:
    """What a code-sending dispatcher delivers: the code and its lifetime."""

    code: str = field(repr=False)
    valid_for: int
    purpose: CodePurpose

    @property
    def valid_minutes(self) -> int:
        """The lifetime rounded up to whole minutes, for message texts."""
        return max(1, -(-self.valid_for // 60))


@dataclass(frozen=True)
class CodeCheck:
    """The answer of :meth:`AbstractMessageDispatcher.check_code`."""

    ok: bool
    #: The method row's write that a success needs, left to the caller.
    staged: backoff.StagedUpdate | None = None


class AbstractMessageDispatcher(ABC):
    """Base of every MFA method.

    The default code handling is the secure one: random codes stored as keyed
    hashes, single use, bound to a purpose. A django-trench dispatcher that
    only implements ``dispatch_message()`` and calls ``self.create_code()``
    therefore works unchanged and gets those guarantees.
    """

    #: Lifetime of a code when the method sets no ``VALIDITY_PERIOD``.
    default_validity_period: ClassVar[int | None] = 300
    #: Whether codes come from this server (email, SMS) rather than a device.
    sends_codes: ClassVar[bool] = True
    #: RFC 8176 ``amr`` values a login code of this method adds to the tokens
    #: (see :mod:`trench_mfa.login.amr`); a custom method may name its own.
    amr_values: ClassVar[tuple[str, ...]] = ("otp",)

    def __init__(
        self,
        mfa_method: MFAMethod,
        config: Mapping[str, Any],
        *,
        purpose: CodePurpose = CodePurpose.LOGIN,
        challenge_id: int | None = None,
    ) -> None:
        self._mfa_method = mfa_method
        self._config = config
        self.purpose = purpose
        self.challenge_id = challenge_id
        #: The current request (DRF ``Request`` or Django ``HttpRequest``), if
        #: any; :func:`~trench_mfa.backends.provider.get_mfa_handler` sets it.
        self.request: AnyRequest = None

    @property
    def mfa_method(self) -> MFAMethod:
        """The method row this dispatcher works for."""
        return self._mfa_method

    @property
    def validity_period(self) -> int:
        """Seconds a code stays valid (the TOTP step for the app method)."""
        period = self._config.get("VALIDITY_PERIOD") or self.default_validity_period
        return int(period or mfa_settings.DEFAULT_VALIDITY_PERIOD)

    @property
    def source_field(self) -> str | None:
        """``SOURCE_FIELD``: the dotted path of the user's field codes are meant for."""
        path = self._config.get("SOURCE_FIELD")
        return str(path) if path else None

    def profile_value(self) -> Any:
        """The user's current value of :attr:`source_field`, as stored (``None`` if unset)."""
        path = self.source_field
        if not path:
            return None
        user: Any = self._mfa_method.user
        value = reduce(lambda obj, attr: getattr(obj, attr, None), path.split("."), user)
        return None if value in (None, "") else value

    def destination_from_profile(self) -> str | None:
        """The destination the profile names now: what activation captures.

        Code-sending methods return it checked and normalised (an invalid
        address or number is ``None``).
        """
        value = self.profile_value()
        return None if value is None else str(value)

    def follows_profile(self) -> bool:
        """Whether this dispatch goes to the profile's value rather than the bound one.

        Only where nothing is bound: a verification code confirms the
        profile's value itself, and a passcode of an inactive channel row
        goes to the identifier the login found. An active method sends to its
        bound destination and an activation to the captured one, whatever
        the profile says now.
        """
        if self.purpose == CodePurpose.VERIFICATION:
            return True
        return not self._mfa_method.is_active and self.purpose != CodePurpose.ACTIVATION

    @property
    def _to(self) -> str | None:
        """Where this dispatch goes (``None``: nowhere usable).

        The destination bound to the method (captured when its activation
        started), or the profile's value where :meth:`follows_profile`. An
        active method without a bound destination sends nothing: it falls
        back on no profile value an attacker could have edited.
        """
        if self.follows_profile():
            return self.destination_from_profile()
        return destinations.read(self._mfa_method)

    @abstractmethod
    def dispatch_message(self) -> DispatchResult:
        """Deliver a code (or instructions) for ``self.purpose``."""

    def is_well_formed(self, code: str) -> bool:
        """Whether ``code`` has this method's format (checked before any work)."""
        length = mfa_settings.CODE_LENGTH
        return re.fullmatch(rf"[0-9]{{{length}}}", code, flags=re.ASCII) is not None

    def prepare_activation(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Called when activation starts; the app method makes a new secret here."""

    @sensitive_variables()
    def create_code(self) -> str:
        """Store and return a new code for ``self.purpose``."""
        return codes.issue_code(
            self._mfa_method,
            self.purpose,
            validity=self.validity_period,
            challenge_id=self.challenge_id,
        )

    def discard_code(self) -> None:
        """Withdraw the live code of ``self.purpose`` (after a failed delivery).

        The code is deleted, not just voided: it was never delivered, so it
        must not count toward ``SEND_LIMIT`` either.
        """
        codes.withdraw_codes(self._mfa_method, self.purpose)

    @sensitive_variables()
    def validate_code(self, code: str) -> bool:
        """Check and use a code for ``self.purpose`` (login or protected action)."""
        return codes.consume_code(
            self._mfa_method, self.purpose, code, challenge_id=self.challenge_id
        )

    @sensitive_variables()
    def validate_confirmation_code(self, code: str) -> bool:
        """Check and use the code that confirms activation."""
        return codes.consume_code(self._mfa_method, CodePurpose.ACTIVATION, code)

    @sensitive_variables()
    def check_code(self, code: str) -> CodeCheck:
        """Check ``code`` for ``self.purpose`` under the caller's row locks.

        The check service calls this. By default it is :meth:`validate_code`
        (:meth:`validate_confirmation_code` while activating), which write
        their own state. A method may instead return the write its success
        needs as :attr:`CodeCheck.staged`: the service then makes it together
        with the counter reset, in one ``UPDATE`` (the app method's replay
        guard does).
        """
        if self.purpose == CodePurpose.ACTIVATION:
            return CodeCheck(self.validate_confirmation_code(code))
        return CodeCheck(self.validate_code(code))

    def confirm_activation(self, code: str) -> None:  # noqa: B027 - an optional hook
        """Called after the confirmation code verified; nothing to do by default."""

    def failure_counts(self) -> bool:
        """Whether the last failed check counts toward the user's back-off and lockout.

        ``True`` by default. A method whose checker can answer "no" without
        it being the user's fault (a YubiKey validation answer that fails its
        signature check) returns ``False`` then.
        """
        return True


class CodeDispatcher(AbstractMessageDispatcher):
    """Base of email and SMS methods: subclasses implement only :meth:`send`."""

    success_message: ClassVar[Any] = _("Code has been sent.")
    #: Name of the channel for the per-recipient cap (see :meth:`recipient_limit`).
    channel: ClassVar[str] = "message"

    def clean_recipient(self, value: Any) -> str | None:
        """``value`` checked and normalised for this channel, or ``None`` when unusable."""
        return None if value in (None, "") else str(value)

    def destination_from_profile(self) -> str | None:
        """The profile's current value, checked by :meth:`clean_recipient`."""
        return self.clean_recipient(self.profile_value())

    def get_recipient(self) -> str | None:
        """The address or number to send to, or ``None`` when it is unusable.

        The bound destination (see :attr:`_to`), checked again: a value
        stored by an older version is held to today's rules.
        """
        return self.clean_recipient(self._to)

    def recipient_limit(self) -> int | None:
        """Sends allowed per recipient per hour across all users (``None``: no cap)."""
        return None

    def cap_identity(self, recipient: str) -> str:
        """What the per-recipient cap counts ``recipient`` as.

        One mailbox or number written in several ways must count once, or a
        variant of it would get a fresh quota. ``recipient`` as it is by
        default: SMS numbers already come in E.164.
        """
        return recipient

    def dispatch_message(self) -> DispatchResult:
        """Deliver a code through :func:`trench_mfa.dispatch.delivery.deliver`.

        Code-sending methods implement only :meth:`send`: the cooldown, the
        per-recipient cap, storing the code and withdrawing it after a failed
        send are the delivery layer's, which calls :meth:`send` itself. This
        method is never called by trench_mfa for them.
        """
        raise NotImplementedError("code-sending methods are delivered by trench_mfa.dispatch")

    @abstractmethod
    def send(self, recipient: str, message: CodeMessage) -> None:
        """Deliver ``message`` to ``recipient``; raise :class:`DispatchError` on failure."""
