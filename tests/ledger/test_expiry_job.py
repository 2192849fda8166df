"""The expiry function as the schedule invokes it, and the job at scale."""

import json
from datetime import timedelta
from typing import Any

import pytest

import expiry_handler
from infra.local.events import LocalLambdaContext
from infra.testing.dynamo_meter import DynamoMeter
from tests.support import LANG_30, LANG_90, MILLION
from trial_ledger import ClaimMethod, HoldAsk, Ledger, SwitchableClock, parse_timestamp
from trial_ledger.domain.state import GrantState
from trial_ledger.domain.writes import NewGrant
from trial_ledger.dynamo.items import GrantItem
from trial_ledger.dynamo.keys import grant_key
from trial_ledger.dynamo.mapping import grant_item
from trial_ledger.dynamo.store import LedgerStore
from trial_ledger.job_results import ExpiringSoonReport


@pytest.fixture
def job(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The expiry handler on the test ledger; continuations are captured instead of invoked."""
    continued: list[dict[str, Any]] = []
    monkeypatch.setattr(expiry_handler, "ledger", ledger)
    monkeypatch.setattr(expiry_handler, "continue_later", lambda payload, context: continued.append(payload))
    return continued


def run(event: dict[str, Any], seconds_left: float = 900) -> dict[str, Any]:
    return expiry_handler.lambda_handler(event, LocalLambdaContext("expiry", timeout_seconds=seconds_left))  # type: ignore[no-any-return]


def test_scheduled_time_is_the_as_of_instant(ledger: Ledger, clock: SwitchableClock, job: list[Any]) -> None:
    ledger.authorize("a", LANG_30)  # due 2026-03-31T08:00Z
    clock.advance(timedelta(days=40))  # "now" is long after; the schedule's instant decides
    early = run({"as_of": "2026-03-31T07:59:59Z"})
    assert early == {"as_of": "2026-03-31T07:59:59.000Z", "expired_grants": 0, "expired_quantity": 0,
                     "complete": True}  # fmt: skip
    on_time = run({"as_of": "2026-03-31T16:10:00+08:00"})
    assert (on_time["expired_grants"], on_time["expired_quantity"]) == (1, MILLION)
    assert job == []


def test_without_as_of_the_clock_decides(ledger: Ledger, clock: SwitchableClock, job: list[Any]) -> None:
    ledger.authorize("a", LANG_30)
    clock.advance(timedelta(days=30))
    assert run({})["expired_grants"] == 1


def test_metrics_and_summary_line(
    ledger: Ledger,
    clock: SwitchableClock,
    job: list[Any],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    ledger.record_usage("a", LANG_30, 10, "r1")
    clock.advance(timedelta(days=30))
    run({"as_of": "2026-03-31T08:00:00Z"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    [metrics] = [line for line in lines if "_aws" in line]
    assert (metrics["ExpiredGrants"], metrics["ExpiredUnits"]) == ([1.0], [MILLION - 10])
    [summary] = [record for record in caplog.records if record.getMessage() == "expiry run"]
    assert (summary.expired_grants, summary.expired_quantity, summary.complete) == (1, MILLION - 10, True)  # type: ignore[attr-defined]


def test_out_of_time_continues_itself_and_finishes(ledger: Ledger, clock: SwitchableClock, job: list[Any]) -> None:
    for index in range(12):
        ledger.authorize(f"acct-{index}", LANG_30)
    clock.advance(timedelta(days=30))
    cut_short = run({"as_of": "2026-03-31T08:00:00Z"}, seconds_left=59)  # inside the safety margin
    assert (cut_short["complete"], cut_short["expired_grants"]) == (False, 0)
    assert job == [{"as_of": "2026-03-31T08:00:00.000Z", "continuation": 1}]
    finished = run(job[0])
    assert (finished["complete"], finished["expired_grants"], finished["expired_quantity"]) == (True, 12, 12 * MILLION)
    assert len(job) == 1


def test_continuations_are_bounded(ledger: Ledger, clock: SwitchableClock, job: list[Any]) -> None:
    ledger.authorize("a", LANG_30)
    clock.advance(timedelta(days=30))
    result = run({"as_of": "2026-03-31T08:00:00Z", "continuation": expiry_handler.MAX_CONTINUATIONS}, seconds_left=1)
    assert result["complete"] is False
    assert job == []
    assert run({"as_of": "2026-03-31T08:00:00Z"})["expired_grants"] == 1  # the next run catches up


def test_the_nightly_run_expires_then_marks_what_expires_soon(
    ledger: Ledger, clock: SwitchableClock, job: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    ledger.authorize("a", LANG_30)  # due 2026-03-31T08:00Z
    ledger.authorize("b", LANG_30)
    clock.advance(timedelta(days=5))
    ledger.authorize("c", LANG_30)  # due 2026-04-05T08:00Z: within 7 days of the run below
    result = run({"as_of": "2026-03-31T08:00:00Z"})
    assert result == {"as_of": "2026-03-31T08:00:00.000Z", "expired_grants": 2, "expired_quantity": 2 * MILLION,
                      "complete": True}  # fmt: skip
    item = GrantItem.get(*grant_key("c", LANG_30), consistent_read=True)
    assert item.expiring_soon_notified_at == "2026-03-06T08:00:00.000Z"  # written at the clock's now
    assert "ExpiringSoonGrants" in capsys.readouterr().out
    assert job == []


def test_an_expiring_soon_pass_cut_short_continues_the_run(
    ledger: Ledger, clock: SwitchableClock, job: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.authorize("a", LANG_30)
    clock.advance(timedelta(days=30))
    monkeypatch.setattr(ledger, "mark_expiring_soon", lambda *args, **kwargs: ExpiringSoonReport("x", 0, False))
    result = run({"as_of": "2026-03-31T08:00:00Z"})
    assert (result["expired_grants"], result["complete"]) == (1, False)  # expiry done, the run is not
    assert job == [{"as_of": "2026-03-31T08:00:00.000Z", "continuation": 1}]


def _seed(total: int, due_every: int) -> int:
    """Write ``total`` untouched grants straight to the table; every ``due_every``-th is due."""
    due = 0
    with GrantItem.batch_write() as batch:
        for index in range(total):
            is_due = index % due_every == 0
            due += is_due
            expires_at = "2026-03-10T00:00:00.000Z" if is_due else "2026-09-01T00:00:00.000Z"
            state = GrantState(f"acct-{index:05d}", LANG_90, "tokens", MILLION, 0, MILLION, 0, ClaimMethod.AUTO,
                               "2026-01-01T00:00:00.000Z", expires_at)  # fmt: skip
            batch.save(grant_item(NewGrant(state, None)))
    return due


@pytest.mark.slow
def test_reads_grow_with_due_grants_not_with_the_table(ledger: Ledger, store: LedgerStore) -> None:
    due = _seed(20_000, due_every=10)
    assert due == 2_000
    meter = DynamoMeter()
    meter.attach_ledger(store)
    report = ledger.expire_due(parse_timestamp("2026-03-11T00:00:00Z"))
    assert (report.expired_grants, report.expired_quantity, report.complete) == (2_000, 2_000 * MILLION, True)
    assert meter.items_read == 2_000  # the due candidates, and nothing else
    assert meter.requests["TransactWriteItems"] == 2_000  # untouched grants: one write each
    assert meter.requests["Query"] <= 16 + 2_000 // 100 + 1
    meter.reset()
    again = ledger.expire_due(parse_timestamp("2026-03-11T00:00:00Z"))
    assert (again.expired_grants, meter.items_read, meter.items_written) == (0, 0, 0)


def test_the_hold_sweep_schedule_input_runs_the_sweep(ledger: Ledger, clock: SwitchableClock, job: list[Any]) -> None:
    ledger.hold(HoldAsk("a", LANG_90, "h1", 100, ttl_seconds=60))
    ledger.hold(HoldAsk("a", LANG_90, "h2", 100, ttl_seconds=600))
    clock.advance(timedelta(hours=1))  # the schedule's instant decides, not the clock
    swept = run({"job": "hold-sweep", "as_of": "2026-03-01T08:05:00Z"})
    assert swept == {"as_of": "2026-03-01T08:05:00.000Z", "closed_holds": 1, "returned_units": 100,
                     "complete": True}  # fmt: skip
    assert run({"job": "hold-sweep", "as_of": "2026-03-01T08:10:00Z"})["closed_holds"] == 1
    assert job == []


def test_a_sweep_out_of_time_continues_itself(ledger: Ledger, clock: SwitchableClock, job: list[Any]) -> None:
    ledger.hold(HoldAsk("a", LANG_90, "h1", 100, ttl_seconds=60))
    clock.advance(timedelta(minutes=2))
    stopped = run({"job": "hold-sweep", "as_of": "2026-03-01T08:05:00Z"}, seconds_left=30)
    assert (stopped["closed_holds"], stopped["complete"]) == (0, False)
    assert job == [{"job": "hold-sweep", "as_of": "2026-03-01T08:05:00.000Z", "continuation": 1}]
    assert run(job[0])["closed_holds"] == 1
