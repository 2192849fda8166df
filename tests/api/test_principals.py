"""R21: the gateway routes answer only the principals the deploy names (the inference gateway's
roles); any other principal API Gateway authenticated is 403 forbidden_principal, refused before
its body is read, and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.local.events import GATEWAY_ROLE_ARN, OPERATOR_ROLE_ARN, STRANGER_ROLE_ARN, LocalLambdaContext
from tests.support import IMAGE, LANG_90
from tests.support.api import gateway
from trial_edge.principals import Principals, identity_of
from trial_ledger import Ledger

pytestmark = pytest.mark.usefixtures("handlers")

USAGE = {"account_id": "acct-1", "model_id": IMAGE, "quantity": 5, "request_id": "r1"}
HOLD = {"account_id": "acct-1", "model_id": IMAGE, "request_id": "h1", "estimate": 5}
GATEWAY_ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/v1/authorizations", {"account_id": "acct-1", "model_id": IMAGE}),
    ("POST", "/v1/usage", USAGE),
    ("POST", "/v1/usage/batch", {"records": [USAGE]}),
    ("POST", "/v1/holds", HOLD),
    ("DELETE", "/v1/holds/h1", None),
]
OTHER_PRINCIPALS = [
    STRANGER_ROLE_ARN,
    OPERATOR_ROLE_ARN,  # an operator is not the gateway
    "arn:aws:sts::999999999999:assumed-role/inference-gateway/s",  # the same role name, another account
    "arn:aws:iam::123456789012:user/inference-gateway",  # a user, not the role
    "arn:aws:sts::123456789012:federated-user/inference-gateway",
]


@pytest.mark.parametrize("principal", OTHER_PRINCIPALS)
@pytest.mark.parametrize(("method", "path", "body"), GATEWAY_ROUTES)
def test_any_other_principal_is_forbidden_and_writes_nothing(
    handlers: Ledger, method: str, path: str, body: Any, principal: str
) -> None:
    reply = gateway(method, path, body, principal=principal)
    assert (reply.status, reply.code) == (403, "forbidden_principal")
    assert handlers.grants("acct-1") == []


@pytest.mark.parametrize("principal", [STRANGER_ROLE_ARN, OPERATOR_ROLE_ARN])
def test_a_forbidden_principal_is_refused_before_its_body_is_read(principal: str) -> None:
    reply = gateway("POST", "/v1/usage", {"quantity": "not even a usage"}, principal=principal)
    assert (reply.status, reply.code) == (403, "forbidden_principal")


@pytest.mark.parametrize(
    "principal",
    [GATEWAY_ROLE_ARN, "arn:aws:sts::123456789012:assumed-role/inference-gateway/another-session"],
)
def test_the_gateway_role_in_any_session_is_served(principal: str) -> None:
    assert gateway("POST", "/v1/usage", USAGE, principal=principal).status == 200
    assert gateway("POST", "/v1/holds", HOLD, principal=principal).status == 200
    assert gateway("DELETE", "/v1/holds/h1", principal=principal).body["status"] == "released"


def test_no_principal_is_unauthenticated() -> None:
    reply = gateway("POST", "/v1/usage", USAGE, principal=None)
    assert (reply.status, reply.code) == (401, "unauthenticated")


def test_roles_compare_by_partition_account_and_name() -> None:
    admitted = Principals.parse("arn:aws:iam::123456789012:role/teams/inference-gateway, arn:aws:iam::1:user/x")
    assert admitted.admit("arn:aws:sts::123456789012:assumed-role/inference-gateway/any")  # no path in a session
    assert admitted.admit("arn:aws:iam::123456789012:role/inference-gateway")
    assert not admitted.admit("arn:aws-cn:sts::123456789012:assumed-role/inference-gateway/any")
    assert not admitted.admit("arn:aws:sts::123456789012:assumed-role/inference-gateway-2/any")
    assert not admitted.admit("not an arn")
    assert identity_of("arn:aws:iam::123456789012:role/a/b/c") == ("aws", "123456789012", "role", "c")
    assert Principals.parse("").admitted == frozenset()  # nothing admitted: fail closed
    with pytest.raises(ValueError, match="not a role or user ARN"):
        Principals.parse("arn:aws:s3:::bucket")


SAM_EVENT = Path(__file__).resolve().parents[1] / "support" / "events" / "http-api-proxy.json"
"""`sam local generate-event apigateway http-api-proxy` (SAM CLI 1.170.0), kept as it printed it."""


def signed_sam_event(method: str, path: str, body: Any, principal: str) -> dict[str, Any]:
    """SAM's canonical payload-2.0 event, routed to ``path`` and signed as ``principal`` (the
    IAM authorizer's context in place of the sample's JWT one)."""
    event: dict[str, Any] = json.loads(SAM_EVENT.read_text(encoding="utf-8"))
    event |= {"routeKey": f"{method} {path}", "rawPath": path, "rawQueryString": "", "isBase64Encoded": False,
              "headers": {"content-type": "application/json"}, "body": json.dumps(body)}  # fmt: skip
    for key in ("cookies", "queryStringParameters"):
        event.pop(key, None)
    context = event["requestContext"]
    context["http"] |= {"method": method, "path": path}
    context["routeKey"] = event["routeKey"]
    iam = {
        "accessKey": "ASIAEXAMPLE",
        "accountId": "123456789012",
        "callerId": "AROAEXAMPLE:session",
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": principal,
        "userId": "AROAEXAMPLE:session",
    }
    context["authorizer"] = {"iam": iam}
    return event


@pytest.mark.parametrize(
    ("principal", "status"), [(STRANGER_ROLE_ARN, 403), (OPERATOR_ROLE_ARN, 403), (GATEWAY_ROLE_ARN, 200)]
)
def test_sam_generated_events_signed_as_a_stranger_the_operator_and_the_gateway(
    handlers: Ledger, principal: str, status: int
) -> None:
    import consume_handler

    answer = consume_handler.lambda_handler(signed_sam_event("POST", "/v1/usage", USAGE, principal),
                                            LocalLambdaContext("consume"))  # fmt: skip
    assert answer["statusCode"] == status
    if status == 403:
        assert json.loads(answer["body"])["code"] == "forbidden_principal"
        assert handlers.grants("acct-1") == []
    else:
        assert json.loads(answer["body"])["free"] == 5


@pytest.mark.parametrize(
    ("principal", "status"), [(STRANGER_ROLE_ARN, 403), (GATEWAY_ROLE_ARN, 403), (OPERATOR_ROLE_ARN, 200)]
)
def test_sam_generated_events_on_an_operator_route(handlers: Ledger, principal: str, status: int) -> None:
    """R21: the operator routes admit the operators' roles only; the gateway's is a stranger there."""
    import consume_handler

    handlers.record_usage("acct-1", LANG_90, 5, "r1")
    void = {"action_id": "act-1", "account_id": "acct-1", "model_id": LANG_90, "actor": "ops", "reason": "abuse"}
    event = signed_sam_event("POST", "/v1/admin/grants/void", void, principal)
    answer = consume_handler.lambda_handler(event, LocalLambdaContext("consume"))
    assert answer["statusCode"] == status
    [grant] = handlers.grants("acct-1")
    if status == 403:
        assert json.loads(answer["body"])["code"] == "forbidden_principal"
        assert grant.status.value == "active"
    else:
        assert (json.loads(answer["body"])["kind"], grant.status.value) == ("void", "voided")
