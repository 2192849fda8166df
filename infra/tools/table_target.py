"""The table an operator tool works on: the local stack's or a deployed one, from its command line."""

from __future__ import annotations

import argparse
import os


def parse_target(description: str) -> None:
    """Read ``--endpoint-url`` and ``--table`` and point the ledger package at that table, with the
    layers on the path (``make audit``, ``make migrate-grants``)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint-url", help="DynamoDB endpoint (the local stack's); default: AWS")
    parser.add_argument("--table", help="table name; default: $TABLE_NAME")
    arguments = parser.parse_args()
    if arguments.endpoint_url:
        os.environ["DYNAMODB_ENDPOINT_URL"] = arguments.endpoint_url
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ.setdefault(name, "local")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    if arguments.table:
        os.environ["TABLE_NAME"] = arguments.table
    elif arguments.endpoint_url:
        os.environ.setdefault("TABLE_NAME", "trial-quota-local")  # what make run creates
    from infra.local.lambda_container import put_layers_on_path

    put_layers_on_path()
