"""The local stack's event bus: moto's EventBridge, served by the embedded endpoint (the same one as
the embedded DynamoDB), so the events function's ``PutEvents`` is the very call it makes in AWS.

A local-only rule on the bus sends every event of the service's source to a queue of the same
endpoint; ``GET /_local/events`` drains that queue into the list of what arrived, oldest first."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

import boto3

from trial_ledger import format_timestamp
from trial_ledger.events.derivation import SOURCE

TAP = "local-events-tap"


class LocalBus:
    def __init__(self, endpoint_url: str, region: str, bus_name: str) -> None:
        make: Any = boto3.client
        credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
        self._events = make("events", endpoint_url=endpoint_url, region_name=region, **credentials)
        self._sqs = make("sqs", endpoint_url=endpoint_url, region_name=region, **credentials)
        self.bus_name = bus_name
        self._queue_url = ""
        self._arrived: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def create(self) -> LocalBus:
        """The bus (the template's, by its local name), and the tap that lists what reaches it."""
        self._events.create_event_bus(Name=self.bus_name)
        self._queue_url = self._sqs.create_queue(QueueName=TAP)["QueueUrl"]
        queue_arn = self._sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])
        pattern = json.dumps({"source": [SOURCE]})
        self._events.put_rule(Name=TAP, EventBusName=self.bus_name, EventPattern=pattern, State="ENABLED")
        self._events.put_targets(Rule=TAP, EventBusName=self.bus_name,
                                 Targets=[{"Id": TAP, "Arn": queue_arn["Attributes"]["QueueArn"]}])  # fmt: skip
        return self

    def events(self, detail_type: str | None = None) -> list[dict[str, Any]]:
        """Every event that reached the bus, oldest first: ``{id, source, detail_type, time, detail}``."""
        with self._lock:
            self._drain()
            arrived = list(self._arrived)
        return [event for event in arrived if detail_type is None or event["detail_type"] == detail_type]

    def _drain(self) -> None:
        while messages := self._sqs.receive_message(QueueUrl=self._queue_url, MaxNumberOfMessages=10).get("Messages"):
            for message in messages:
                self._arrived.append(_listed(json.loads(message["Body"])))
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])


def _listed(event: dict[str, Any]) -> dict[str, Any]:
    time = event.get("time")
    if isinstance(time, int | float):  # moto keeps the Time of PutEvents as epoch seconds
        time = format_timestamp(datetime.fromtimestamp(time, UTC))
    return {"id": event["id"], "source": event["source"], "detail_type": event["detail-type"], "time": time,
            "detail": event["detail"]}  # fmt: skip
