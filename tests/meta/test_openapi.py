"""docs/openapi.json is generated from the resolvers; it must not drift from the code."""

import json

from infra.tools.openapi import OPENAPI_PATH, build_document, render


def test_committed_document_matches_the_code() -> None:
    assert OPENAPI_PATH.read_text(encoding="utf-8") == render(build_document()), (
        "docs/openapi.json is stale: run `make openapi` and commit it"
    )


def test_every_operation_documents_its_errors_and_security() -> None:
    document = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    operations = [(path, method, op) for path, ops in document["paths"].items() for method, op in ops.items()]
    assert len(operations) == 12
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
