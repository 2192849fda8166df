"""An account's usage listing as its records accumulate: what a page costs with 0, 100, 1,000 and
10,000 records of one account spread over the usage index's shards, and what a record costs to write.

Records are added 100 a batch; one in 25 is of a second model (the filtered listing's rare one).
Each row: the first page of 50, the page after it, and a first page of the rare model alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trial_ledger import Ledger, UsageAsk, UsagePage

ACCOUNT = "listing-scale"
COMMON, RARE = "lang-01", "paid-01"
COUNTS = (0, 100, 1_000, 10_000)
PAGE = 50
BATCH = 100

Measure = Callable[[Callable[[], Any], int | None], dict[str, Any]]
Unmetered = Callable[[Callable[[], None]], None]


def _model(index: int) -> str:
    return RARE if index % 25 == 24 else COMMON


def _add(ledger: Ledger, first: int, last: int) -> None:
    for start in range(first, last, BATCH):
        numbers = range(start, min(start + BATCH, last))
        ledger.record_usage_batch([UsageAsk(ACCOUNT, _model(n), 1, f"scale-{n:05d}") for n in numbers])


def _row(ledger: Ledger, measure_op: Measure, count: int) -> dict[str, Any]:
    pages: list[UsagePage] = []
    row: dict[str, Any] = {"records": count}
    row["first_page"] = measure_op(lambda: pages.append(ledger.usage(ACCOUNT, limit=PAGE)), None)
    cursor = pages[0].next_cursor
    row["shown"] = len(pages[0].items)
    row["next_page"] = measure_op(lambda: ledger.usage(ACCOUNT, limit=PAGE, cursor=cursor), None) if cursor else None
    row["rare_model_page"] = measure_op(lambda: ledger.usage(ACCOUNT, model_id=RARE, limit=PAGE), None)
    row["usage_write"] = measure_op(lambda: ledger.record_usage(ACCOUNT, COMMON, 1, f"probe-{count}"), 1)
    return row


def measure(ledger: Ledger, measure_op: Measure, unmetered: Unmetered) -> list[dict[str, Any]]:
    """The rows at COUNTS; ``unmetered`` runs the records' writes with the meter off."""
    ledger.activate(ACCOUNT)
    ledger.set_postpaid(ACCOUNT, True)
    rows, written = [], 0
    for count in COUNTS:
        unmetered(lambda first=written, last=count: _add(ledger, first, last))  # type: ignore[misc]
        written = count
        row = _row(ledger, measure_op, count)
        rows.append(row)
        print(f"  {count} records: first page {row['first_page']['requests']} requests, "
              f"{row['first_page']['items_read']} items read", flush=True)  # fmt: skip
    return rows
