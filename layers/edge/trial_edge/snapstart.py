"""Lambda SnapStart runtime hooks of the API functions (SnapStart is on for claim and consume).

Before the snapshot, the function is primed: the ledger's DynamoDB clients are created, every
module a function leaves out of its cold init is imported (the ledger's use cases, the schemas of
the routes that are not hot: see trial_edge/schemas/__init__.py), and one request that never
reaches DynamoDB (a body the schema refuses) goes through the whole edge (body guard, routing,
validation, the problem response), so that restored environments start warm and pay no import.
After a restore, what must not be shared between environments restored from one snapshot is
renewed (see ``Ledger.after_restore``)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from snapshot_restore_py import register_after_restore, register_before_snapshot

from trial_edge import schemas
from trial_edge.body_guard import resolve
from trial_ledger import Ledger


class _PrimingContext:
    function_name = "snapstart-priming"
    aws_request_id = "snapstart-priming"
    invoked_function_arn = "arn:aws:lambda:::function:snapstart-priming"
    memory_limit_in_mb = 512

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def priming_event(method: str, path: str) -> dict[str, Any]:
    """A payload-2.0 event whose empty JSON object the route's schema refuses (422)."""
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": "snapstart-priming",
            "routeKey": f"{method} {path}",
            "stage": "$default",
        },
        "body": json.dumps({}),
        "isBase64Encoded": False,
    }


def prime(app: APIGatewayHttpResolver, ledger: Ledger, method: str, path: str) -> dict[str, Any]:
    ledger.prime()
    schemas.load_all()
    return resolve(app, priming_event(method, path), _PrimingContext())  # type: ignore[arg-type]


def install_hooks(app: APIGatewayHttpResolver, ledger: Ledger, priming_route: tuple[str, str]) -> None:
    """Register the hooks; ``priming_route`` is a route with a JSON body schema."""
    register_before_snapshot(prime, app, ledger, *priming_route)
    register_after_restore(ledger.after_restore)
