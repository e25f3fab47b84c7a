"""OpenAPI (drf-spectacular): the enrolment token's security scheme.

Imported by ``TrenchMFAConfig.ready()`` only when drf-spectacular is
installed; defining the class registers it.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class EnrolmentTokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: MFA-Enrolment <token>`` on the activation endpoints."""

    target_class = "trench_mfa.api.enrolment.EnrolmentTokenAuthentication"
    name = "mfaEnrolmentToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        """An API key in the ``Authorization`` header, with the ``MFA-Enrolment`` prefix."""
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "The enrolment token of login step 1 (REQUIRE_MFA_FOR), "
                "prefixed with 'MFA-Enrolment '."
            ),
        }
