"""What a login step answers (the tokens' user, or the next challenge), and what it asks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trench_mfa.flows import KNOWLEDGE_SECRETS, Factor, default_flow
from trench_mfa.login.amr import VerifiedFactor
from trench_mfa.models import MFAMethod
from trench_mfa.user import AnyUser


@dataclass(frozen=True)
class FactorPlan:
    """The code factors a user must answer, and the other methods that may answer the first."""

    factors: list[Factor]
    other_methods: list[str] = field(default_factory=list)
    #: The row answering the first factor, when reading the plan found it
    #: (a decoy's phantom row, see :mod:`trench_mfa.login.decoys`).
    first_row: MFAMethod | None = None
    #: What the challenge keeps next to the first factor (a decoy's sealed
    #: identifier, which its resends need).
    first_data: dict[str, str] = field(default_factory=dict)


@dataclass
class LoginStep:
    """The outcome of a login step: either a user to issue tokens for, or a challenge."""

    user: AnyUser
    ephemeral_token: str | None = field(default=None, repr=False)
    method: str | None = None
    other_methods: list[str] = field(default_factory=list)
    #: Code factors still to answer after ``method`` (login flows; else empty).
    factors_remaining: list[str] = field(default_factory=list)
    #: What the login verified, once it issues tokens (their ``amr`` claim).
    verified: tuple[VerifiedFactor, ...] = ()
    #: A new remembered device's token and expiry (step 2 with ``remember_device``).
    device_token: str | None = None
    device_expires_at: datetime | None = None
    #: Instead of tokens: a user whom ``REQUIRE_MFA_FOR`` makes set up MFA first.
    enrolment_token: str | None = None
    #: Extra fields of the challenge's answer: what the current factor's
    #: dispatch returned besides its text (WebAuthn's ``options``).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def needs_code(self) -> bool:
        """Whether the client must answer a challenge before getting tokens."""
        return self.ephemeral_token is not None


def knowledge(label: str) -> tuple[VerifiedFactor, ...]:
    """The knowledge secrets of the flow labelled ``label`` (``identifier+secret+...``).

    A challenge without a label (issued before flows were recorded on it)
    was a django-trench login: the password.
    """
    secrets = (label or default_flow().label).split("+")[1:]
    return tuple(VerifiedFactor.secret(s) for s in secrets if s in KNOWLEDGE_SECRETS)
