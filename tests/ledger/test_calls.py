"""A request_id names one call (contract v3.2, R13 and R14): the hold and the usage of one id
are one item, so that neither can be taken by another call, single or batched, racing or not."""

from __future__ import annotations

from datetime import timedelta

import pytest

from infra.tools.audit import audit
from tests.support import IMAGE, LANG_90, NO_TRIAL, DynamoCalls
from trial_ledger import (
    HoldAsk,
    HoldStatus,
    Ledger,
    RecordRefusal,
    RequestIdConflict,
    SwitchableClock,
    UsageAsk,
    UsageResult,
)
from trial_ledger.dynamo.store import LedgerStore


def held(ledger: Ledger, account: str = "a", model_id: str = IMAGE) -> int:
    return next((grant.held for grant in ledger.grants(account) if grant.model_id == model_id), 0)


@pytest.mark.parametrize("taker", ["same container", "another container"])
@pytest.mark.parametrize(("account", "model_id"), [("a", LANG_90), ("b", IMAGE)])
def test_a_usage_of_another_call_with_a_holds_request_id_conflicts(
    ledger: Ledger, other: Ledger, taker: str, account: str, model_id: str
) -> None:
    (ledger if taker == "same container" else other).hold(HoldAsk("a", IMAGE, "h", 30))
    with pytest.raises(RequestIdConflict):
        ledger.record_usage(account, model_id, 5, "h")
    assert (ledger.grants("b"), [g.model_id for g in ledger.grants("a")]) == ([], [IMAGE])  # nothing written
    assert held(ledger) == 30  # the hold as it was
    settled = ledger.record_usage("a", IMAGE, 5, "h")
    assert (settled.free, settled.free_remaining) == (5, 45)
    assert ledger.release_hold("h").status is HoldStatus.SETTLED
    assert audit().ok


def test_a_usage_of_another_call_with_an_ended_holds_request_id_conflicts(ledger: Ledger) -> None:
    ledger.hold(HoldAsk("a", IMAGE, "h", 30))
    ledger.release_hold("h")
    with pytest.raises(RequestIdConflict):
        ledger.record_usage("a", LANG_90, 5, "h")
    plain = ledger.record_usage("a", IMAGE, 5, "h")  # the same call, after its hold ended
    assert (plain.free, plain.free_remaining, plain.replayed) == (5, 45, False)
    assert ledger.record_usage("a", IMAGE, 5, "h").replayed is True
    assert ledger.release_hold("h").status is HoldStatus.RELEASED
    assert audit().ok


def test_a_batch_record_with_a_holds_request_id_of_another_call_is_refused_in_its_place(
    ledger: Ledger, other: Ledger
) -> None:
    other.hold(HoldAsk("a", IMAGE, "h", 30))
    outcomes = ledger.record_usage_batch(
        [UsageAsk("a", LANG_90, 1, "r1"), UsageAsk("a", LANG_90, 2, "h"), UsageAsk("a", IMAGE, 3, "r3")]
    )
    assert isinstance(outcomes[1], RecordRefusal)
    assert (outcomes[1].request_id, outcomes[1].code) == ("h", "request_id_conflict")
    assert [(o.request_id, o.free) for o in outcomes if isinstance(o, UsageResult)] == [("r1", 1), ("r3", 3)]
    assert held(ledger) == 30
    assert audit().ok


@pytest.mark.parametrize("hold", ["live", "timed out", "released"])
@pytest.mark.parametrize(("account", "model_id"), [("b", IMAGE), ("a", LANG_90), ("a", NO_TRIAL)])
def test_a_batch_record_with_the_request_id_of_a_hold_this_container_took_for_another_call_is_refused(
    ledger: Ledger, clock: SwitchableClock, hold: str, account: str, model_id: str
) -> None:
    """The container remembers the hold it took; a batch record of another account or model with
    its request_id must not land on it (found by the stateful test: a timed-out hold, or a model
    without a trial, took the other call's usage)."""
    ledger.hold(HoldAsk("a", IMAGE, "h", 30, ttl_seconds=60))
    if hold == "timed out":
        clock.advance(timedelta(seconds=60))
    elif hold == "released":
        ledger.release_hold("h")
    [outcome] = ledger.record_usage_batch([UsageAsk(account, model_id, 2, "h")])
    assert isinstance(outcome, RecordRefusal)
    assert (outcome.request_id, outcome.code) == ("h", "request_id_conflict")
    assert ledger.usage(account).items == []
    ended = {"live": HoldStatus.RELEASED, "timed out": HoldStatus.EXPIRED, "released": HoldStatus.RELEASED}
    assert ledger.release_hold("h").status is ended[hold]  # the hold as it was, still its own
    assert audit().ok


def test_a_batch_record_with_its_holds_request_id_settles_it(ledger: Ledger, other: Ledger) -> None:
    other.hold(HoldAsk("a", IMAGE, "h", 30))
    outcomes = ledger.record_usage_batch([UsageAsk("a", IMAGE, 40, "h"), UsageAsk("a", IMAGE, 5, "r2")])
    assert [(o.request_id, o.free, o.unbilled_overage) for o in outcomes if isinstance(o, UsageResult)] == [
        ("h", 40, 0), ("r2", 5, 0)]  # fmt: skip
    assert other.release_hold("h").status is HoldStatus.SETTLED
    assert held(ledger) == 0
    assert audit().ok


@pytest.mark.parametrize("taker", ["same container", "another container"])
def test_a_hold_for_a_metered_request_conflicts_and_reserves_nothing(ledger: Ledger, other: Ledger, taker: str) -> None:
    (ledger if taker == "same container" else other).record_usage("a", IMAGE, 5, "u")
    for ask in (HoldAsk("a", IMAGE, "u", 30), HoldAsk("a", LANG_90, "u", 30), HoldAsk("b", IMAGE, "u", 30)):
        with pytest.raises(RequestIdConflict):
            ledger.hold(ask)
    assert held(ledger) == 0
    assert [g.model_id for g in ledger.grants("a")] == [IMAGE]
    assert ledger.record_usage("a", IMAGE, 5, "u").replayed is True


def test_a_replay_of_a_settled_hold_is_its_first_answer(ledger: Ledger, other: Ledger) -> None:
    first = ledger.hold(HoldAsk("a", IMAGE, "h", 30))
    other.record_usage("a", IMAGE, 10, "h")
    again = other.hold(HoldAsk("a", IMAGE, "h", 30))
    assert (again.held, again.expires_at, again.replayed) == (first.held, first.expires_at, True)
    with pytest.raises(RequestIdConflict):
        other.hold(HoldAsk("a", IMAGE, "h", 31))


def test_a_settle_costs_one_request_where_the_hold_was_taken_and_one_more_elsewhere(
    ledger: Ledger, other: Ledger, dynamo_calls: DynamoCalls
) -> None:
    """The grant keeps no entry per hold: a container that did not take the hold learns it from
    its usage's refused put (or from a cold read, which fetches the request's item with the grant)."""
    other.hold(HoldAsk("a", IMAGE, "theirs", 10))
    ledger.hold(HoldAsk("a", IMAGE, "mine", 10))
    dynamo_calls.reset()
    ledger.record_usage("a", IMAGE, 4, "mine")
    assert dynamo_calls.operations == ["TransactWriteItems"]
    dynamo_calls.reset()
    ledger.record_usage("a", IMAGE, 4, "theirs")
    assert dynamo_calls.operations == ["TransactWriteItems", "TransactWriteItems"]
    other.hold(HoldAsk("a", IMAGE, "cold", 10))
    dynamo_calls.reset()
    cold = Ledger(store=LedgerStore(), catalog=ledger.catalog, clock=ledger.clock)
    assert cold.record_usage("a", IMAGE, 4, "cold").free_remaining == 50 - 3 * 4
    assert dynamo_calls.operations == ["BatchGetItem", "TransactWriteItems"]
    assert audit().ok
