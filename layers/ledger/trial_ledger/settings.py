"""Deploy-time settings, read from the environment once per container."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from .clock import parse_timestamp

DEFAULT_CAMPAIGN_CLOSES_AT = "2026-12-31T23:59:59+08:00"


@dataclass(frozen=True, slots=True)
class TableSettings:
    table_name: str
    region: str
    endpoint_url: str | None


def table_settings() -> TableSettings:
    return TableSettings(
        table_name=os.environ.get("TABLE_NAME", "trial-quota"),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        endpoint_url=os.environ.get("DYNAMODB_ENDPOINT_URL") or None,
    )


def campaign_closes_at() -> datetime:
    return parse_timestamp(os.environ.get("CAMPAIGN_CLOSES_AT") or DEFAULT_CAMPAIGN_CLOSES_AT)
