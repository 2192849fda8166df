"""The local API plus one bench-only gateway route, POST /_bench/baseline-usage, served by the
textbook baseline on the same HTTP server, event path and embedded DynamoDB.

The module body stays light: every local container is a spawned interpreter that imports the main
module again, and the baseline's imports belong to the server only."""

import os
import sys
from types import ModuleType
from typing import Any


def no_setup(module: ModuleType, services: Any) -> None:
    """The baseline handler keeps its own clock and has no continuation."""


def add_baseline(gateway: Any, dynamodb: Any) -> None:
    import boto3

    from bench.baseline import idempotency_table_definition
    from infra.local.lambda_container import FunctionCode

    boto3.client("dynamodb", endpoint_url=dynamodb.endpoint_url).create_table(**idempotency_table_definition())
    gateway.add_gateway_route("POST", "/_bench/baseline-usage", FunctionCode("bench", "baseline_handler.lambda_handler",
                                                                             no_setup))  # fmt: skip


if __name__ == "__main__":
    from infra.local.lambda_container import put_layers_on_path

    put_layers_on_path()  # the server speaks the edge layer's problem catalogue
    from infra.local.server import main

    os.environ.setdefault("CATALOG_FILE", os.path.join(os.path.dirname(__file__), "catalog.json"))
    sys.exit(main(extend=add_baseline))
