"""Types and structure, on every endpoint that takes the field.

Every test checks the four invariants of bad input (see ``conftest.py``):
no 5xx, no database change, a body that names no failed check, no message
sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import username_field
from tests.input_validation.conftest import Scene
from tests.input_validation.endpoints import (
    CODE_ENDPOINTS,
    ENDPOINTS,
    FIELD_TARGETS,
    Endpoint,
    target_id,
)
from tests.input_validation.invariants import assert_malformed_code_rejected, assert_rejected

pytestmark = pytest.mark.django_db

#: Every (endpoint, field) pair but the codes (a number is a code: see below).
NON_CODE_TARGETS = tuple(t for t in FIELD_TARGETS if t[1] != "code")


def _key(field_name: str) -> str:
    return username_field() if field_name == "username" else field_name


def assert_each_rejected(scene: Scene, target: tuple[Endpoint, str], values: Iterable[Any]) -> None:
    """Each of ``values`` in the target field: rejected, naming the field, nothing changed."""
    endpoint, field_name = target
    before = scene.snapshot()
    for value in values:
        response = scene.post(endpoint, scene.spoil(endpoint, field_name, value))
        assert_rejected(scene, response, before)
        assert _key(field_name) in response.json()


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
def test_a_missing_field_an_empty_object_and_an_empty_body(
    scene: Scene, endpoint: Endpoint
) -> None:
    before = scene.snapshot()
    for field_name in endpoint.required:
        body = scene.valid_body(endpoint)
        del body[_key(field_name)]
        response = scene.post(endpoint, body)
        assert_rejected(scene, response, before)
        payload = response.json()
        # A code that a setting may make optional is refused by the service.
        assert _key(field_name) in payload or payload.get("error_code") == "otp_code_missing"
    if not endpoint.required:
        pytest.skip("every field has a documented default (the primary method)")
    assert_rejected(scene, scene.post(endpoint, {}), before)
    assert_rejected(scene, scene.post_raw(endpoint, b"", "application/json"), before)


@pytest.mark.parametrize("target", FIELD_TARGETS, ids=target_id)
def test_null_in_any_field(scene: Scene, target: tuple[Endpoint, str]) -> None:
    assert_each_rejected(scene, target, [None])


@pytest.mark.parametrize("target", NON_CODE_TARGETS, ids=target_id)
def test_a_number_instead_of_a_string(scene: Scene, target: tuple[Endpoint, str]) -> None:
    assert_each_rejected(scene, target, (123456, int(scene.login_code), 0, -1, 10**30))


@pytest.mark.parametrize("endpoint", CODE_ENDPOINTS, ids=repr)
def test_a_number_code_is_read_as_its_decimal_string(
    scene: Scene, endpoint: Endpoint, trench_auth: Callable[..., Any]
) -> None:
    # Pinned (django-trench's CharField): a JSON number is the code
    # str(number). Numbers that do not spell a well-formed code are
    # malformed codes: nothing counts, nothing changes.
    trench_auth(RESEND_COOLDOWN=0)  # activating the pending email2 again sends a code
    before = scene.snapshot()
    for value in (0, -1, 12345, 1234567, 10**30):
        response = scene.post(endpoint, scene.spoil(endpoint, "code", value))
        assert_malformed_code_rejected(scene, endpoint, response, before)
    # The valid code as a number is that code, unless it lost a leading zero.
    valid = scene.value(endpoint, "code")
    response = scene.post(endpoint, scene.spoil(endpoint, "code", int(valid)))
    if str(int(valid)) == valid:
        assert response.status_code in (200, 204), response.content
    else:
        assert_malformed_code_rejected(scene, endpoint, response, before)


@pytest.mark.parametrize("target", FIELD_TARGETS, ids=target_id)
def test_a_bool_list_or_object_instead_of_a_string(
    scene: Scene, target: tuple[Endpoint, str]
) -> None:
    endpoint, field_name = target
    valid = scene.valid_body(endpoint)[_key(field_name)]
    values = (True, False, [], [valid], {"a": 1}, {field_name: valid})
    assert_each_rejected(scene, target, values)


@pytest.mark.parametrize("target", FIELD_TARGETS, ids=target_id)
def test_a_float_instead_of_a_string(scene: Scene, target: tuple[Endpoint, str]) -> None:
    endpoint, field_name = target
    before = scene.snapshot()
    for value in (123456.0, 1e5, float(scene.login_code)):
        response = scene.post(endpoint, scene.spoil(endpoint, field_name, value))
        if field_name == "code":
            # Read as str(value) ("123456.0"): a malformed code.
            assert_malformed_code_rejected(scene, endpoint, response, before)
            continue
        assert_rejected(scene, response, before)
        assert _key(field_name) in response.json()


@pytest.mark.parametrize("endpoint", CODE_ENDPOINTS, ids=repr)
def test_duplicate_keys_last_one_wins(scene: Scene, endpoint: Endpoint) -> None:
    # Pinned: Python's json keeps the last of duplicate keys, so a valid code
    # followed by a malformed one is a malformed code (and changes nothing).
    before = scene.snapshot()
    body = scene.valid_body(endpoint)
    text = json.dumps(body)[:-1] + ', "code": "1"}'
    assert text.count('"code"') == 2
    response = scene.post_raw(endpoint, text, "application/json")
    assert_malformed_code_rejected(scene, endpoint, response, before)


def test_duplicate_keys_the_last_valid_code_is_used(scene: Scene) -> None:
    endpoint = next(e for e in ENDPOINTS if e.name == "jwt-login-code")
    text = json.dumps({"ephemeral_token": scene.token, "code": "000000x"})[:-1]
    text += f', "code": "{scene.login_code}"}}'
    response = scene.post_raw(endpoint, text, "application/json")
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"refresh", "access"}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
def test_deeply_nested_json(scene: Scene, endpoint: Endpoint) -> None:
    before = scene.snapshot()
    depth = 100_000
    for raw in (
        "[" * depth + "]" * depth,
        '{"a":' * depth + "1" + "}" * depth,
        '{"code": ' + "[" * depth + "]" * depth + "}",
    ):
        response = scene.post_raw(endpoint, raw, "application/json")
        assert_rejected(scene, response, before)
        assert "detail" in response.json()
    # Deep but decodable: a plain type error of the field.
    field_name = endpoint.fields[0]
    nested: Any = scene.valid_body(endpoint)[_key(field_name)]
    for _ in range(200):
        nested = [nested]
    response = scene.post(endpoint, scene.spoil(endpoint, field_name, nested))
    assert_rejected(scene, response, before)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
def test_malformed_json(scene: Scene, endpoint: Endpoint) -> None:
    before = scene.snapshot()
    valid = json.dumps(scene.valid_body(endpoint))
    for raw in (
        "{",
        valid[:-1],
        valid + "}",
        valid + " trailing",
        '{"code": }',
        "{'code': '123456'}",
        '{"code": NaN}',
        '{"code": Infinity}',
        "\x00",
        b"\xff\xfe\x00{",
    ):
        response = scene.post_raw(endpoint, raw, "application/json")
        assert_rejected(scene, response, before, sent=raw if isinstance(raw, str) else None)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
def test_a_body_that_is_not_an_object(scene: Scene, endpoint: Endpoint) -> None:
    before = scene.snapshot()
    for raw in ('["123456"]', '"123456"', "123456", "null", "true", "[{}]"):
        response = scene.post_raw(endpoint, raw, "application/json")
        assert_rejected(scene, response, before)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
def test_text_plain_and_other_content_types(scene: Scene, endpoint: Endpoint) -> None:
    before = scene.snapshot()
    body = json.dumps(scene.valid_body(endpoint))
    for content_type in ("text/plain", "application/xml", "application/x-yaml"):
        response = scene.post_raw(endpoint, body, content_type)
        assert_rejected(scene, response, before, statuses=(415,))


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
def test_multipart_and_form_bodies_follow_the_same_rules(scene: Scene, endpoint: Endpoint) -> None:
    # Pinned: form bodies are accepted as django-trench clients send them;
    # their values are strings, so the field rules are the same as for JSON.
    before = scene.snapshot()
    for field_name in endpoint.fields:
        bad = "12345" if field_name == "code" else "\x00"
        body = scene.spoil(endpoint, field_name, bad)
        for fmt in ("multipart", None):
            client = scene.client_for(endpoint)
            if fmt:
                response = client.post(endpoint.path, body, format=fmt)
            else:
                response = client.generic(
                    "POST",
                    endpoint.path,
                    urlencode(body),
                    content_type="application/x-www-form-urlencoded",
                )
            if field_name == "code":
                assert_malformed_code_rejected(scene, endpoint, response, before)
                continue
            statuses = (401,) if field_name == "ephemeral_token" else (400,)
            assert_rejected(scene, response, before, statuses=statuses)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
def test_a_body_larger_than_data_upload_max_memory_size(
    scene: Scene, endpoint: Endpoint, settings: Any
) -> None:
    before = scene.snapshot()
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440
    body = scene.spoil(endpoint, endpoint.fields[0], "1" * (limit + 1))
    response = scene.post(endpoint, body)
    assert_rejected(scene, response, before, statuses=(400, 413))
    # Also when the body is padded with an unknown field (nothing reads it).
    body = {**scene.valid_body(endpoint), "padding": "x" * (limit + 1)}
    response = scene.post(endpoint, body)
    assert_rejected(scene, response, before, statuses=(400, 413))


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
def test_get_put_delete_on_post_only_views(scene: Scene, endpoint: Endpoint) -> None:
    before = scene.snapshot()
    client = scene.client_for(endpoint)
    body = scene.valid_body(endpoint)
    for verb in ("get", "put", "patch", "delete"):
        response = getattr(client, verb)(endpoint.path, body, format="json")
        assert_rejected(scene, response, before, statuses=(405,))


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
def test_secret_in_the_query_string_is_ignored(scene: Scene, endpoint: Endpoint) -> None:
    before = scene.snapshot()
    secrets = [f for f in endpoint.fields if f in ("code", "ephemeral_token", "password")]
    if not secrets:
        pytest.skip("no secret field")
    body = scene.valid_body(endpoint)
    query = "&".join(f"{_key(f)}={body.pop(_key(f))}" for f in secrets)
    client = scene.client_for(endpoint)
    response = client.post(f"{endpoint.path}?{query}", body, format="json")
    assert_rejected(scene, response, before)
    payload = response.json()
    assert any(_key(f) in payload for f in secrets) or payload["error_code"] == "otp_code_missing"
