"""Ledger events: the ledger table's stream (new and old images) drives this function, which derives
the facts of each committed change (trial_ledger.events.derivation) and puts them on the event bus.

The events of the whole batch go out together (10 entries a PutEvents call, a few calls at a
time: docs/events.md sizes it); the bus sends refused entries again, only those, with backoff. A
stream record whose events the bus still refuses after that fails alone (a partial batch
response), and Lambda delivers it again; the events' ids make the repeat harmless. The hot path
of the API never waits for any of this."""

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from trial_ledger import SystemClock, load_settings
from trial_ledger.events import EventBus, LedgerEvent, PublishFailed, derive_events, stream_time

PUT_CONCURRENCY = 10
"""PutEvents calls in flight at once per invocation (docs/events.md: sizing the events path)."""
logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
settings = load_settings()
clock = SystemClock()


@cache
def event_bus() -> EventBus:
    config = Config(max_pool_connections=PUT_CONCURRENCY, retries={"mode": "standard"})
    client = boto3.client("events", region_name=settings.region, endpoint_url=settings.events_endpoint_url,
                          config=config)  # fmt: skip
    return EventBus(client, settings.event_bus_name, concurrency=PUT_CONCURRENCY)


@dataclass
class BatchOutcome:
    """What publishing a batch left for each of its records, by sequence number."""

    failures: dict[str, Exception] = field(default_factory=dict)
    published: int = 0

    def record_handler(self, record: DynamoDBRecord) -> None:
        """Powertools' per-record step: the record fails (alone) if its events did."""
        failure = self.failures.get(record_key(record))
        if failure is not None:
            raise failure


def record_key(record: DynamoDBRecord) -> str:
    change = record.dynamodb
    return str((change.sequence_number if change else None) or record.event_id)


def record_events(record: DynamoDBRecord) -> list[LedgerEvent]:
    change = record.dynamodb
    if change is None:
        return []
    committed_at = stream_time(change.approximate_creation_date_time, clock.now())
    return derive_events(change.old_image, change.new_image, settings.balance_low_thresholds, committed_at)


def publish_batch(records: list[dict[str, Any]], bus: EventBus) -> BatchOutcome:
    """Derive every record's events, publish them all at once, and map what the bus refused back
    to the records that produced it."""
    outcome = BatchOutcome()
    events_of: dict[str, list[LedgerEvent]] = {}
    for raw in records:
        record = DynamoDBRecord(raw)
        try:
            events_of[record_key(record)] = record_events(record)
        except Exception as error:  # a record that cannot be read fails alone, as before
            outcome.failures[record_key(record)] = error
    every_event = [event for events in events_of.values() for event in events]
    refused = bus.publish_all(every_event)
    for key, events in events_of.items():
        reasons = [f"{event.event_id}: {refused[event.event_id]}" for event in events if event.event_id in refused]
        if reasons:
            outcome.failures[key] = PublishFailed(f"{len(reasons)} event(s) refused by the bus: {'; '.join(reasons)}")
    outcome.published = len({event.event_id for event in every_event} - set(refused))
    return outcome


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcome = publish_batch(list(event.get("Records") or []), event_bus())
    if outcome.published:
        metrics.add_metric(name="LedgerEventsPublished", unit=MetricUnit.Count, value=outcome.published)
    return dict(process_partial_response(event=event, record_handler=outcome.record_handler, processor=processor,
                                         context=context))  # fmt: skip
