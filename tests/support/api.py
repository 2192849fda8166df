"""Drive the real handlers with API Gateway payload-2.0 events, as API Gateway would."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import claim_handler
import consume_handler
from infra.local.events import GATEWAY_ROLE_ARN, LocalLambdaContext, http_event


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None


def _reply(raw: dict[str, Any]) -> Reply:
    text = raw.get("body") or ""
    headers = {name.lower(): value for name, value in (raw.get("headers") or {}).items()}
    return Reply(raw["statusCode"], headers, json.loads(text) if text else None)


def _body(body: Any) -> str | None:
    if body is None or isinstance(body, str):
        return body
    return json.dumps(body)


def console(
    method: str,
    path: str,
    *,
    account: str | None = "acct-1",
    sub: object = "user-1",
    body: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    claims: dict[str, Any] = {"iss": "https://issuer.example", "aud": "console"}
    if account is not None:
        claims["root_account_id"] = account
    if sub is not None:
        claims["sub"] = sub
    event = http_event(method, path, body=_body(body), query=query, headers=headers, jwt_claims=claims)
    return _reply(claim_handler.lambda_handler(event, LocalLambdaContext("claim")))


def gateway(
    method: str,
    path: str,
    body: Any = None,
    *,
    principal: str | None = GATEWAY_ROLE_ARN,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> Reply:
    event = http_event(method, path, body=_body(body), query=query, headers=headers, iam_principal=principal)
    return _reply(consume_handler.lambda_handler(event, LocalLambdaContext("consume")))
