"""Schema fuzzing of the login-flow endpoints, under the demo's FLOWS settings.

Like :mod:`tests.api_contract.fuzzing.test_no_input_gives_a_500`, but the schema is generated with
``testproject.settings_flows``' ``TRENCH_AUTH`` (login bodies carry flow
identifiers, ``password`` and ``hardcode``; step 2 may answer the next
challenge) and only the flow operations are fuzzed: login step 1 and 2 and
the resend of both flavours, ``hardcode/`` and the verification endpoints.
Half of the generated bodies name the fuzzing user's identifiers, so real
challenges are reached as well as decoys. Bounded and deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.test import override_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from testproject import settings_flows
from testproject.wsgi import application
from tests.support.hypothesis import fuzz_settings
from trench_mfa import flows
from trench_mfa.services import hardcode, identifiers

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

#: Examples per operation and generation mode (about ten operations).
MAX_EXAMPLES = 20
#: The demo's flows, the password flow on this user model's login field.
LOGIN_FIELD = get_user_model().USERNAME_FIELD
FLOWS_AUTH = {
    **settings_flows.TRENCH_AUTH,
    "FLOWS": [(LOGIN_FIELD, "password"), *settings_flows.TRENCH_AUTH["FLOWS"][1:]],
    "THROTTLE_FACTOR": 0,
}
PHONE = "+48600100200"
KNOWN = {"email": "fuzzer@example.com", "phone_number": PHONE, LOGIN_FIELD: "fuzzer@example.com"}
if LOGIN_FIELD == "username":
    KNOWN["username"] = "fuzzer"

with override_settings(TRENCH_AUTH=FLOWS_AUTH):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, database="none")
schema = schema.include(path_regex=r"^/auth/((jwt|token)/login/|hardcode/|verification/)")


def _with_known_identifiers(value: Any) -> st.SearchStrategy[Any]:
    if not isinstance(value, dict) or not set(value) & {*KNOWN, "method"}:
        return st.just(value)
    known = {k: v for k, v in KNOWN.items() if k in value}
    if "method" in value:
        known["method"] = "email"
    if "hardcode" in value:
        known["hardcode"] = "2468"
    return st.one_of(st.just(value), st.just({**value, **known}))


@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    """Half of the bodies name the fuzzing user (and its hardcode, a known method)."""
    return _with_known_identifiers(body)


@pytest.fixture
def flows_user(settings: Any, mfa_user: Any) -> Any:
    """The fuzzing user, with confirmed identifiers and a hardcode, under FLOWS."""
    settings.TRENCH_AUTH = FLOWS_AUTH
    mfa_user.phone_number = PHONE
    mfa_user.save()
    for field in flows.identifiers():
        identifiers.mark_confirmed(mfa_user, field)
    hardcode.store_hardcode(mfa_user, "2468")
    return mfa_user


@schema.parametrize()
@fuzz_settings(MAX_EXAMPLES)
def test_flow_endpoints_schema_fuzzing(
    case: Any, flows_user: Any, auth_headers: Callable[[], dict[str, str]]
) -> None:
    case.call_and_validate(
        headers=auth_headers(),
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )


def test_the_fuzzed_schema_is_the_flows_one() -> None:
    login = schema.raw_schema["components"]["schemas"]["FlowLogin"]
    fields = {LOGIN_FIELD, "email", "phone_number", "password", "hardcode"}
    assert fields <= set(login["properties"])
    assert {"required": ["email"]} in login["anyOf"]
