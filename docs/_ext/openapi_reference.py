"""Sphinx extension: write ``api-reference.rst`` from the live OpenAPI schema.

At build start it sets up testproject, asks drf-spectacular for the schema of
the trench_mfa endpoints and renders one section per operation (request
fields, responses), so the reference can never drift from the code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_OUT = "api-reference.rst"
_PREFIXES = ("/auth/jwt/", "/auth/token/", "/auth/")
_SKIP = ("/auth/users",)  # djoser's endpoints, mounted by the demo project only


def _schema() -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")
    import django

    django.setup()
    from drf_spectacular.generators import SchemaGenerator

    schema: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    return schema


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if not ref:
        return node
    return _resolve(schema, schema["components"]["schemas"][ref.rsplit("/", 1)[-1]])


def _fields(schema: dict[str, Any], node: dict[str, Any] | None) -> list[str]:
    if not node:
        return []
    body = _resolve(schema, node)
    required = set(body.get("required", []))
    lines = []
    for name, prop in body.get("properties", {}).items():
        prop = _resolve(schema, prop)
        kind = prop.get("type", "object")
        if kind == "array":
            kind = f"list of {_resolve(schema, prop.get('items', {})).get('type', 'object')}"
        flags = "required" if name in required else "optional"
        lines.append(f"   * - ``{name}``\n     - {kind}\n     - {flags}")
    return lines


def _table(rows: list[str]) -> str:
    if not rows:
        return "   (none)\n"
    head = ".. list-table::\n   :header-rows: 1\n\n   * - field\n     - type\n     - presence\n"
    return head + "\n".join(rows) + "\n"


def _operation(schema: dict[str, Any], path: str, method: str, op: dict[str, Any]) -> str:
    title = f"{method.upper()} ``{path}``"
    out = [title, "~" * len(title), ""]
    doc = (op.get("description") or op.get("summary") or "").strip()
    if doc:
        out += [doc, ""]
    content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    if content:
        out += ["Request body:", "", _table(_fields(schema, content.get("schema")))]
    out.append("Responses:")
    out.append("")
    for status, response in sorted(op.get("responses", {}).items()):
        body = response.get("content", {}).get("application/json", {}).get("schema")
        shape = ""
        if body:
            variants = [v.get("$ref", "").rsplit("/", 1)[-1] for v in body.get("oneOf", [])]
            name = (
                body.get("$ref", "").rsplit("/", 1)[-1]
                or " | ".join(v for v in variants if v)
                or body.get("type", "")
                or "object"
            )
            fields = list(_resolve(schema, body).get("properties", {}))
            shape = f" ``{name}``" + (f" ({', '.join(fields)})" if fields else "")
        out.append(f"* ``{status}``{shape or ' no body'}")
    out.append("")
    return "\n".join(out)


def write_reference(app: Any) -> None:
    """Render the reference page into the source directory."""
    schema = _schema()
    parts = [
        "API reference",
        "=============",
        "",
        "Generated from the OpenAPI schema (drf-spectacular) of the demo project",
        "when the documentation is built; paths are shown as mounted there",
        "(``auth/``, ``auth/jwt/``, ``auth/token/``). Errors use the envelope",
        "described in :doc:`endpoints`.",
        "",
    ]
    for path, operations in schema["paths"].items():
        if not path.startswith(_PREFIXES) or path.startswith(_SKIP):
            continue
        for method, op in operations.items():
            parts.append(_operation(schema, path, method, op))
    target = Path(app.srcdir) / _OUT
    text = "\n".join(parts)
    if not target.exists() or target.read_text() != text:
        target.write_text(text)


def setup(app: Any) -> dict[str, Any]:
    """Register the generator with Sphinx."""
    app.connect("builder-inited", write_reference)
    return {"parallel_read_safe": True, "version": "1"}
