"""OpenAPI (drf-spectacular) for login flows: the bodies follow ``TRENCH_AUTH["FLOWS"]``.

The login views are documented with django-trench's shapes (``Login``:
``USERNAME_FIELD`` and ``password``; step 2 answering tokens). When FLOWS
is set, these extensions swap them at schema generation for what the
endpoints then accept and answer:

* step 1 (``login/``): ``FlowLogin``, every identifier field of a flow plus
  ``password`` and ``hardcode``, each optional, and an ``anyOf`` that
  requires the identifier and knowledge secrets of at least one flow;
* step 2 (``login/code/``): tokens, or the next factor's challenge (the
  step-1 answer shapes ``JWTLoginResponse`` and ``AuthTokenLoginResponse``).

Imported by ``TrenchMFAConfig.ready()`` only when drf-spectacular is
installed; defining the classes registers them.
"""

from __future__ import annotations

from typing import Any

from django.utils.module_loading import import_string
from drf_spectacular.extensions import OpenApiSerializerExtension

from trench_mfa import flows


def _flows_on() -> bool:
    return flows.login_flows() is not None


def _required_sets() -> list[dict[str, Any]]:
    """One ``{"required": [...]}`` per distinct step-1 field set, in flow order."""
    found: list[list[str]] = []
    for flow in flows.login_flows() or ():
        needed = [flow.identifier, *flow.knowledge]
        if needed not in found:
            found.append(needed)
    return [{"required": needed} for needed in found]


class FlowLoginRequestExtension(OpenApiSerializerExtension):
    """``login/`` body: ``Login`` without FLOWS, ``FlowLogin`` with them."""

    target_class = "trench_mfa.api.serializers.LoginSerializer"

    def get_name(self, auto_schema: Any, direction: Any) -> str | None:
        """``FlowLogin`` when FLOWS is set, else the default name."""
        return "FlowLogin" if _flows_on() else None

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        """The flow fields, and which combinations make a request."""
        if not _flows_on():
            return auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        from trench_mfa.api.flow_serializers import FlowLoginSerializer

        schema = auto_schema._map_serializer(FlowLoginSerializer(), direction)
        schema["anyOf"] = _required_sets()
        schema["description"] = (
            "The identifier and knowledge secrets (password, hardcode) of at least one "
            "flow of TRENCH_AUTH['FLOWS']; the first flow whose fields are all present "
            "and correct is used."
        )
        return schema


class _StepTwoResponseExtension(OpenApiSerializerExtension):
    """``login/code/`` answer: tokens, or with FLOWS, tokens or the next challenge."""

    #: The step-1 answer serializer whose shape step 2 shares under FLOWS.
    with_flows = ""
    #: Its component name.
    with_flows_name = ""

    def _step_one(self) -> Any:
        return import_string(self.with_flows)

    def get_name(self, auto_schema: Any, direction: Any) -> str | None:
        """The step-1 answer's name when FLOWS is set, else the default name."""
        return self.with_flows_name if _flows_on() else None

    def get_identity(self, auto_schema: Any, direction: Any) -> Any:
        """The step-1 answer's class when FLOWS is set: one component, not two."""
        return self._step_one() if _flows_on() else None

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        """Tokens, or the challenge shape when FLOWS is set."""
        if not _flows_on():
            return auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return auto_schema._map_serializer(self._step_one()(), direction)


class FlowJWTStepTwoExtension(_StepTwoResponseExtension):
    """JWT flavour of :class:`_StepTwoResponseExtension`."""

    target_class = "trench_mfa.api.serializers.JWTResponseSerializer"
    with_flows = "trench_mfa.api.serializers.JWTLoginResponseSerializer"
    with_flows_name = "JWTLoginResponse"


class FlowAuthTokenStepTwoExtension(_StepTwoResponseExtension):
    """Authtoken flavour of :class:`_StepTwoResponseExtension`."""

    target_class = "trench_mfa.api.serializers.AuthTokenResponseSerializer"
    with_flows = "trench_mfa.api.serializers.AuthTokenLoginResponseSerializer"
    with_flows_name = "AuthTokenLoginResponse"
