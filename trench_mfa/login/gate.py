"""What follows a correct step 1: a remembered device's skip, enrolment, or the challenge.

One function, :func:`next_step`, called by :func:`trench_mfa.login.start.start_login`
once the user's knowledge secrets are right and their code factors known:

* a live remembered device (:mod:`trench_mfa.services.devices`) skips the
  code factors of a flow that has a knowledge secret (a passwordless flow's
  code is its only proof, so no device skips it): the tokens, with
  ``amr`` ``["pwd", "device"]``;
* a user whom ``REQUIRE_MFA_FOR`` makes have MFA and who has none gets an
  enrolment token instead of tokens (:mod:`trench_mfa.services.enrolment`);
* otherwise the challenge of the first code factor, or the tokens when MFA
  is off (:func:`trench_mfa.login.factors.open_challenge`).

After the last code of step 2, :func:`finish` remembers the device when the
client asked for it.
"""

from __future__ import annotations

from typing import Any

from trench_mfa.flows import Flow
from trench_mfa.login import factors
from trench_mfa.login.amr import VerifiedFactor
from trench_mfa.login.steps import LoginStep, knowledge
from trench_mfa.services import devices, enrolment
from trench_mfa.user import AnyRequest, AnyUser


def next_step(
    request: AnyRequest, flow: Flow, user: AnyUser, plan: factors.FactorPlan, data: dict[str, Any]
) -> LoginStep:
    """The step after a correct step 1 of ``flow`` (see the module's docstring)."""
    if plan.factors and flow.knowledge:
        token = devices.presented_token(request, data)
        if devices.skips_second_factor(user, token, request=request):
            verified = (*knowledge(flow.label), VerifiedFactor.device())
            return LoginStep(user=user, verified=verified)
    if not plan.factors and enrolment.is_required(user):
        return LoginStep(user=user, enrolment_token=enrolment.issue_token(user))
    return factors.open_challenge(request, flow, user, plan)


def finish(step: LoginStep, *, remember: bool, request: AnyRequest) -> LoginStep:
    """``step`` with a new device token when the client asked to remember the device."""
    if not remember or step.needs_code or not any(f.is_code for f in step.verified):
        return step
    remembered = devices.remember(step.user, request=request)
    if remembered is not None:
        step.device_token, device = remembered
        step.device_expires_at = device.expires_at
    return step


def answer(
    token: str, code: str, method_name: str | None, *, remember: bool, request: AnyRequest
) -> LoginStep:
    """Login step 2 (:func:`trench_mfa.login.factors.answer`), then :func:`finish`."""
    step = factors.answer(token, code, method_name, request=request)
    return finish(step, remember=remember, request=request)
