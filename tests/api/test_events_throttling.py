"""The events function when EventBridge throttles it (issue 25 part 4).

Both forms: a PutEvents call that takes some entries and refuses others (``FailedEntryCount``, each
refused entry with ``ErrorCode`` ``ThrottlingException``), and a call refused whole (it raises
``ThrottlingException``). When the throttling passes, every ``event_id`` reaches the bus exactly
once and no entry the bus took is sent again; a record whose events are still refused after the
retries is the only one in ``batchItemFailures``. The backoff's sleep is injected: nothing waits."""

import json
import threading
from collections import Counter
from decimal import Decimal
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import Stubber

import events_handler
from tests.api.test_events_handler import handle, stream_record
from trial_ledger.events import derive_events
from trial_ledger.events.bus import EventBus
from trial_ledger.retry import Backoff

ATTEMPTS = 5


class ThrottlingEvents:
    """PutEvents of a bus over its quota: ``whole_calls`` first calls raise ThrottlingException,
    the next ``partial_calls`` refuse every other entry, then it takes everything but the entries
    that ``refuse_forever`` picks. Thread-safe; it keeps what it took."""

    def __init__(self, whole_calls: int = 0, partial_calls: int = 0, refuse_forever: Any = lambda detail: False):
        self.whole_calls, self.partial_calls, self.refuse_forever = whole_calls, partial_calls, refuse_forever
        self.calls = 0
        self.sent: Counter[str] = Counter()
        self.taken: Counter[str] = Counter()
        self.sent_again_after_taken = 0
        self._lock = threading.Lock()

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        assert len(Entries) <= 10
        with self._lock:
            self.calls += 1
            call = self.calls
            details = [json.loads(entry["Detail"]) for entry in Entries]
            self.sent.update(detail["event_id"] for detail in details)
            self.sent_again_after_taken += sum(detail["event_id"] in self.taken for detail in details)
            if call <= self.whole_calls:
                raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "PutEvents")
            partial = call <= self.whole_calls + self.partial_calls
            results = []
            for index, detail in enumerate(details):
                if (partial and index % 2) or self.refuse_forever(detail):
                    results.append({"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"})
                else:
                    self.taken[detail["event_id"]] += 1
                    results.append({"EventId": f"eb-{call}-{index}"})
            return {"FailedEntryCount": sum("ErrorCode" in result for result in results), "Entries": results}


def usage_image(index: int) -> dict[str, Any]:
    """A postpaid usage past the free quota, as the stream carries its INSERT: one UsageBillable."""
    return {"PK": f"USAGE#req-{index}", "SK": "USAGE", "item_type": "usage", "account_id": "hot",
            "model_id": "m", "request_id": f"req-{index}", "sub_account_id": None, "quantity": Decimal(100),
            "billable": Decimal(100), "currency": "CNY", "charge": "0.02",
            "recorded_at": "2026-03-01T08:00:00.000Z"}  # fmt: skip


def billable_event_id(index: int) -> str:
    [event] = derive_events(None, usage_image(index), [80], "2026-03-01T08:00:00.000Z")
    return event.event_id


@pytest.fixture
def sleeps() -> list[float]:
    return []


def use_bus(monkeypatch: pytest.MonkeyPatch, client: Any, sleeps: list[float], concurrency: int = 4) -> None:
    backoff = Backoff(attempts=ATTEMPTS, base_seconds=0.1, cap_seconds=2.0, sleep=sleeps.append, jitter=lambda: 1.0)
    bus = EventBus(client, "ledger-bus", backoff, concurrency=concurrency)
    monkeypatch.setattr(events_handler, "event_bus", lambda: bus)


@pytest.mark.parametrize("concurrency", [1, events_handler.PUT_CONCURRENCY])
def test_when_the_throttling_passes_every_event_reaches_the_bus_exactly_once(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float], concurrency: int
) -> None:
    client = ThrottlingEvents(whole_calls=3, partial_calls=4)
    use_bus(monkeypatch, client, sleeps, concurrency)
    records = [stream_record(sequence, usage_image(sequence)) for sequence in range(1, 36)]
    assert handle(records) == {"batchItemFailures": []}
    assert set(client.taken) == {billable_event_id(n) for n in range(1, 36)}
    assert set(client.taken.values()) == {1}  # each event_id taken once
    assert client.sent_again_after_taken == 0  # nothing the bus took was sent again
    assert max(client.sent.values()) > 1  # and the throttled ones were
    assert sleeps  # it backed off, through the injected sleep
    assert all(delay > 0 for delay in sleeps)


def test_a_record_still_refused_after_the_retries_fails_alone(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    client = ThrottlingEvents(whole_calls=1, partial_calls=1, refuse_forever=lambda d: d["request_id"] == "req-7")
    use_bus(monkeypatch, client, sleeps)
    records = [stream_record(sequence, usage_image(sequence)) for sequence in range(1, 21)]
    assert handle(records) == {"batchItemFailures": [{"itemIdentifier": "7"}]}
    assert set(client.taken) == {billable_event_id(n) for n in range(1, 21) if n != 7}  # its neighbours'
    assert set(client.taken.values()) == {1}
    assert client.sent_again_after_taken == 0
    assert max(client.sent.values()) == ATTEMPTS  # the refused one was tried on every attempt, no more
    assert len(sleeps) == ATTEMPTS - 1


def test_a_batch_refused_whole_on_every_attempt_fails_the_invocation(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    """Every record failed: Powertools fails the invocation, and Lambda retries the batch (split)."""
    use_bus(monkeypatch, ThrottlingEvents(whole_calls=1000), sleeps)
    with pytest.raises(BatchProcessingError):
        handle([stream_record(1, usage_image(1)), stream_record(2, usage_image(2))])


def test_botocores_throttling_error_of_a_whole_call_is_retried_with_its_entries(sleeps: list[float]) -> None:
    """The real client's error (a stubbed botocore client, its own retries off) is read as a
    refusal of that call's entries, which the next attempt sends again."""
    client = boto3.client("events", region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}))
    events = [derive_events(None, usage_image(n), [80], "2026-03-01T08:00:00.000Z")[0] for n in (1, 2)]
    with Stubber(client) as stub:
        stub.add_client_error("put_events", service_error_code="ThrottlingException", http_status_code=400)
        stub.add_response("put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "a"}, {"EventId": "b"}]})
        bus = EventBus(client, "ledger-bus", Backoff(attempts=3, sleep=sleeps.append))
        assert bus.publish_all(events) == {}
        stub.assert_no_pending_responses()
    assert len(sleeps) == 1
