"""The deploy's configuration: read from the environment once per container, and validated."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from urllib.parse import urlsplit

from .catalog import Catalog, CatalogError, default_catalog_document, parse_catalog
from .clock import parse_timestamp

DEFAULT_TABLE_NAME = "trial-quota"
DEFAULT_REGION = "us-east-1"
DEFAULT_CAMPAIGN_CLOSES_AT = "2026-12-31T23:59:59+08:00"
DEFAULT_HOLD_TTL_SECONDS = 900
HOLD_TTL_RANGE = range(30, 3601)
"""``ttl_seconds`` of a hold, and the deploy's default (R13): 30..3600 seconds."""
TABLE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


class SettingsError(ValueError):
    """A configuration variable holds a value the ledger cannot run with."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True, slots=True)
class Settings:
    table_name: str
    region: str
    endpoint_url: str | None
    """None in AWS; the local stack's embedded DynamoDB otherwise."""
    campaign_closes_at: datetime
    catalog: Catalog
    hold_ttl_seconds: int = DEFAULT_HOLD_TTL_SECONDS

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        """Every setting from ``environ``; raises SettingsError naming the first bad variable."""
        return cls(
            table_name=_table_name(environ),
            region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
            endpoint_url=_endpoint_url(environ),
            campaign_closes_at=_campaign_closes_at(environ),
            catalog=_catalog(environ),
            hold_ttl_seconds=_hold_ttl_seconds(environ),
        )


@cache
def load_settings() -> Settings:
    """This container's settings, read on first use and kept (a bad value fails the cold start)."""
    return Settings.from_environment(os.environ)


def load_catalog() -> Catalog:
    """The deploy's catalog: ``CATALOG_JSON``, else the file ``CATALOG_FILE``, else the default."""
    return load_settings().catalog


def _table_name(environ: Mapping[str, str]) -> str:
    name = environ.get("TABLE_NAME", DEFAULT_TABLE_NAME)
    if not TABLE_NAME_PATTERN.fullmatch(name):
        raise SettingsError("TABLE_NAME", f"{name!r} is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)")
    return name


def _endpoint_url(environ: Mapping[str, str]) -> str | None:
    url = environ.get("DYNAMODB_ENDPOINT_URL") or None
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError("DYNAMODB_ENDPOINT_URL", f"{url!r} is not an http(s) URL")
    return url


def _campaign_closes_at(environ: Mapping[str, str]) -> datetime:
    text = environ.get("CAMPAIGN_CLOSES_AT") or DEFAULT_CAMPAIGN_CLOSES_AT
    try:
        return parse_timestamp(text)
    except (ValueError, OverflowError) as error:
        raise SettingsError(
            "CAMPAIGN_CLOSES_AT", f"{text!r} is not an ISO-8601 instant with a UTC offset ({error})"
        ) from error


def _hold_ttl_seconds(environ: Mapping[str, str]) -> int:
    text = environ.get("HOLD_TTL_SECONDS", "").strip() or str(DEFAULT_HOLD_TTL_SECONDS)
    if not text.isdigit() or int(text) not in HOLD_TTL_RANGE:
        raise SettingsError("HOLD_TTL_SECONDS", f"{text!r} is not a whole number of seconds from 30 to 3600")
    return int(text)


def _catalog(environ: Mapping[str, str]) -> Catalog:
    if document := environ.get("CATALOG_JSON", "").strip():
        return _parsed("CATALOG_JSON", document)
    if path := environ.get("CATALOG_FILE", "").strip():
        try:
            with open(path, encoding="utf-8") as handle:
                document = handle.read()
        except (OSError, UnicodeDecodeError) as error:
            raise SettingsError("CATALOG_FILE", f"cannot read {path!r}: {error}") from error
        return _parsed("CATALOG_FILE", document)
    return parse_catalog(default_catalog_document())


def _parsed(variable: str, document: str) -> Catalog:
    try:
        return parse_catalog(document)
    except CatalogError as error:
        raise SettingsError(variable, f"not a valid catalog: {error}") from error
