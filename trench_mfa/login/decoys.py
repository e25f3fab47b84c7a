"""Decoy logins: a passwordless flow answers an unknown identifier like a known one.

When the identifier of a passwordless flow names nobody who could log in
with it (unknown, ambiguous, inactive, unconfirmed, or missing a method the
flow needs), login step 1 still opens a challenge: a ``LoginChallenge`` row
without a user, whose token looks like any other.

A decoy keeps no rules of its own. Its first factor is answered by a
*phantom* method row (:mod:`trench_mfa.state.phantoms`): a row without a
user, named by a keyed hash of the method and the identifier (in the form
that decides whom a login finds).
Step 1, ``login/code/`` and ``login/code/request/`` then run the very
functions a real login runs on the user's channel row
(:func:`trench_mfa.login.factors.open_challenge`, ``answer``, ``resend``):
the recipient check, the resend cooldown and the re-binding of the live code
to a new challenge, the send limit, the per-number cap, the code's and the
token's attempt caps, back-off and lockout. The phantom's dispatcher is the
method's own, made silent (:mod:`trench_mfa.backends.silent`): the code is
stored and never sent, and :mod:`trench_mfa.services.verification` refuses
a phantom row even the right code. ``tests/flows/test_decoy_state_machine.py``
runs random sequences of requests against a real account and a decoy and
checks that nothing tells them apart.

What stays apart from a real login: no signal and no audit row (there is no
account to name), so step 1 rewrites its challenge row where a real one
commits the audit row, to cost the same commits.
"""

from __future__ import annotations

from django.views.decorators.debug import sensitive_variables

from trench_mfa.conf import mfa_settings
from trench_mfa.flows import Factor, Flow
from trench_mfa.login.steps import FactorPlan
from trench_mfa.models import LoginChallenge, MFAMethod, VerifiedIdentifier
from trench_mfa.state import phantoms, secrets_at_rest, tokens


@sensitive_variables()
def plan(flow: Flow, value: str) -> FactorPlan:
    """The factors of a decoy for ``value`` in ``flow``: the first one answered by a phantom.

    Reads what a real step 1 reads besides: the identifier's confirmation
    (see :func:`trench_mfa.login.start.find_user`), about nobody.
    """
    VerifiedIdentifier.objects.filter(user_id__isnull=True, confirmed_at__isnull=False).exists()
    first = flow.factors[0]
    row = phantoms.phantom_method(first.method, flow.identifier, value)
    # The value travels encrypted, for the recipient checks of the resends.
    data = {"field": flow.identifier, "to": secrets_at_rest.encrypt_secret(value)}
    return FactorPlan(list(flow.factors), first_row=row, first_data=data)


@sensitive_variables()
def _identifier(challenge: LoginChallenge) -> tuple[str, str, str] | None:
    """(method, field, value) of a decoy challenge's first factor, or ``None``."""
    if not challenge.factors:
        return None
    data = challenge.factors[0]
    try:
        value = secrets_at_rest.decrypt_secret(str(data["to"]))
        return Factor.from_json(data).method, str(data["field"]), value
    except (KeyError, TypeError, secrets_at_rest.SecretDecryptionError):
        return None  # not a decoy's, or sealed under a key retired since


def phantom_row(challenge: LoginChallenge) -> MFAMethod | None:
    """The phantom row answering a decoy challenge (a resend), as a user's channel row is got."""
    found = _identifier(challenge)
    return phantoms.phantom_method(*found) if found is not None else None


def with_phantom(read: tokens.LockedChallenge) -> tokens.LockedChallenge:
    """``read`` (a decoy challenge) with its phantom row locked, as a real read has the user's."""
    found = _identifier(read.challenge)
    rows = phantoms.lock_phantom(*found) if found is not None else []
    return tokens.LockedChallenge(read.challenge, rows)


def imitate_audit(challenge_id: int) -> None:
    """A real send commits its audit row (``AUDIT_LOG``); a decoy rewrites its challenge row."""
    if mfa_settings.AUDIT_LOG:
        LoginChallenge.objects.filter(pk=challenge_id).update(done=[])
