"""The local API plus one bench-only gateway route, POST /_bench/baseline-usage, served by the
textbook baseline on the same HTTP server, event path and embedded DynamoDB."""

import os
import sys

import boto3

from bench.baseline import idempotency_table_definition
from infra.embedded_dynamodb import EmbeddedDynamoDB
from infra.lambda_pool import FunctionPool
from infra.local_api import LocalApi, main


def add_baseline(api: LocalApi, dynamodb: EmbeddedDynamoDB) -> None:
    boto3.client("dynamodb", endpoint_url=dynamodb.endpoint_url).create_table(**idempotency_table_definition())
    api.add_gateway_route("POST", "/_bench/baseline-usage", FunctionPool("bench", "baseline_handler.lambda_handler",
                                                                         setup=lambda module: None))  # fmt: skip


if __name__ == "__main__":
    os.environ.setdefault("CATALOG_FILE", os.path.join(os.path.dirname(__file__), "catalog.json"))
    sys.exit(main(extend=add_baseline))
