"""The local stack's event source mappings: each DynamoDB stream mapping of template.yaml becomes a
poller that reads the embedded DynamoDB's stream and invokes the function's local containers.

As Lambda does for a stream: records go in order, in batches of the mapping's ``BatchSize``, as a
``{"Records": [...]}`` event; a partial batch response (``batchItemFailures``) makes the batch be
retried from the first failed record on; a failed invocation is split in halves when
``BisectBatchOnFunctionError`` is on, else retried whole; after ``MaximumRetryAttempts`` the
records are given up (logged: in AWS they go to the on-failure destination)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from infra.local.lambda_pool import FunctionError
from infra.local.routes import StreamSource

log = logging.getLogger("local_api")
Invoke = Callable[[dict[str, Any]], Any]
POLL_INTERVAL_SECONDS = 0.1
RETRY_PAUSE_SECONDS = 0.2


def lambda_event(records: list[dict[str, Any]], stream_arn: str) -> dict[str, Any]:
    """The event Lambda hands a stream function, from GetRecords' records."""
    return {"Records": [_lambda_record(record, stream_arn) for record in records]}


def _lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):  # the SDK parses it; Lambda's event carries epoch seconds
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    return record | {"dynamodb": change, "eventSourceARN": stream_arn}


class StreamPoller:
    def __init__(self, client: Any, stream_arn: str, source: StreamSource, invoke: Invoke) -> None:
        self._client, self._stream_arn, self._source, self._invoke = client, stream_arn, source, invoke
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"stream-{source.function}", daemon=True)

    def start(self) -> StreamPoller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        [shard] = self._client.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]["Shards"]
        iterator = self._client.get_shard_iterator(
            StreamArn=self._stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while not self._stopping.is_set():
            try:
                page = self._client.get_records(ShardIterator=iterator, Limit=self._source.batch_size)
            except Exception:  # the embedded endpoint going away as the server stops
                log.exception("reading the stream of %s failed", self._source.table)
                self._stopping.wait(1)
                continue
            iterator = page["NextShardIterator"]
            if page["Records"]:
                self.deliver(page["Records"])
            else:
                self._stopping.wait(POLL_INTERVAL_SECONDS)

    def deliver(self, records: list[dict[str, Any]]) -> None:
        """Invoke the function with ``records`` until it takes them all, or give up on them."""
        retries = 0
        while records and not self._stopping.is_set():
            try:
                answer = self._invoke(lambda_event(records, self._stream_arn))
            except FunctionError:
                if self._source.bisect_on_error and len(records) > 1:
                    middle = len(records) // 2
                    self.deliver(records[:middle])
                    self.deliver(records[middle:])
                    return
                failed = 0
            else:
                first_failure = self._first_failure(records, answer)
                if first_failure is None:
                    return
                failed = first_failure
            retries += 1
            if 0 <= self._source.maximum_retry_attempts < retries:
                numbers = [record["dynamodb"]["SequenceNumber"] for record in records[failed:]]
                log.error("%s gave up on stream records %s (in AWS: its on-failure destination)",
                          self._source.function, numbers)  # fmt: skip
                return
            records = records[failed:]
            self._stopping.wait(RETRY_PAUSE_SECONDS)

    def _first_failure(self, records: list[dict[str, Any]], answer: Any) -> int | None:
        """Where a partial batch response says to start again (None: all taken)."""
        failures = (answer or {}).get("batchItemFailures") if self._source.report_batch_item_failures else None
        if not failures:
            return None
        numbers = [record["dynamodb"]["SequenceNumber"] for record in records]
        failed = [numbers.index(f["itemIdentifier"]) for f in failures if f.get("itemIdentifier") in numbers]
        return min(failed) if len(failed) == len(failures) else 0  # an unknown identifier: the whole batch
