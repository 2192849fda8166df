"""The events function: stream records in, events on the bus out; failures fail only their record.

First with a stubbed EventBridge client (refused entries, partial batches), then end to end on
moto: the real ledger writes, the table's stream is read, the handler publishes to moto's
EventBridge, and a rule delivers to a queue, as the billing rule does in AWS."""

import json
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer

import events_handler
from infra.local.events import LocalLambdaContext
from infra.local.streams import lambda_event
from tests.conftest import TABLE_NAME
from tests.support import IMAGE, LANG_30, LANG_90, MILLION
from trial_ledger import ActionAsk, Ledger, SwitchableClock, UsageAsk
from trial_ledger.domain.rules import usage_fingerprint
from trial_ledger.domain.state import UsageRecord
from trial_ledger.domain.writes import CallWrite, GrantDraw, UsageCommit
from trial_ledger.dynamo.store import LedgerStore
from trial_ledger.events.bus import EventBus, PublishFailed
from trial_ledger.events.derivation import SOURCE, DetailType, LedgerEvent
from trial_ledger.retry import Backoff

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-03-01T00:00:00.000"


class StubEvents:
    """PutEvents that refuses the entries ``refuse`` picks, and records every call."""

    def __init__(self, refuse: Any = lambda entry, attempt: False) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self._refuse = refuse

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        assert len(Entries) <= 10
        self.calls.append(Entries)
        results = [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
                   if self._refuse(entry, len(self.calls)) else {"EventId": f"e-{len(self.calls)}-{i}"}
                   for i, entry in enumerate(Entries)]  # fmt: skip
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}

    def event_ids(self) -> list[str]:
        return [json.loads(entry["Detail"])["event_id"] for call in self.calls for entry in call]


def no_sleep_bus(client: Any) -> EventBus:
    return EventBus(client, "ledger-bus", Backoff(attempts=4, sleep=lambda _: None))


def claimed(index: int) -> LedgerEvent:
    detail = {"event_id": f"id-{index}", "account_id": "a", "model_id": "m", "occurred_at": "2026-03-01T08:00:00.000Z"}
    return LedgerEvent(DetailType.TRIAL_CLAIMED, detail)


def test_at_most_ten_entries_per_call_in_order() -> None:
    client = StubEvents()
    no_sleep_bus(client).publish([claimed(index) for index in range(23)])
    assert [len(call) for call in client.calls] == [10, 10, 3]
    assert client.event_ids() == [f"id-{index}" for index in range(23)]
    entry = client.calls[0][0]
    assert (entry["Source"], entry["DetailType"], entry["EventBusName"]) == (SOURCE, "TrialClaimed", "ledger-bus")


def test_only_the_refused_entries_are_sent_again() -> None:
    def refuse(entry: dict[str, Any], attempt: int) -> bool:
        return attempt == 1 and json.loads(entry["Detail"])["event_id"] == "id-1"

    client = StubEvents(refuse)
    no_sleep_bus(client).publish([claimed(0), claimed(1), claimed(2)])
    assert [[json.loads(e["Detail"])["event_id"] for e in call] for call in client.calls] == [
        ["id-0", "id-1", "id-2"],
        ["id-1"],
    ]


def test_entries_refused_on_every_attempt_fail_the_publication() -> None:
    client = StubEvents(refuse=lambda entry, attempt: json.loads(entry["Detail"])["event_id"] == "id-1")
    with pytest.raises(PublishFailed, match="1 event"):
        no_sleep_bus(client).publish([claimed(0), claimed(1)])
    assert len(client.calls) == 4  # the first call, then three retries of the refused entry alone


def stream_record(sequence: int, new: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    """One record as Lambda delivers it from the table's stream."""
    serialize = TypeSerializer().serialize
    change = {"ApproximateCreationDateTime": 1772445600, "SequenceNumber": str(sequence), "StreamViewType":
              "NEW_AND_OLD_IMAGES", "NewImage": {name: serialize(value) for name, value in new.items()}}  # fmt: skip
    if old is not None:
        change["OldImage"] = {name: serialize(value) for name, value in old.items()}
    return {"eventID": str(sequence), "eventName": "MODIFY" if old else "INSERT", "eventSource": "aws:dynamodb",
            "dynamodb": change, "eventSourceARN": STREAM_ARN}  # fmt: skip


def grant_image(account_id: str, used: int = 0) -> dict[str, Any]:
    return {"PK": f"ACCOUNT#{account_id}", "SK": "GRANT#m", "item_type": "grant", "account_id": account_id,
            "model_id": "m", "unit": "tokens", "quota": Decimal(100), "used": Decimal(used),
            "remaining": Decimal(100 - used), "expired": Decimal(0), "claim_method": "auto",
            "claimed_at": "2026-03-01T08:00:00.000Z", "expires_at": "2026-05-30T08:00:00.000Z"}  # fmt: skip


@pytest.fixture
def stub_bus(monkeypatch: pytest.MonkeyPatch) -> StubEvents:
    client = StubEvents(refuse=lambda entry, attempt: json.loads(entry["Detail"])["account_id"] == "poison")
    monkeypatch.setattr(events_handler, "event_bus", lambda: no_sleep_bus(client))
    return client


def handle(records: list[dict[str, Any]]) -> dict[str, Any]:
    return events_handler.lambda_handler(  # type: ignore[no-any-return]
        {"Records": records}, LocalLambdaContext("EventsFunction")
    )


def test_a_record_whose_events_stay_refused_fails_alone(stub_bus: StubEvents) -> None:
    records = [
        stream_record(1, grant_image("a")),
        stream_record(2, grant_image("poison")),
        stream_record(3, grant_image("b", used=85), old=grant_image("b", used=10)),
        stream_record(4, {"PK": "X", "SK": "Y", "item_type": "hold"}),  # nothing to publish
    ]
    answer = handle(records)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    published = [(json.loads(e["Detail"])["account_id"], e["DetailType"]) for call in stub_bus.calls for e in call]
    assert ("a", "TrialClaimed") in published
    assert ("b", "TrialBalanceLow") in published
    balance_low = next(e for call in stub_bus.calls for e in call if e["DetailType"] == "TrialBalanceLow")
    assert json.loads(balance_low["Detail"])["occurred_at"] == "2026-03-02T10:00:00.000Z"  # the stream's time


def test_a_batch_that_publishes_everything_reports_no_failure(stub_bus: StubEvents) -> None:
    assert handle([stream_record(1, grant_image("a")), stream_record(2, grant_image("b"))]) == {"batchItemFailures": []}
    assert len(stub_bus.event_ids()) == 2


# -- end to end on moto ------------------------------------------------------------------------


@pytest.fixture
def moto_bus(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[dict[str, Any]]]:
    """moto's EventBridge bus with a rule that copies every ledger event to a queue."""
    events, sqs = boto3.client("events", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
    events.create_event_bus(Name="ledger")
    queue_url = sqs.create_queue(QueueName="all-ledger-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName="ledger", EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(Rule="all", EventBusName="ledger", Targets=[{"Id": "q", "Arn": arn}])
    monkeypatch.setattr(events_handler, "event_bus", lambda: EventBus(events, "ledger"))
    return lambda: drain(sqs, queue_url)


def drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    received = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        received += [json.loads(message["Body"]) for message in messages]
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return received


class TableStream:
    """The ledger table's stream, read as Lambda's event source mapping reads it."""

    def __init__(self, dynamodb: Any) -> None:
        self.arn = dynamodb.describe_table(TableName=TABLE_NAME)["Table"]["LatestStreamArn"]
        # Under mock_aws the streams client needs an explicit endpoint to be routed to moto.
        self._client = boto3.client("dynamodbstreams", region_name="us-east-1",
                                    endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")  # fmt: skip
        [shard] = self._client.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        self._iterator = self._client.get_shard_iterator(
            StreamArn=self.arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    def deliver(self) -> dict[str, Any]:
        """Hand every new record to the events function, in one batch."""
        page = self._client.get_records(ShardIterator=self._iterator, Limit=1000)
        self._iterator = page["NextShardIterator"]
        return handle(lambda_event(page["Records"], self.arn)["Records"]) if page["Records"] else {}


def published(received: list[dict[str, Any]]) -> list[tuple[str, str, Any]]:
    return [(event["detail-type"], event["detail"]["model_id"], event["detail"].get("threshold_percent"))
            for event in received]  # fmt: skip


def test_a_trial_from_claim_to_expiry_publishes_each_fact_once(
    dynamodb: Any, moto_bus: Any, ledger: Ledger, clock: SwitchableClock
) -> None:
    stream = TableStream(dynamodb)
    ledger.activate("acct")
    ledger.claim("acct", [IMAGE, LANG_90])
    ledger.record_usage("acct", IMAGE, 41, "r1")  # 82%
    ledger.record_usage("acct", IMAGE, 41, "r1")  # a replay: writes nothing, publishes nothing
    ledger.set_postpaid("acct", True)
    ledger.record_usage("acct", IMAGE, 12, "r2")  # 9 free (100%), 3 billable
    ledger.authorize("acct", LANG_30)  # an automatic claim
    assert stream.deliver() == {"batchItemFailures": []}
    assert published(moto_bus()) == [
        ("TrialClaimed", IMAGE, None), ("TrialClaimed", LANG_90, None), ("TrialBalanceLow", IMAGE, 80),
        ("UsageBillable", IMAGE, None),  # the usage record comes first in its transaction
        ("TrialBalanceLow", IMAGE, 95), ("TrialExhausted", IMAGE, None), ("TrialClaimed", LANG_30, None),
    ]  # fmt: skip
    clock.advance(timedelta(days=84))  # the 30-day trial is past due; the 90-day one has 6 days left
    ledger.mark_expiring_soon(clock.now(), timedelta(days=7))
    ledger.mark_expiring_soon(clock.now(), timedelta(days=7))  # the next night: marked already
    stream.deliver()
    assert published(moto_bus()) == [("TrialExpiringSoon", LANG_90, None)]
    ledger.expire_due(clock.now() + timedelta(days=6))
    stream.deliver()
    assert sorted(published(moto_bus())) == [("TrialExpired", LANG_30, None), ("TrialExpired", LANG_90, None)]


def test_corrections_publish_their_events_once(
    dynamodb: Any, moto_bus: Any, ledger: Ledger, clock: SwitchableClock
) -> None:
    """R17 and R18 end to end: a reversal is the credit (UsageReversed), an operator's extension
    and void are TrialExtended and TrialVoided; the balance events stay once per grant."""
    stream = TableStream(dynamodb)
    ledger.activate("acct")
    ledger.set_postpaid("acct", True)
    ledger.record_usage("acct", IMAGE, 53, "r1")  # the whole trial and 3 billed
    ledger.reverse_usage("r1", "failed after metering")
    ledger.record_usage("acct", IMAGE, 50, "r2")  # climbs back: no second TrialExhausted
    ledger.claim("acct", [LANG_90])
    ledger.extend_grant(
        ActionAsk("act-1", "acct", LANG_90, "support:alice", "ticket 1"), clock.now() + timedelta(days=120)
    )
    ledger.void_grant(ActionAsk("act-2", "acct", LANG_90, "support:alice", "ticket 2"))
    stream.deliver()
    received = moto_bus()
    kinds = [event["detail-type"] for event in received]
    assert (kinds.count("TrialExhausted"), kinds.count("TrialBalanceLow")) == (1, 2)
    [reversed_event] = [event["detail"] for event in received if event["detail-type"] == "UsageReversed"]
    assert {key: reversed_event[key] for key in ("request_id", "free_returned", "free_expired", "billable")} == {
        "request_id": "r1", "free_returned": 50, "free_expired": 0, "billable": 3}  # fmt: skip
    assert reversed_event["charge"] == {"currency": "CNY", "amount": "0.6"}
    [extended] = [event["detail"] for event in received if event["detail-type"] == "TrialExtended"]
    assert (extended["action_id"], extended["actor"], extended["reason"]) == ("act-1", "support:alice", "ticket 1")
    [voided] = [event["detail"] for event in received if event["detail-type"] == "TrialVoided"]
    assert (voided["action_id"], voided["expired_quantity"], voided["used"], voided["quota"]) == (
        "act-2", MILLION, 0, MILLION)  # fmt: skip
    assert "TrialExpired" not in kinds


def test_a_redelivered_record_publishes_the_same_event_id(dynamodb: Any, moto_bus: Any, ledger: Ledger) -> None:
    stream = TableStream(dynamodb)
    ledger.authorize("acct", LANG_90)
    page = stream._client.get_records(ShardIterator=stream._iterator, Limit=10)["Records"]
    records = lambda_event(page, stream.arn)["Records"]
    handle(records)
    handle(records)
    first, again = moto_bus()
    assert first["detail"] == again["detail"]
    assert first["detail"]["quota"] == MILLION


def test_a_crashed_relaxed_draw_and_its_settle_by_a_replay_publish_exhaustion_once(
    dynamodb: Any, moto_bus: Any, ledger: Ledger, store: LedgerStore
) -> None:
    stream = TableStream(dynamodb)
    ledger.record_usage("acct", IMAGE, 10, "first")  # 40 left
    # A writer commits a relaxed draw that empties the grant, and dies before it settles: the
    # writer never learnt the new remainder; the committed image says 0.
    at = "2026-03-01T08:00:00.000Z"
    crashed = UsageRecord("mine", "acct", IMAGE, None, 40, 40, 0, 0, "CNY", "0.2", "0", None, False, at,
                          usage_fingerprint("acct", IMAGE, 40, None), "w-mine")  # fmt: skip
    store.commit_usage(UsageCommit(CallWrite(crashed), draw=GrantDraw(IMAGE, 40, 40, at, exact=False)))
    stream.deliver()
    assert published(moto_bus()) == [
        ("TrialClaimed", IMAGE, None), ("TrialBalanceLow", IMAGE, 80), ("TrialBalanceLow", IMAGE, 95),
        ("TrialExhausted", IMAGE, None),
    ]  # fmt: skip
    assert ledger.record_usage("acct", IMAGE, 40, "mine").replayed  # settles it: writes, but no balance moves
    assert stream.deliver() == {"batchItemFailures": []}  # the settle's changes were in the stream...
    assert moto_bus() == []  # ...and published nothing


def test_a_batch_publishes_the_same_facts_as_its_records_one_by_one(
    dynamodb: Any, moto_bus: Any, ledger: Ledger
) -> None:
    """A batch writes its grant once per transaction: the balance events come from that write
    (both thresholds and the exhaustion at once), and the billable record publishes its own."""
    stream = TableStream(dynamodb)
    ledger.activate("acct")
    ledger.set_postpaid("acct", True)
    ledger.record_usage_batch([UsageAsk("acct", IMAGE, 12, f"r{n}") for n in range(5)])  # 60 of 50
    assert stream.deliver() == {"batchItemFailures": []}
    events = moto_bus()
    assert sorted(published(events)) == sorted([
        ("TrialClaimed", IMAGE, None), ("TrialBalanceLow", IMAGE, 80), ("TrialBalanceLow", IMAGE, 95),
        ("TrialExhausted", IMAGE, None), ("UsageBillable", IMAGE, None),
    ])  # fmt: skip
    billable = sorted((e["detail"]["request_id"], e["detail"]["billable"]) for e in events
                      if e["detail-type"] == "UsageBillable")  # fmt: skip
    assert billable == [("r4", 10)]  # 12 x 4 free, then 2 free and 10 billable


def test_an_accounts_thresholds_decide_the_crossings_after_they_are_set_and_not_before(
    dynamodb: Any, moto_bus: Any, ledger: Ledger
) -> None:
    """R20 end to end: the change writes the thresholds onto the grants; the events function
    judges each crossing by those on the grant's new image (no read), the deploy's until then."""
    stream = TableStream(dynamodb)
    ledger.activate("acct")
    ledger.claim("acct", [IMAGE, LANG_90])
    ledger.record_usage("acct", IMAGE, 41, "r1")  # 82%: the deploy's 80
    stream.deliver()
    assert published(moto_bus())[-1] == ("TrialBalanceLow", IMAGE, 80)
    ledger.set_alerts("acct", [30])
    assert stream.deliver() == {"batchItemFailures": []}
    assert moto_bus() == []  # the change itself publishes nothing
    ledger.record_usage("acct", LANG_90, 300_000, "r2")  # 30%: the account's 30
    ledger.record_usage("acct", LANG_90, 550_000, "r3")  # 85%: 80 is no longer one of its thresholds
    ledger.record_usage("acct", IMAGE, 7, "r4")  # 96%: nor 95; its 30 was passed before it was set
    ledger.authorize("acct", LANG_30)  # a grant claimed afterwards carries the account's thresholds
    ledger.record_usage("acct", LANG_30, 960_000, "r5")
    stream.deliver()
    assert [event for event in published(moto_bus()) if event[0] == "TrialBalanceLow"] == [
        ("TrialBalanceLow", LANG_90, 30), ("TrialBalanceLow", LANG_30, 30),
    ]  # fmt: skip
