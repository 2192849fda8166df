"""Who may call the IAM routes (R21): the principals the deploy names, checked before anything else.

Gateway routes accept only the inference gateway's roles (``GATEWAY_PRINCIPALS``), operator routes
only the operators' (``OPERATOR_PRINCIPALS``): comma-separated role (or user) ARNs. An assumed-role
session (``arn:aws:sts::<account>:assumed-role/<role>/<session>``, what API Gateway's IAM
authorizer reports for a role) counts as its role; a role's path is not part of its session ARN,
so roles are compared by partition, account and name."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Identity = tuple[str, str, str, str]
"""(partition, account, kind, name), kind ``role`` or ``user``."""


def identity_of(arn: str) -> Identity | None:
    """The principal an ARN names: a role (its ARN, or a session of it) or a user; None otherwise."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[4]:
        return None
    partition, service, account, resource = parts[1], parts[2], parts[4], parts[5]
    kind, _, rest = resource.partition("/")
    if service == "sts" and kind == "assumed-role" and "/" in rest:
        return partition, account, "role", rest.split("/", 1)[0]
    if service == "iam" and kind in ("role", "user") and rest:
        return partition, account, kind, rest.rsplit("/", 1)[-1]
    return None


@dataclass(frozen=True, slots=True)
class Principals:
    """The principals a group of routes admits."""

    admitted: frozenset[Identity]

    @classmethod
    def parse(cls, text: str) -> Principals:
        arns = [arn.strip() for arn in text.split(",") if arn.strip()]
        identities = {arn: identity_of(arn) for arn in arns}
        if unusable := sorted(arn for arn, identity in identities.items() if identity is None):
            raise ValueError(f"not a role or user ARN: {', '.join(unusable)}")
        return cls(frozenset(identity for identity in identities.values() if identity is not None))

    @classmethod
    def from_environment(cls, variable: str) -> Principals:
        return cls.parse(os.environ.get(variable, ""))

    def admit(self, arn: str) -> bool:
        identity = identity_of(arn)
        return identity is not None and identity in self.admitted


OPERATOR_PATH_PREFIX = "/v1/admin/"


def admitted_for(event: Mapping[str, Any], gateway: Principals, operator: Principals) -> Principals:
    """The principals the event's route admits: the operator routes' (``/v1/admin/...``) or the
    gateway routes'. API Gateway sets ``routeKey`` (``METHOD /path``); a caller cannot."""
    route_key = str(event.get("routeKey") or "")
    path = route_key.partition(" ")[2]
    return operator if path.startswith(OPERATOR_PATH_PREFIX) else gateway


def caller_arn(event: Mapping[str, Any]) -> str | None:
    """The IAM principal API Gateway's authorizer put in the (raw, payload 2.0) event."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    iam = authorizer.get("iam") or {}
    arn = iam.get("userArn") or iam.get("callerId")
    return arn if isinstance(arn, str) and arn else None
