"""Who is calling, taken only from what API Gateway's authorizers put in the request context."""

from __future__ import annotations

import os
from dataclasses import dataclass

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from trial_ledger.rules import ID_PATTERN


class Unauthenticated(Exception):
    """The request carries no usable identity (401)."""


@dataclass(frozen=True, slots=True)
class ConsoleCaller:
    account_id: str
    """The root account: the JWT claim named by ACCOUNT_CLAIM (deploy parameter AccountClaim)."""
    sub: str | None
    """The caller itself (a user or key under the root account), for attribution."""


def account_claim_name() -> str:
    return os.environ.get("ACCOUNT_CLAIM") or "root_account_id"


def console_caller(event: APIGatewayProxyEventV2) -> ConsoleCaller:
    claims = event.request_context.authorizer.jwt_claim
    account_id = claims.get(account_claim_name())
    if not isinstance(account_id, str) or not ID_PATTERN.fullmatch(account_id):
        raise Unauthenticated("the token names no root account")
    sub = claims.get("sub")
    return ConsoleCaller(account_id, sub if isinstance(sub, str) and ID_PATTERN.fullmatch(sub) else None)


def gateway_caller(event: APIGatewayProxyEventV2) -> str:
    """The IAM principal API Gateway authenticated; gateway routes accept nothing else."""
    iam = event.request_context.authorizer.iam
    principal = iam.user_arn or iam.caller_id
    if not principal:
        raise Unauthenticated("gateway routes need an IAM-signed request")
    return principal
