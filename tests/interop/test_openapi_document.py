"""The OpenAPI document as other teams' tools read it: valid OpenAPI 3.1 by a validator
nobody here wrote, every `$ref` resolving, schema names unique and meaningful, every
operation described with whole-object examples that match their own schemas, and the
security scheme a standard OAuth client (the /docs "Authorize" button) can use."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from registry.core.openapi import example_of

SUCCESS = re.compile(r"^2\d\d$")


@pytest.fixture(scope="module")
async def document(http) -> dict[str, Any]:
    r = await http.get("/openapi.json")
    assert r.status_code == 200
    return r.json()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


async def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(copy.deepcopy(document))  # raises on any violation, a dangling $ref included


async def test_every_ref_resolves_inside_the_document(document):
    schemas = document["components"]["schemas"]
    for ref in set(refs(document)):
        assert ref.startswith("#/components/schemas/"), ref  # no `#/$defs/…` left inline
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


async def test_schema_names_are_unique_and_meaningful(document):
    names = list(document["components"]["schemas"])
    for name in names:
        assert "__" not in name and not name.startswith("registry"), name  # pydantic's clash spelling
    titles = {}
    for name, schema in document["components"]["schemas"].items():
        if "enum" in schema:  # two enums with one title make generators drop both
            assert schema.get("title", name) not in titles, (name, titles.get(schema.get("title", name)))
            titles[schema.get("title", name)] = name
    assert {"RecordOutcome", "DisputeOutcome"} <= set(names)


async def test_every_operation_has_a_unique_id_a_summary_and_a_description(document):
    seen = set()
    for method, path, operation in operations(document):
        assert operation.get("summary"), (method, path)
        assert operation.get("description"), (method, path)
        assert operation["operationId"] not in seen
        seen.add(operation["operationId"])


def _media_examples(document: dict[str, Any], method: str, path: str, operation: dict[str, Any]):
    components = document["components"]["schemas"]
    bodies = []
    if "requestBody" in operation:
        bodies += [("request", ct, m) for ct, m in operation["requestBody"]["content"].items()]
    for status, response in operation["responses"].items():
        if SUCCESS.match(status):
            bodies += [(status, ct, m) for ct, m in response.get("content", {}).items()]
    for where, content_type, media in bodies:
        schema = media.get("schema")
        example = media["example"] if "example" in media else example_of(schema, components)
        yield f"{method} {path} {where} {content_type}", schema, example


async def test_every_body_and_success_response_has_a_whole_example_that_fits_its_schema(document):
    """Also catches routes added later without examples: that is the point."""
    missing, wrong = [], []
    for method, path, operation in operations(document):
        for where, schema, example in _media_examples(document, method, path, operation):
            if example is None:
                missing.append(where)
                continue
            if schema is None or schema.get("type") == "string":
                assert isinstance(example, str) and example, where  # a file or a text body
                continue
            validator = jsonschema.Draft202012Validator({**schema, "components": document["components"]})
            errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(example)]
            if errors:
                wrong.append((where, errors[:3]))
    assert not missing, "operations without an example:\n" + "\n".join(missing)
    assert not wrong, wrong


async def test_security_is_oauth2_client_credentials_with_each_routes_scope(document):
    schemes = document["components"]["securitySchemes"]
    assert list(schemes) == ["OAuth2"]
    flow = schemes["OAuth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/oauth/token"
    assert set(flow["scopes"]) == {"records:write", "records:read", "exposure:read", "monitor", "disputes", "admin"}
    assert document["paths"]["/v1/records"]["post"]["security"] == [{"OAuth2": ["records:write"]}]
    assert document["paths"]["/admin/members"]["get"]["security"] == [{"OAuth2": ["admin"]}]
    for method, path, operation in operations(document):
        if path.startswith(("/v1/", "/admin/")):
            assert operation.get("security"), (method, path)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/.well-known/jwks.json"])
async def test_routes_that_read_no_input_list_no_422_and_never_answer_it(document, http, path):
    assert "422" not in document["paths"][path]["get"]["responses"]
    assert (await http.get(path + "?x=%00&y=1")).status_code in (200, 503)


async def test_swagger_ui_fetches_a_token_from_the_token_endpoint_with_basic_auth(http, registry):
    """What the Authorize button sends for the client credentials flow: HTTP Basic and the
    scopes ticked, form-encoded, to the tokenUrl relative to the document."""
    c = (await registry.member()).client
    r = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "records:read"},
        auth=(c.client_id, c.client_secret),
    )
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "records:read"
    records = await http.get("/v1/records", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert records.status_code == 200
