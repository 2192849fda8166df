"""The deploy's configuration: read from the environment once per container, and validated."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from urllib.parse import urlsplit

from ..clock import parse_timestamp
from ..limits import HOLD_TTL_RANGE
from .catalog import Catalog, CatalogError, default_catalog_document, parse_catalog

DEFAULT_TABLE_NAME = "trial-quota"
DEFAULT_REGION = "us-east-1"
DEFAULT_CAMPAIGN_CLOSES_AT = "2026-12-31T23:59:59+08:00"
DEFAULT_BALANCE_LOW_THRESHOLDS = "80,95"
DEFAULT_EXPIRING_SOON_DAYS = "7"
DEFAULT_HOLD_TTL_SECONDS = 900
DEFAULT_REVERSAL_WINDOW_DAYS = 7
"""``ttl_seconds`` of a hold, and the deploy's default (R13): 30..3600 seconds."""
TABLE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
DEFAULT_EXPIRY_WORKERS = 16
"""One per shard of the expiry index (keys.EXPIRY_SHARDS): the run's wall time is its busiest shard's."""
MAX_EXPIRY_WORKERS = 64
DEFAULT_USAGE_INDEX_SHARDS = "16"
"""An account's usage records spread over this many usage-index partitions: 16,000 records a second
at 1 write unit each (a partition takes 1,000), over the 10,000 a hot customer sends."""
DEFAULT_GRANT_LEDGER_SHARDS = "32"
"""A grant's ledger entries spread over this many grant-ledger partitions: 32,000 entries a second,
over the 20,000 batched records one grant takes."""
MAX_INDEX_SHARDS = 64


@dataclass(frozen=True, slots=True)
class IndexShards:
    """How a listing's index entries are spread: writes over ``write`` partitions, listings read
    ``read`` (``write`` and every count the table was written with before, the widest of them)."""

    write: int
    read: int


class SettingsError(ValueError):
    """A configuration variable holds a value the ledger cannot run with."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True, slots=True)
class Settings:
    """The deploy's configuration, read once per container from the environment and validated."""

    table_name: str
    region: str
    endpoint_url: str | None
    """None in AWS; the local stack's embedded DynamoDB otherwise."""
    campaign_closes_at: datetime
    catalog: Catalog
    expiry_workers: int
    """Shards of the expiry index the nightly run works at once (1: one after another)."""
    balance_low_thresholds: tuple[int, ...] = (80, 95)
    """Used shares, in percent, that publish TrialBalanceLow when a usage first reaches them."""
    expiring_soon_days: int = 7
    """The nightly run marks grants expiring within this many days (TrialExpiringSoon)."""
    event_bus_name: str = "default"
    events_endpoint_url: str | None = None
    """None in AWS; the local stack's embedded endpoint otherwise."""
    hold_ttl_seconds: int = DEFAULT_HOLD_TTL_SECONDS
    reversal_window_days: int = DEFAULT_REVERSAL_WINDOW_DAYS
    """A usage may be reversed until this many days after its ``recorded_at`` (R17)."""
    usage_index_shards: IndexShards = IndexShards(16, 16)
    grant_ledger_shards: IndexShards = IndexShards(32, 32)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        """Every setting from ``environ``; raises SettingsError naming the first bad variable."""
        return cls(
            table_name=_table_name(environ),
            region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
            endpoint_url=_endpoint_url(environ, "DYNAMODB_ENDPOINT_URL"),
            campaign_closes_at=_campaign_closes_at(environ),
            catalog=_catalog(environ),
            expiry_workers=_expiry_workers(environ),
            balance_low_thresholds=_thresholds(environ),
            expiring_soon_days=_expiring_soon_days(environ),
            event_bus_name=environ.get("EVENT_BUS_NAME") or "default",
            events_endpoint_url=_endpoint_url(environ, "EVENTS_ENDPOINT_URL"),
            hold_ttl_seconds=_hold_ttl_seconds(environ),
            reversal_window_days=_reversal_window_days(environ),
            usage_index_shards=_index_shards(environ, "USAGE_INDEX_SHARDS", DEFAULT_USAGE_INDEX_SHARDS),
            grant_ledger_shards=_index_shards(environ, "GRANT_LEDGER_SHARDS", DEFAULT_GRANT_LEDGER_SHARDS),
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


def _endpoint_url(environ: Mapping[str, str], variable: str) -> str | None:
    url = environ.get(variable) or None
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(variable, f"{url!r} is not an http(s) URL")
    return url


def _thresholds(environ: Mapping[str, str]) -> tuple[int, ...]:
    text = environ.get("BALANCE_LOW_THRESHOLDS") or DEFAULT_BALANCE_LOW_THRESHOLDS
    parts = [part.strip() for part in text.split(",")]
    if not all(re.fullmatch(r"[0-9]{1,3}", part) and 1 <= int(part) <= 100 for part in parts):
        raise SettingsError("BALANCE_LOW_THRESHOLDS", f"{text!r} is not a comma-separated list of percents 1..100")
    return tuple(sorted({int(part) for part in parts}))


def _expiring_soon_days(environ: Mapping[str, str]) -> int:
    text = (environ.get("EXPIRING_SOON_DAYS") or DEFAULT_EXPIRING_SOON_DAYS).strip()
    if not re.fullmatch(r"[0-9]{1,3}", text) or not 1 <= int(text) <= 365:
        raise SettingsError("EXPIRING_SOON_DAYS", f"{text!r} is not a whole number of days 1..365")
    return int(text)


def _campaign_closes_at(environ: Mapping[str, str]) -> datetime:
    text = environ.get("CAMPAIGN_CLOSES_AT") or DEFAULT_CAMPAIGN_CLOSES_AT
    try:
        return parse_timestamp(text)
    except (ValueError, OverflowError) as error:
        raise SettingsError(
            "CAMPAIGN_CLOSES_AT", f"{text!r} is not an ISO-8601 instant with a UTC offset ({error})"
        ) from error


def _expiry_workers(environ: Mapping[str, str]) -> int:
    text = environ.get("EXPIRY_WORKERS") or str(DEFAULT_EXPIRY_WORKERS)
    if not text.isdigit() or not 1 <= int(text) <= MAX_EXPIRY_WORKERS:
        raise SettingsError("EXPIRY_WORKERS", f"{text!r} is not a whole number from 1 to {MAX_EXPIRY_WORKERS}")
    return int(text)


def _hold_ttl_seconds(environ: Mapping[str, str]) -> int:
    text = environ.get("HOLD_TTL_SECONDS", "").strip() or str(DEFAULT_HOLD_TTL_SECONDS)
    if not text.isdigit() or int(text) not in HOLD_TTL_RANGE:
        raise SettingsError("HOLD_TTL_SECONDS", f"{text!r} is not a whole number of seconds from 30 to 3600")
    return int(text)


def _reversal_window_days(environ: Mapping[str, str]) -> int:
    text = environ.get("REVERSAL_WINDOW_DAYS", "").strip() or str(DEFAULT_REVERSAL_WINDOW_DAYS)
    if not text.isdigit() or not 1 <= int(text) <= 90:
        raise SettingsError("REVERSAL_WINDOW_DAYS", f"{text!r} is not a whole number of days from 1 to 90")
    return int(text)


def _index_shards(environ: Mapping[str, str], variable: str, default: str) -> IndexShards:
    """``"16"``: 16 partitions; ``"8,16"``: writes over 8, listings read 16 too (a count lowered
    from 16: the entries written before still list)."""
    text = environ.get(variable, "").strip() or default
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isdigit() and 1 <= int(part) <= MAX_INDEX_SHARDS for part in parts) or len(parts) > 8:
        raise SettingsError(
            variable, f"{text!r} is not 1 to 8 comma-separated shard counts from 1 to {MAX_INDEX_SHARDS}"
        )
    counts = [int(part) for part in parts]
    return IndexShards(write=counts[0], read=max(counts))


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
