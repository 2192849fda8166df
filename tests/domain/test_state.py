"""The ledger's stored values, the writes it asks for and the refusals it gets back, as plain
values (pure, no DynamoDB): what each answers, and what a refusal carries of the state now."""

from dataclasses import replace
from decimal import Decimal

import pytest

from tests.support import IMAGE, LANG_90
from trial_ledger import Account, Alerts, AlertsSource, ClaimMethod, FundingSource, HoldResult, HoldStatus, UsageResult
from trial_ledger.domain.refusals import (
    AlreadyRecorded,
    BatchRefused,
    CallTaken,
    GrantMoved,
    GrantsExist,
    HoldEnded,
    Outdated,
    Refused,
    UsageChanged,
)
from trial_ledger.domain.state import CallRecord, GrantState, HoldRecord, ProfileState, Reversal, UsageRecord
from trial_ledger.domain.writes import HoldClosing

NOW = "2026-03-01T08:00:00.000Z"
ENDS = "2026-03-01T08:15:00.000Z"


def hold(held: int = 10, status: HoldStatus = HoldStatus.OPEN, free_available: int | None = 40) -> HoldRecord:
    return HoldRecord("h1", "a", IMAGE, "key-1", 12, held, FundingSource.FREE, free_available, True, NOW, ENDS, 900,
                      status, None, "f", "w-1")  # fmt: skip


def usage() -> UsageRecord:
    return UsageRecord("r1", "a", IMAGE, "key-1", 12, 10, 2, 0, "CNY", "0.2", "0.4", 38, False, NOW, "f", "w-1")


def grant() -> GrantState:
    return GrantState("a", IMAGE, "images", 50, 10, 40, 0, ClaimMethod.AUTO, NOW, "2026-05-30T08:00:00.000Z")


def test_an_account_that_never_did_anything_is_not_activated_and_not_postpaid() -> None:
    assert ProfileState.absent("acct-1") == ProfileState("acct-1", None, False)
    default = Alerts((80, 95), AlertsSource.DEFAULT)
    assert ProfileState.absent("acct-1").account((80, 95)) == Account("acct-1", None, False, default)
    assert ProfileState("acct-1", NOW, True).account((80, 95)) == Account("acct-1", NOW, True, default)


def test_an_account_reads_its_own_alert_thresholds_else_the_deploys() -> None:
    """R20: GET /v1/account says which thresholds stand and where they come from."""
    own = ProfileState("acct-1", NOW, False, balance_low_percent=(50, 90))
    assert own.account((80, 95)).alerts == Alerts((50, 90), AlertsSource.ACCOUNT)
    assert ProfileState("acct-1", NOW, False).account((70,)).alerts == Alerts((70,), AlertsSource.DEFAULT)


@pytest.mark.parametrize("replayed", [False, True])
def test_a_usage_record_answers_as_recorded(replayed: bool) -> None:
    assert usage().result(replayed) == UsageResult(
        request_id="r1", account_id="a", model_id=IMAGE, sub_account_id="key-1", quantity=12, free=10, billable=2,
        unbilled_overage=0, currency="CNY", charge=Decimal("0.4"), free_remaining=38, auto_claimed=False,
        recorded_at=NOW, replayed=replayed)  # fmt: skip


def test_a_reversed_usage_answers_as_recorded_with_when_it_was_reversed() -> None:
    """R17: the same usage again answers its original result, marked reversed."""
    reversed_usage = replace(usage(), reversal=Reversal(ENDS, "metered twice", 10, 0))
    assert reversed_usage.result(True) == replace(usage().result(True), reversed_at=ENDS)
    assert usage().result(True).reversed_at is None


@pytest.mark.parametrize("replayed", [False, True])
def test_a_hold_answers_as_taken_and_what_it_left_once_known(replayed: bool) -> None:
    taken = HoldResult(request_id="h1", account_id="a", model_id=IMAGE, estimate=12, held=10,
                       source=FundingSource.FREE, free_available=40, expires_at=ENDS, auto_claimed=True,
                       replayed=replayed)  # fmt: skip
    assert hold().result(replayed) == taken
    # A contended write left free_available unknown: the answer carries it once settled.
    assert hold(free_available=None).result(replayed, free_available=33).free_available == 33
    assert hold().result(replayed, free_available=33).free_available == 33
    assert hold(free_available=0).result(replayed).free_available == 0  # nothing left for others


def test_a_hold_reserves_while_open_live_and_holding_units() -> None:
    assert hold().reserves(NOW)
    assert not hold().reserves(ENDS)  # from its expires_at on, whether or not the sweep ran
    assert hold().effective_status(ENDS) is HoldStatus.EXPIRED
    assert not hold(held=0).reserves(NOW)  # a postpaid hold of 0 units reserves nothing
    assert hold(held=1).reserves(NOW)
    assert not hold(status=HoldStatus.RELEASED).reserves(NOW)
    assert hold(status=HoldStatus.RELEASED).effective_status(ENDS) is HoldStatus.RELEASED


def test_a_request_id_names_one_call_of_one_account_and_model() -> None:
    assert not hold().names_another_call("a", IMAGE)
    assert hold().names_another_call("a", LANG_90)
    assert hold().names_another_call("b", IMAGE)


def test_closing_a_hold_takes_its_units_out_of_the_period_it_counts_in() -> None:
    closing = HoldClosing("h1", "a", IMAGE, 10, "2026-03-01T08:14:20.000Z", "released", NOW)
    assert closing.period == ENDS  # a hold cut short by its grant counts in the next boundary
    assert closing.with_grant
    assert not HoldClosing("h1", "a", IMAGE, 0, ENDS, "released", NOW).with_grant  # postpaid: no period
    assert HoldClosing("h1", "a", IMAGE, 1, ENDS, "expired", NOW, due_by=NOW).with_grant


def test_a_refusal_carries_what_is_there_now() -> None:
    """The use cases plan again on what a refusal carries, without a read of their own."""
    now_grant, now_usage, now_hold = grant(), usage(), hold()
    assert GrantsExist({IMAGE: now_grant}).grants == {IMAGE: now_grant}
    assert AlreadyRecorded(now_usage).record is now_usage
    assert GrantMoved(now_grant).grant is now_grant
    assert HoldEnded(now_hold).hold is now_hold
    assert UsageChanged(now_usage).usage is now_usage
    assert CallTaken(CallRecord(now_hold, now_usage)).call == CallRecord(now_hold, now_usage)
    outdated = Outdated(grant_changed=True, grant=now_grant, postpaid_changed=False)
    assert (outdated.grant_changed, outdated.grant, outdated.postpaid_changed) == (True, now_grant, False)
    assert (outdated.call_changed, outdated.hold) == (False, None)  # the request's item was as read
    item = Outdated(grant_changed=False, grant=None, postpaid_changed=True, call_changed=True, hold=now_hold)
    assert (item.grant_changed, item.grant, item.postpaid_changed, item.call_changed, item.hold) == (
        False, None, True, True, now_hold)  # fmt: skip
    assert isinstance(item, Refused)


def test_a_refused_batch_carries_each_refused_item() -> None:
    plain = BatchRefused({"r1": usage()}, {("a", IMAGE): grant(), ("a", LANG_90): None}, {"a"})
    assert (plain.recorded, plain.profiles, plain.holds) == ({"r1": usage()}, {"a"}, {})
    assert plain.grants == {("a", IMAGE): grant(), ("a", LANG_90): None}
    with_holds = BatchRefused({}, {}, set(), holds={"h1": hold(), "h2": None})
    assert with_holds.holds == {"h1": hold(), "h2": None}
