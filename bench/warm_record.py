"""Record what DynamoDB answers to each warm request (issue 25, part 3), once, on moto held to
DynamoDB's limits: ``python -m bench.warm_record OUT.json``, in the Lambda environment of
bench/warm_scenario.py (bench/warm.py runs it). The replay (bench/warm_replay.py) then answers the
same requests with these responses through botocore's Stubber, in a process without moto."""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.client import BaseClient
from moto import mock_aws

from bench.warm_scenario import HANDLERS, MODEL, OPERATIONS, TABLE_NAME, Request, account, requests
from infra.local.events import GATEWAY_ROLE_ARN, LocalLambdaContext, http_event
from infra.local.template import create_ledger_table
from infra.testing import dynamo_limits, moto_transactions


@contextmanager
def _calls() -> Iterator[list[list[Any]]]:
    """Every DynamoDB request sent meanwhile: [operation, parameters, parsed response]."""
    seen: list[list[Any]] = []
    original = BaseClient._make_api_call

    def recording(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        response = original(client, operation, params)
        if client.meta.service_model.service_name == "dynamodb":
            seen.append([operation, params, response])
        return response

    BaseClient._make_api_call = recording
    try:
        yield seen
    finally:
        BaseClient._make_api_call = original


def post(handler: Any, request: Request) -> tuple[int, Any]:
    event = http_event("POST", request.path, body=json.dumps(request.body), iam_principal=GATEWAY_ROLE_ARN)
    answer = handler.lambda_handler(event, LocalLambdaContext("warm"))
    return answer["statusCode"], json.loads(answer["body"])


def record_handler(name: str) -> dict[str, list[dict[str, Any]]]:
    """Each operation's round on a fresh table, its grant claimed by the service's authorize first."""
    with mock_aws():
        create_ledger_table(boto3.client("dynamodb"), TABLE_NAME)
        service = importlib.import_module(HANDLERS["consume"])
        handler = importlib.import_module(HANDLERS[name])
        recorded: dict[str, list[dict[str, Any]]] = {}
        for operation in OPERATIONS:
            claim = Request("claim", "/v1/authorizations", {"account_id": account(operation), "model_id": MODEL})
            status, body = post(service, claim)
            assert status == 200, body
            assert body["auto_claimed"], body
            recorded[operation] = []
            for request in requests(operation, f"recorded-{operation}"):
                with _calls() as calls:
                    status, body = post(handler, request)
                assert status == 200, (name, request.step, body)
                recorded[operation].append({"step": request.step, "status": status, "body": body, "calls": calls})
        return recorded


def main() -> None:
    moto_transactions.install()
    dynamo_limits.install()  # a request DynamoDB would refuse is refused here too: the floor's are real
    assert os.environ["TABLE_NAME"] == TABLE_NAME
    recording = {name: record_handler(name) for name in HANDLERS}
    Path(sys.argv[1]).write_text(json.dumps(recording, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
