"""A readable API reference at /api/docs, rendered from the same OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

bp = Blueprint("api_docs", __name__)

METHODS = ("get", "post", "put", "patch", "delete")


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    if isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return spec["components"]["schemas"].get(name, {})
    return node


def _properties(spec: dict[str, Any], schema: Any) -> list[dict[str, Any]]:
    schema = _resolve(spec, schema)
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        prop = _resolve(spec, prop)
        rows.append(
            {
                "name": name,
                "type": prop.get("type") or ("object" if "properties" in prop else ""),
                "required": name in required,
                "description": prop.get("description", ""),
                "enum": prop.get("enum"),
            }
        )
    return rows


@bp.get("/api/docs")
def reference() -> str:
    """Every operation with its parameters and request body, grouped by tag."""
    from api import api

    spec = api.spec.to_dict()
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if not op:
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            groups.setdefault((op.get("tags") or ["other"])[0], []).append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "public": op.get("security") == [],
                    "parameters": op.get("parameters", []) + item.get("parameters", []),
                    "body": _properties(spec, body.get("schema", {})) if body else [],
                    "responses": sorted(op.get("responses", {}).items()),
                }
            )
    tags = {t["name"]: t.get("description", "") for t in spec.get("tags", [])}
    return render_template("api_docs.html", spec=spec, groups=groups, tags=tags)
