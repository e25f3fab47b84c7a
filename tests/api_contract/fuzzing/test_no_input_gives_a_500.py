"""No input gives a 500, found by fuzzing the OpenAPI schema.

schemathesis reads testproject's drf-spectacular schema from the WSGI app
(in process, no server), generates valid and invalid requests for every
trench_mfa operation, sends them authenticated as a user with MFA, and
checks each answer: never a 5xx, a status code the schema declares, and a
body that matches the declared schema. The number of examples is bounded
and generation is deterministic, so the run is reproducible and short.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from testproject.wsgi import application
from tests.support.hypothesis import fuzz_settings

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

#: Examples per operation and generation mode; the whole run stays well
#: under a minute on two cores.
MAX_EXAMPLES = 30

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, database="none")
# Only trench_mfa's endpoints: djoser's user endpoints share the schema.
schema = schema.include(tag="mfa")

#: Method names of testproject, mixed into the generated ones so that the
#: fuzzer also reaches the states behind a known method (pending, active).
KNOWN_METHODS = ("email", "app", "sms")


def _with_known_name(value: dict[str, Any], key: str) -> st.SearchStrategy[Any]:
    if not isinstance(value, dict) or key not in value:
        return st.just(value)
    named = st.sampled_from(KNOWN_METHODS).map(lambda name: {**value, key: name})
    return st.one_of(st.just(value), named)


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    """Half of the cases name a configured method in the URL."""
    return _with_known_name(path_parameters, "method")


@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    """Likewise for a ``method`` field in the body."""
    return _with_known_name(body, "method")


@schema.parametrize()
@fuzz_settings(MAX_EXAMPLES)
def test_no_generated_request_gives_a_500(
    case: Any, auth_headers: Callable[[], dict[str, str]]
) -> None:
    case.call_and_validate(
        headers=auth_headers(),
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )
