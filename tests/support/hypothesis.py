"""The hypothesis settings shared by the schema fuzzers and the property-based tests."""

from __future__ import annotations

from hypothesis import HealthCheck, settings


def fuzz_settings(max_examples: int) -> settings:
    """Deterministic runs of ``max_examples`` per operation, no example database.

    The health checks are off that a fuzzer of a real Django app trips by
    design: slow requests, function-scoped fixtures (fresh users per test;
    each example makes its own data) and the filtering schemathesis does to
    stay inside the schema.
    """
    return settings(
        max_examples=max_examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.filter_too_much,
        ],
    )
