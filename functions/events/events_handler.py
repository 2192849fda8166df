"""Ledger events: the ledger table's stream (new and old images) drives this function, which derives
the facts of each committed change (trial_ledger.events.derivation) and puts them on the event bus.

Each stream record is processed on its own: a record whose events the bus still refuses after
retries fails alone (a partial batch response), and Lambda delivers it again; the events' ids make
the repeat harmless. The hot path of the API never waits for any of this."""

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from trial_ledger import SystemClock, load_settings
from trial_ledger.events import EventBus, derive_events, stream_time

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
settings = load_settings()
clock = SystemClock()


@cache
def event_bus() -> EventBus:
    client = boto3.client("events", region_name=settings.region, endpoint_url=settings.events_endpoint_url)
    return EventBus(client, settings.event_bus_name)


def record_handler(record: DynamoDBRecord) -> None:
    change = record.dynamodb
    if change is None:
        return
    committed_at = stream_time(change.approximate_creation_date_time, clock.now())
    events = derive_events(change.old_image, change.new_image, settings.balance_low_thresholds, committed_at)
    if events:
        event_bus().publish(events)
        metrics.add_metric(name="LedgerEventsPublished", unit=MetricUnit.Count, value=len(events))


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                         context=context))  # fmt: skip
