"""Who is calling, taken only from what API Gateway's authorizers put in the request context."""

from __future__ import annotations

import os
from dataclasses import dataclass

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from trial_ledger.limits import ID_PATTERN


class Unauthenticated(Exception):
    """The request carries no usable identity (401)."""


@dataclass(frozen=True, slots=True)
class ConsoleCaller:
    """Who calls a console route: the root account of the JWT claim, and the caller (`sub`)."""

    account_id: str
    """The root account: the JWT claim named by ACCOUNT_CLAIM (deploy parameter AccountClaim)."""
    sub: str | None
    """The caller itself (a user or key under the root account), for attribution."""


def account_claim_name() -> str:
    return os.environ.get("ACCOUNT_CLAIM") or "root_account_id"


def _as_id(value: object) -> str | None:
    return value if isinstance(value, str) and ID_PATTERN.fullmatch(value) else None


def console_caller(event: APIGatewayProxyEventV2) -> ConsoleCaller:
    claims = event.request_context.authorizer.jwt_claim
    account_id = _as_id(claims.get(account_claim_name()))
    if account_id is None:
        raise Unauthenticated("the token names no root account")
    # sub is recorded for attribution (claimed_by), as a body's sub_account_id is; one the ledger
    # cannot record is refused like that one, not silently dropped. A token without sub is served.
    sub = claims.get("sub")
    if sub is not None and _as_id(sub) is None:
        raise Unauthenticated(
            "the token's sub is not an id: 1-128 letters, digits and . _ : @ -, from a letter or digit"
        )
    return ConsoleCaller(account_id, sub)
