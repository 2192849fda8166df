"""API Gateway HTTP API (payload format 2.0) events and a Lambda context, as API Gateway and
Lambda would hand them to the handlers. Used by the local emulator and by the handler tests."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

GATEWAY_ROLE_ARN = "arn:aws:sts::123456789012:assumed-role/inference-gateway/local"
"""A session of the local gateway role (``LOCAL_PRINCIPALS``), as API Gateway's IAM authorizer reports it."""
OPERATOR_ROLE_ARN = "arn:aws:sts::123456789012:assumed-role/trial-quota-operator/local"
STRANGER_ROLE_ARN = "arn:aws:sts::123456789012:assumed-role/some-administrator/local"
"""A principal API Gateway authenticated that no route admits (R21)."""
LOCAL_PRINCIPALS = {
    "GATEWAY_PRINCIPALS": "arn:aws:iam::123456789012:role/inference-gateway",
    "OPERATOR_PRINCIPALS": "arn:aws:iam::123456789012:role/trial-quota-operator",
}
"""What the local stack and the tests admit, as a deploy's GatewayPrincipalArns and OperatorPrincipalArns would."""


def http_event(
    method: str,
    path: str,
    *,
    route_key: str | None = None,
    body: str | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    jwt_claims: dict[str, Any] | None = None,
    iam_principal: str | None = None,
    path_parameters: dict[str, str] | None = None,
    is_base64_encoded: bool = False,
) -> dict[str, Any]:
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    if body is not None:
        lowered.setdefault("content-type", "application/json")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method} {path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": lowered,
        "requestContext": _request_context(method, path, route_key or f"{method} {path}", lowered),
        "isBase64Encoded": is_base64_encoded,
    }
    authorizer = _authorizer(jwt_claims, iam_principal)
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
    if query:
        event["queryStringParameters"] = dict(query)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body is not None:
        event["body"] = body
    return event


def _authorizer(jwt_claims: dict[str, Any] | None, iam_principal: str | None) -> dict[str, Any] | None:
    """What the route's authorizer put in the request context: JWT claims or an IAM caller."""
    if jwt_claims is not None:
        return {"jwt": {"claims": jwt_claims, "scopes": None}}
    if iam_principal is None:
        return None
    return {
        "iam": {
            "accessKey": "ASIALOCAL",
            "accountId": "123456789012",
            "callerId": "AROALOCAL:local",
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": iam_principal,
            "userId": "AROALOCAL:local",
        }
    }


def _request_context(method: str, path: str, route_key: str, headers: dict[str, str]) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "accountId": "123456789012",
        "apiId": "local",
        "domainName": "localhost",
        "domainPrefix": "localhost",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": uuid.uuid4().hex,
        "routeKey": route_key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }


@dataclass
class LocalLambdaContext:
    """The parts of the Lambda context object that Powertools and the handlers read."""

    function_name: str
    timeout_seconds: float = 30.0
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))
