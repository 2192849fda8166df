"""Lambda SnapStart on the API functions: the template publishes versions with SnapStart and routes
to their alias; the runtime hooks prime the function without a DynamoDB request before the snapshot
and renew what restored environments must not share after a restore."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
import snapshot_restore_py

import claim_handler
import consume_handler
import expiry_handler
from tests.support import LANG_90, DynamoCalls
from tests.support.sam import resources_of_type, transformed_template
from trial_edge.snapstart import prime
from trial_ledger import Ledger
from trial_ledger.domain.state import GrantState

API_FUNCTIONS = ("ClaimFunction", "ConsumeFunction")


def test_the_api_functions_publish_snapstart_versions_and_the_api_calls_their_alias() -> None:
    template = transformed_template()
    functions = resources_of_type(template, "AWS::Lambda::Function")
    for name in API_FUNCTIONS:
        assert functions[name]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert "SnapStart" not in functions["ExpiryFunction"]  # a nightly batch gains nothing from it
    aliases = resources_of_type(template, "AWS::Lambda::Alias")
    assert {alias["FunctionName"]["Ref"] for alias in aliases.values()} == set(API_FUNCTIONS)
    [api] = resources_of_type(template, "AWS::ApiGatewayV2::Api").values()
    uris = [json.dumps(operation["x-amazon-apigateway-integration"]["uri"])
            for methods in api["Body"]["paths"].values() for operation in methods.values()]  # fmt: skip
    assert uris
    assert all("Aliaslive" in uri for uri in uris)


@pytest.mark.parametrize(
    ("module", "route"), [(claim_handler, ("POST", "/v1/trials/claims")), (consume_handler, ("POST", "/v1/usage"))]
)
def test_importing_an_api_function_registers_its_hooks(module: Any, route: tuple[str, str]) -> None:
    before = [entry[1] for entry in snapshot_restore_py._before_snapshot_registry]
    after = [entry[0] for entry in snapshot_restore_py._after_restore_registry]
    assert (module.app, module.ledger, *route) in before
    assert module.ledger.after_restore in after
    assert not any(expiry_handler.ledger in arguments for arguments in before)


@pytest.mark.parametrize(
    ("module", "route"), [(claim_handler, ("POST", "/v1/trials/claims")), (consume_handler, ("POST", "/v1/usage"))]
)
def test_priming_runs_the_whole_edge_and_creates_the_clients_without_a_request(
    module: Any, route: tuple[str, str], ledger: Ledger, dynamo_calls: DynamoCalls
) -> None:
    answer = prime(module.app, ledger, *route)
    assert answer["statusCode"] == 422
    assert json.loads(answer["body"])["code"] == "validation_error"
    assert dynamo_calls.calls == []
    assert ledger._context.store.client.meta.service_model.service_name == "dynamodb"


def test_after_restore_the_jitter_is_reseeded(ledger: Ledger) -> None:
    random.seed(1234)  # the state every environment restored from one snapshot would share
    ledger.after_restore()
    first = [random.random() for _ in range(3)]
    random.seed(1234)
    ledger.after_restore()
    second = [random.random() for _ in range(3)]
    assert first != second


def test_after_restore_no_grant_snapshot_is_kept(ledger: Ledger, activated: str) -> None:
    ledger.authorize(activated, LANG_90)  # claims and remembers the grant
    assert isinstance(ledger._context.snapshots.grant(activated, LANG_90), GrantState)
    ledger.after_restore()
    assert ledger._context.snapshots.grant(activated, LANG_90) is None
