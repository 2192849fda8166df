"""Constants and helpers shared by the tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
"""Every test starts at this frozen instant, well inside the campaign, never at today's date."""
CAMPAIGN_CLOSE = datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)
"""2026-12-31T23:59:59+08:00, the contract's default, fixed here rather than read from the env."""

LANG_90 = "hunyuan-turbo"
LANG_90_B = "deepseek-v3"
LANG_30 = "hunyuan-lite-30d"
IMAGE = "hunyuan-image"
NO_TRIAL = "deepseek-r1-pro"
MILLION = 1_000_000

AWS = boto3.session.Session()
"""One session for the suite: its loader parses DynamoDB's service model once, not once per test
(a fifth of a second each, about three minutes over the suite); moto intercepts its clients."""


class DynamoCalls:
    """Records every DynamoDB API call made through botocore (operation name and parameters)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def reset(self) -> None:
        self.calls.clear()

    @property
    def operations(self) -> list[str]:
        return [name for name, _ in self.calls]

    def writes(self) -> list[str]:
        return [name for name in self.operations if name in WRITE_OPERATIONS]


WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
