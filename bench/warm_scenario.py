"""What the warm bench sends (issue 25, part 3), shared by its recording on moto (bench/warm_record.py)
and its replay through botocore's Stubber (bench/warm_replay.py): the Lambda environment, the
requests of each timed operation and of what precedes it, and how an answer is compared with the
one recorded. Imports neither moto nor a handler."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from infra.local.events import LOCAL_PRINCIPALS
from infra.local.lambda_container import LAYER_DIRS, ROOT

TABLE_NAME = "trial-quota-warm"
MODEL = "lang-01"
BATCH_RECORDS = 100
HANDLERS = {"consume": "consume_handler", "floor": "bench.warm_floor_handler"}
"""The handler measured, and the floor beside it (bench/warm_floor_handler.py)."""
OPERATIONS = ("authorize", "usage", "hold", "settle", "batch_100")
TIME_FIELDS = frozenset({"expires_at"})
"""Answer fields that hold the time of the request: compared for presence only."""


def lambda_environment() -> dict[str, str]:
    """The function's environment as template.yaml's Globals set it (Powertools' metrics on, logs at
    their default level), with a campaign that stays open and the bench's catalog."""
    kept = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG", "SYSTEMROOT"}}
    path = os.pathsep.join([str(ROOT), str(ROOT / "functions" / "consume"), *(str(layer) for layer in LAYER_DIRS)])
    return kept | {
        "PYTHONPATH": path,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "TABLE_NAME": TABLE_NAME,
        "CATALOG_FILE": str(ROOT / "bench" / "catalog.json"),
        "CAMPAIGN_CLOSES_AT": "2099-12-31T23:59:59+00:00",
        "POWERTOOLS_SERVICE_NAME": "trial-quota",
        "POWERTOOLS_METRICS_NAMESPACE": "TrialQuota",
        **LOCAL_PRINCIPALS,
    }


@dataclass(frozen=True)
class Request:
    """One POST to the handler: ``step`` names it in the recording."""

    step: str
    path: str
    body: dict[str, Any]


def account(operation: str) -> str:
    """Each operation draws on a grant of its own, so every timed request finds the grant as recorded."""
    return f"warm-{operation.replace('_', '-')}"


def _usage(operation: str, request_id: str, quantity: int) -> dict[str, Any]:
    return {"account_id": account(operation), "model_id": MODEL, "quantity": quantity, "request_id": request_id}


def requests(operation: str, tag: str) -> list[Request]:
    """The requests of one round of ``operation``, the timed one last; ``tag`` makes its ids unique.

    Every round starts with an authorize (the timed one, for ``authorize``): its answer is the
    grant as recorded, so each timed request is sent from the same state as on moto. A settle's
    round takes its hold first."""
    auth = Request("authorize", "/v1/authorizations", {"account_id": account(operation), "model_id": MODEL})
    if operation == "authorize":
        return [auth]
    if operation == "usage":
        return [auth, Request("usage", "/v1/usage", _usage(operation, f"u-{tag}", 1834))]
    hold = {"account_id": account(operation), "model_id": MODEL, "request_id": f"h-{tag}", "estimate": 4000}
    if operation == "hold":
        return [auth, Request("hold", "/v1/holds", hold)]
    if operation == "settle":
        settle = Request("settle", "/v1/usage", _usage(operation, f"h-{tag}", 3120))
        return [auth, Request("hold", "/v1/holds", hold), settle]
    records = [_usage(operation, f"b-{tag}-{index:03d}", 2) for index in range(BATCH_RECORDS)]
    return [auth, Request("batch_100", "/v1/usage/batch", {"records": records})]


def normalised(body: Any) -> Any:
    """An answer with its request ids and times masked: two rounds' answers are then equal."""
    if isinstance(body, dict):
        return {key: "<time>" if key in TIME_FIELDS else "<id>" if key == "request_id" else normalised(value)
                for key, value in body.items()}  # fmt: skip
    if isinstance(body, list):
        return [normalised(value) for value in body]
    return body
