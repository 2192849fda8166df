"""The streams of a hot customer, and the records per second each takes before one partition of the
table or of an index reaches DynamoDB's per-partition write limit (bench/capacity.py's ceiling).

Every stream runs on moto through the ledger, in a container that has seen its grants (the gateway
authorizes first), long enough that each partition it writes repeatedly shows up in several
requests: single records, and batches of 100."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trial_ledger import Ledger, UsageAsk, UsageResult

BATCH = 100
SINGLE_RECORDS = 40
ONE_MODEL = ["lang-01"]


@dataclass(frozen=True, slots=True)
class Stream:
    name: str
    label: str
    account_id: str
    models: list[str]
    batched: bool
    records: int
    quantity: int
    paying: bool = False
    """Postpaid on, with every grant of the stream used up before it starts."""
    grouped: bool = False
    """Each batch is one model's records (else a batch interleaves every model of the stream)."""

    def model_of(self, index: int) -> str:
        position = index // BATCH if self.grouped else index
        return self.models[position % len(self.models)]


def streams(ten_models: list[str]) -> list[Stream]:
    # Quantities keep each grant's remainder above zero through the stream (a record that empties
    # a grant writes one more index entry); 4 batches over 10 models stay within the 50-image trial.
    # A model to a batch: 100 records of an image model use its 50-image trial up once, the rest
    # unbilled (postpaid off), as a gateway grouping its batches by model would send them.
    return [
        Stream("single", "one account, one model, single", "hot-single", ONE_MODEL, False, SINGLE_RECORDS, 1834),
        Stream("batch", "one account, one model, batched", "hot-batch", ONE_MODEL, True, 10 * BATCH, 100),
        Stream("ten_single", "one account, 10 models, single", "hot-ten-single", ten_models, False, SINGLE_RECORDS, 1),
        Stream("ten_batch", "one account, 10 models, batched", "hot-ten-batch", ten_models, True, 4 * BATCH, 1),
        Stream("ten_batch_grouped", "one account, 10 models, batched a model to a batch", "hot-ten-grouped",
               ten_models, True, 10 * BATCH, 1, grouped=True),
        Stream("paying_single", "paying customer past the free quota, single", "hot-paying-single", ONE_MODEL, False,
               SINGLE_RECORDS, 1834, paying=True),
        Stream("paying_batch", "paying customer past the free quota, batched", "hot-paying-batch", ONE_MODEL, True,
               10 * BATCH, 100, paying=True),
    ]  # fmt: skip


def prepare(ledger: Ledger, stream: Stream) -> Callable[[], None]:
    """Set the stream's account up (untimed, unmetered) and return the stream to measure."""
    ledger.activate(stream.account_id)
    ledger.claim(stream.account_id, stream.models)
    if stream.paying:
        ledger.set_postpaid(stream.account_id, True)
        for model_id in stream.models:
            remaining = next(g.remaining for g in ledger.grants(stream.account_id) if g.model_id == model_id)
            ledger.record_usage(stream.account_id, model_id, remaining, f"{stream.name}-use-up-{model_id}")
    for model_id in stream.models:
        ledger.authorize(stream.account_id, model_id)
    asks = [UsageAsk(stream.account_id, stream.model_of(index), stream.quantity, f"{stream.name}-{index:04d}")
            for index in range(stream.records)]  # fmt: skip

    def run() -> None:
        if not stream.batched:
            for ask in asks:
                ledger.record_usage(ask.account_id, ask.model_id, ask.quantity, ask.request_id)
            return
        for start in range(0, len(asks), BATCH):
            outcomes = ledger.record_usage_batch(asks[start : start + BATCH])
            refused = [outcome for outcome in outcomes if not isinstance(outcome, UsageResult)]
            assert not refused, f"the bench batch was refused in part: {refused[:3]}"

    return run


def grant_bound(found: dict[str, Any], account_id: str) -> tuple[float, str]:
    """The ceiling of the stream's grant alone: the partitions that belong to one grant (its item's
    table partition, under its own key or, claimed before grants had keys of their own, its account's; its grant-ledger
    shards), leaving out the account's usage index."""
    owned = {label: partition for label, partition in found["by_partition"].items()
             if label.startswith(("table partition GRANT#", "table partition ACCOUNT#", "grant-ledger partition"))
             and account_id in label}  # fmt: skip
    binding = min(owned, key=lambda label: owned[label]["records_per_s"])
    return owned[binding]["records_per_s"], binding
