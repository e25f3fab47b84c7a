"""Login flows (``TRENCH_AUTH["FLOWS"]``) and verified identifiers (``"IDENTIFIERS"``).

A flow is a tuple: an identifier (a field of the user model) followed by the
secrets that log in with it. ``password`` and ``hardcode`` are *knowledge*
secrets, checked in login step 1; ``passcode`` (a code sent to the
identifier's own channel) and method names (``app``, ``yubi``, ...) are
*code factors*, answered one after the other in ``login/code/``::

    "FLOWS": [
        ("username", "password"),
        ("email", "password", "passcode"),
        ("phone_number", "passcode"),
    ]

``IDENTIFIERS`` names the identifier fields whose values must be confirmed
before they are trusted, and the method that sends their codes::

    "IDENTIFIERS": {"email": {"METHOD": "email", "CONFIRMED_ON_CREATE": False}}

Both are parsed here, read at call time and cached against the identity of
the project's ``TRENCH_AUTH`` dict. This module holds no database code, so
the system checks can use it at any time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured

from trench_mfa.conf import mfa_settings

PASSWORD = "password"  # noqa: S105 - the name of a secret, not a secret
HARDCODE = "hardcode"
PASSCODE = "passcode"
#: Secrets checked in login step 1, in the order a flow lists them.
KNOWLEDGE_SECRETS = (PASSWORD, HARDCODE)

#: Kinds of code factor: the identifier's own channel, a named method, or
#: the user's primary MFA method added on top of a flow without code factors.
PASSCODE_FACTOR = "passcode"
METHOD_FACTOR = "method"
MFA_FACTOR = "mfa"

T = TypeVar("T")


class FlowConfigError(ImproperlyConfigured):
    """A problem in ``FLOWS`` or ``IDENTIFIERS``; ``check_id`` names the system check."""

    def __init__(self, message: str, check_id: str) -> None:
        super().__init__(message)
        self.check_id = check_id


@dataclass(frozen=True)
class Factor:
    """One code factor of a login: which kind, and the method whose code answers it."""

    kind: str
    method: str

    def as_json(self) -> dict[str, str]:
        """The form stored in ``LoginChallenge.factors``."""
        return {"kind": self.kind, "method": self.method}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Factor:
        """Read the stored form back."""
        return cls(kind=str(data["kind"]), method=str(data["method"]))


@dataclass(frozen=True)
class Flow:
    """One validated entry of ``FLOWS``."""

    identifier: str
    secrets: tuple[str, ...]
    factors: tuple[Factor, ...]

    @property
    def knowledge(self) -> tuple[str, ...]:
        """The knowledge secrets (``password``, ``hardcode``) of the flow."""
        return tuple(s for s in self.secrets if s in KNOWLEDGE_SECRETS)

    @property
    def passwordless(self) -> bool:
        """Whether the identifier alone starts the flow (no knowledge secret)."""
        return not self.knowledge

    @property
    def label(self) -> str:
        """``identifier+secret+...``, for logs and the challenge row."""
        return "+".join((self.identifier, *self.secrets))


@dataclass(frozen=True)
class Identifier:
    """One validated entry of ``IDENTIFIERS``."""

    field: str
    method: str
    confirmed_on_create: bool


_memo: dict[str, tuple[object, Any]] = {}


def _memoised(name: str, build: Callable[[], T]) -> T:
    # Cached against the project's TRENCH_AUTH object: override_settings puts
    # a new dict in place, which rebuilds the value on the next call.
    source = mfa_settings.user_settings()
    hit = _memo.get(name)
    if hit is not None and hit[0] is source:
        cached: T = hit[1]
        return cached
    value = build()
    _memo[name] = (source, value)
    return value


def user_field_exists(name: str) -> bool:
    """Whether ``name`` is a concrete, non-relational field of the user model."""
    try:
        field = get_user_model()._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return bool(getattr(field, "concrete", False)) and not field.is_relation


def _sending_method(name: str, field: str, context: str) -> str:
    config = mfa_settings.method(name)
    if config is None:
        raise FlowConfigError(f"{context}: {name!r} is not a configured MFA method.", "E163")
    if not getattr(config.handler, "sends_codes", False):
        raise FlowConfigError(f"{context}: method {name!r} does not send codes.", "E163")
    if config.source_field != field:
        raise FlowConfigError(
            f"{context}: the SOURCE_FIELD of method {name!r} is {config.source_field!r}, "
            f"not {field!r}.",
            "E163",
        )
    return name


def parse_identifier(field: Any, raw: Any) -> Identifier:
    """Validate one ``IDENTIFIERS`` entry; raises :class:`FlowConfigError`."""
    context = f"TRENCH_AUTH['IDENTIFIERS'][{field!r}]"
    if not isinstance(field, str) or not user_field_exists(field):
        raise FlowConfigError(f"{context}: not a field of the user model.", "E161")
    if not isinstance(raw, Mapping) or not isinstance(raw.get("METHOD"), str):
        raise FlowConfigError(f"{context} must be a dict with a METHOD name.", "E165")
    on_create = raw.get("CONFIRMED_ON_CREATE", False)
    if not isinstance(on_create, bool):
        raise FlowConfigError(f"{context}: CONFIRMED_ON_CREATE must be True or False.", "E165")
    method = _sending_method(raw["METHOD"], field, context)
    return Identifier(field=field, method=method, confirmed_on_create=on_create)


def _parse_identifiers() -> dict[str, Identifier]:
    raw = mfa_settings.IDENTIFIERS
    if not raw:
        return {}
    if not isinstance(raw, Mapping):
        raise FlowConfigError("TRENCH_AUTH['IDENTIFIERS'] must be a dict.", "E165")
    return {field: parse_identifier(field, entry) for field, entry in raw.items()}


def identifiers() -> Mapping[str, Identifier]:
    """The verified identifier fields (empty when ``IDENTIFIERS`` is unset)."""
    return _memoised("identifiers", _parse_identifiers)


def passcode_method(field: str) -> str:
    """The method that sends passcodes for identifier ``field``.

    ``IDENTIFIERS[field]["METHOD"]`` when set; otherwise the one configured
    code-sending method whose ``SOURCE_FIELD`` is ``field``.
    """
    known = identifiers().get(field)
    if known is not None:
        return known.method
    candidates = [
        name
        for name, config in mfa_settings.methods.items()
        if config.source_field == field and getattr(config.handler, "sends_codes", False)
    ]
    if len(candidates) != 1:
        found = "none" if not candidates else ", ".join(sorted(candidates))
        raise FlowConfigError(
            f"No single method sends passcodes to {field!r} (found: {found}); "
            f"set TRENCH_AUTH['IDENTIFIERS'][{field!r}]['METHOD'].",
            "E163",
        )
    return candidates[0]


def parse_flow(index: int, raw: Any) -> Flow:
    """Validate one ``FLOWS`` entry; raises :class:`FlowConfigError`."""
    context = f"TRENCH_AUTH['FLOWS'][{index}]"
    if (
        isinstance(raw, str | bytes)
        or not isinstance(raw, list | tuple)
        or len(raw) < 2
        or not all(isinstance(item, str) for item in raw)
    ):
        raise FlowConfigError(
            f"{context} must be a tuple of an identifier and at least one secret.", "E160"
        )
    identifier, *secrets = raw
    if not user_field_exists(identifier):
        raise FlowConfigError(
            f"{context}: {identifier!r} is not a field of {get_user_model().__name__}.", "E161"
        )
    if identifier in (*KNOWLEDGE_SECRETS, PASSCODE):
        # The password field holds the password hash: as an identifier, the
        # hash alone would name (and, in a passwordless flow, log in) a user.
        raise FlowConfigError(f"{context}: {identifier!r} is a secret, not an identifier.", "E161")
    if len(set(secrets)) != len(secrets):
        raise FlowConfigError(f"{context} names a secret twice.", "E164")
    factors = []
    for secret in secrets:
        if secret in KNOWLEDGE_SECRETS:
            continue
        if secret == PASSCODE:
            factors.append(Factor(PASSCODE_FACTOR, passcode_method(identifier)))
        elif mfa_settings.method(secret) is not None:
            factors.append(Factor(METHOD_FACTOR, secret))
        else:
            raise FlowConfigError(
                f"{context}: {secret!r} is neither password, hardcode, passcode nor a "
                "configured MFA method.",
                "E162",
            )
    if len({f.method for f in factors}) != len(factors):
        raise FlowConfigError(f"{context} asks for the same method's code twice.", "E164")
    return Flow(identifier=identifier, secrets=tuple(secrets), factors=tuple(factors))


def _parse_flows() -> tuple[Flow, ...] | None:
    raw = mfa_settings.FLOWS
    if raw is None:
        return None
    if isinstance(raw, str | bytes) or not isinstance(raw, list | tuple) or not raw:
        raise FlowConfigError("TRENCH_AUTH['FLOWS'] must be a non-empty list of tuples.", "E160")
    return tuple(parse_flow(index, entry) for index, entry in enumerate(raw))


def login_flows() -> tuple[Flow, ...] | None:
    """The configured flows, or ``None`` when ``FLOWS`` is unset."""
    return _memoised("flows", _parse_flows)


def default_flow() -> Flow:
    """django-trench's login as a flow: ``USERNAME_FIELD`` and the password.

    It has no code factor of its own, so the user's primary MFA method (when
    MFA is on) is its one factor, as in django-trench's step 2.
    """
    return Flow(identifier=get_user_model().USERNAME_FIELD, secrets=(PASSWORD,), factors=())


def active_flows() -> tuple[Flow, ...]:
    """The flows the login pipeline walks: ``FLOWS``, or else the default flow."""
    return login_flows() or (default_flow(),)


def login_fields() -> tuple[str, ...]:
    """Every identifier field of the active flows, in order of first appearance."""
    return tuple(dict.fromkeys(flow.identifier for flow in active_flows()))
