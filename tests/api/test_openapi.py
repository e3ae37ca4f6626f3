"""The OpenAPI document validates and the docs page renders every operation."""

from __future__ import annotations

from flask.testing import FlaskClient
from markupsafe import escape
from openapi_spec_validator import validate


def test_openapi_document_is_valid_openapi_3(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"].startswith("3.")
    validate(spec)
    paths = spec["paths"]
    for path in (
        "/api/v1/leads",
        "/api/v1/leads/{lead_id}",
        "/api/v1/niches",
        "/api/v1/niches/{slug}",
        "/api/v1/keys",
        "/api/v1/me",
    ):
        assert path in paths
    post = paths["/api/v1/leads"]["post"]
    assert {"201", "200", "default"} <= set(post["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert paths["/api/v1/niches"]["get"]["security"] == []
    error = spec["components"]["schemas"]["Error"]["properties"]
    assert set(error) == {"error", "message", "fields", "request_id"}


def test_docs_page_lists_every_operation(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for path, item in spec["paths"].items():
        assert path in html
        for op in item.values():
            if isinstance(op, dict) and "summary" in op:
                assert str(escape(op["summary"])) in html


def test_home_page_renders(client: FlaskClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "flask exchange demo" in page.get_data(as_text=True)
