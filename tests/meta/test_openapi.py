"""docs/openapi.json is generated from the resolvers; it must not drift from the code, it must be a
valid OpenAPI document, and it must say every constraint the service enforces."""

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from pydantic import BaseModel

from infra.tools.openapi import OPENAPI_PATH, build_document, render
from tests.support.schemathesis_hooks import as_integer_literals
from trial_edge import schemas
from trial_edge.strict_json import loads


def committed() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    return document


def body_operations() -> list[tuple[str, str, str]]:
    """(path, method, request model name) of every operation with a JSON body."""
    return [(path, method, operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1])
            for path, operations in committed()["paths"].items() for method, operation in operations.items()
            if "requestBody" in operation]  # fmt: skip


def test_committed_document_matches_the_code() -> None:
    assert OPENAPI_PATH.read_text(encoding="utf-8") == render(build_document()), (
        "docs/openapi.json is stale: run `make openapi` and commit it"
    )


def test_every_operation_documents_its_errors_and_security() -> None:
    document = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    operations = [(path, method, op) for path, ops in document["paths"].items() for method, op in ops.items()]
    assert len(operations) == 19
    for path, method, operation in operations:
        responses = operation["responses"]
        assert {"200", "401", "422", "503"} <= set(responses), (path, method)
        for status, response in responses.items():
            if status != "200":
                assert response["content"]["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }
        assert operation["security"] in ([{"ConsoleJwt": []}], [{"GatewaySigV4": []}])
    assert document["paths"]["/v1/usage"]["post"]["security"] == [{"GatewaySigV4": []}]
    assert "402" in document["paths"]["/v1/authorizations"]["post"]["responses"]
    assert "403" in document["paths"]["/v1/account/alerts"]["put"]["responses"]
    assert "409" in document["paths"]["/v1/usage"]["post"]["responses"]
    holds = document["paths"]["/v1/holds"]["post"]["responses"]
    assert {"402", "404", "409"} <= set(holds)
    release = document["paths"]["/v1/holds/{request_id}"]["delete"]
    assert release["security"] == [{"GatewaySigV4": []}]
    assert release["responses"]["404"]["description"].startswith("hold_not_found")
    batch = document["paths"]["/v1/usage/batch"]["post"]
    assert batch["security"] == [{"GatewaySigV4": []}]
    assert not {"404", "409"} & set(batch["responses"])  # a refused record is a result, not the response
    results = document["components"]["schemas"]["UsageBatchOut"]["properties"]["results"]["items"]["anyOf"]
    assert results == [{"$ref": "#/components/schemas/UsageOut"}, {"$ref": "#/components/schemas/RecordRefusalOut"}]
    records = document["components"]["schemas"]["UsageBatchRequest"]["properties"]["records"]
    # Any JSON value: a record that is not a usage body is refused in its place, not the batch.
    assert (records["minItems"], records["maxItems"], records["items"]) == (1, 100, {})
    assert "in its place" in records["description"]


def test_the_document_is_a_valid_openapi_document() -> None:
    """openapi-spec-validator, as a client generator or a gateway import would check it. It failed
    on '/components/schemas/ValidationError' does not exist (issue 27)."""
    validate(committed())


def test_every_link_names_an_operation_and_fields_that_exist() -> None:
    document = committed()
    operations = {op["operationId"]: op for ops in document["paths"].values() for op in ops.values()}
    schemas = document["components"]["schemas"]

    def fields(operation: dict[str, Any], part: str) -> set[str]:
        content = operation["responses"]["200"] if part == "response" else operation["requestBody"]
        return set(schemas[content["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]["properties"])

    links = [(op, link) for op in operations.values() for link in op["responses"]["200"].get("links", {}).values()]
    assert len(links) >= 8
    for source, link in links:
        target = operations[link["operationId"]]
        names = {parameter["name"] for parameter in target.get("parameters", [])}
        assert set(link.get("parameters", {})) <= names, link
        body = link.get("requestBody")
        if isinstance(body, dict):
            assert set(body) <= fields(target, "request"), link
        values = [*link.get("parameters", {}).values(), *(body.values() if isinstance(body, dict) else [body])]
        for value in values:
            if isinstance(value, str) and value.startswith("$response.body#/"):
                assert value.removeprefix("$response.body#/") in fields(source, "response"), link


@pytest.mark.parametrize(("path", "method", "model"), body_operations(), ids=str)
def test_every_body_the_document_allows_the_service_accepts(path: str, method: str, model: str) -> None:
    """The constraints the service enforces are in the document: bodies generated from it, as a
    client generated from it would send them (Schemathesis's positive data, integers as integer
    literals: see tests/support/schemathesis_hooks.py), pass the route's request model.
    ``ClaimRequest.models`` lacked ``uniqueItems``, and duplicates are a 422."""
    found = [getattr(module, model) for module in (schemas.console, schemas.gateway, schemas.corrections)
             if hasattr(module, model)]  # fmt: skip
    request_model: type[BaseModel] = found[0]
    operation = schemathesis.openapi.from_dict(committed())[path][method.upper()]

    @settings(max_examples=150, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(operation.as_strategy())
    def accepted(case: Any) -> None:
        request_model.model_validate(loads(json.dumps(as_integer_literals(case.body))))

    accepted()
