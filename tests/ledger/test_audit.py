"""The audit finds what R11 forbids, and nothing on a ledger the rules wrote."""

from datetime import timedelta

from infra.tools.audit import audit
from tests.support import IMAGE, LANG_30, LANG_90, NO_TRIAL
from trial_ledger import HoldAsk, Ledger, SwitchableClock
from trial_ledger.dynamo.items import CallItem, GrantItem, UsageItem
from trial_ledger.dynamo.keys import account_key, call_key, grant_sort_key


def test_a_ledger_written_by_the_rules_is_clean(ledger: Ledger, clock: SwitchableClock) -> None:
    ledger.activate("a")
    ledger.set_postpaid("a", True)
    ledger.claim("a", [LANG_90, IMAGE])
    ledger.record_usage("a", IMAGE, 53, "r1")
    ledger.record_usage("a", LANG_30, 10, "r2")
    ledger.record_usage("a", NO_TRIAL, 10, "r3")
    clock.advance(timedelta(days=45))
    ledger.expire_due(clock.now())
    report = audit()
    assert report.ok, report.violations
    assert (report.grants, report.usage_records, report.expiry_entries) == (3, 3, 1)
    assert (report.free_units, report.billable_units) == (60, 13)


def test_a_tampered_grant_is_found(ledger: Ledger) -> None:
    ledger.record_usage("a", LANG_90, 10, "r1")
    grant = GrantItem.get(account_key("a"), grant_sort_key(LANG_90))
    grant.update(actions=[GrantItem.remaining.set(GrantItem.remaining + 5)])  # quota out of thin air
    violations = audit().violations
    assert any("quota 1000000 != used 10 + remaining 999995" in v for v in violations)


def test_a_lost_usage_record_is_found(ledger: Ledger) -> None:
    ledger.record_usage("a", LANG_90, 10, "r1")
    ledger.record_usage("a", LANG_90, 7, "r2")
    UsageItem.get(call_key("r2"), "USAGE").delete()
    assert any("used 17 != 10" in v for v in audit().violations)


def test_a_ledger_with_holds_in_every_state_is_clean(ledger: Ledger, clock: SwitchableClock) -> None:
    for rid, estimate in (("open", 10), ("settled", 10), ("released", 5), ("late", 5), ("dead", 5)):
        ledger.hold(HoldAsk("a", IMAGE, rid, estimate, ttl_seconds=60 if rid in ("late", "dead") else 900))
    ledger.record_usage("a", IMAGE, 4, "settled")
    ledger.release_hold("released")
    clock.advance(timedelta(seconds=60))
    # Usage of "late" after it timed out: plain usage on its item, whose exact write removes the
    # timed-out period ("late", "dead"); the items stay open until the sweep closes them, and
    # open holds of a removed period are fine.
    ledger.record_usage("a", IMAGE, 2, "late")
    report = audit()
    assert report.ok, report.violations
    assert (report.holds, report.held_units) == (5, 10)
    assert ledger.sweep_holds(clock.now()).closed_holds == 2
    assert audit().ok


def test_the_sweep_keeps_a_timed_out_period_equal_to_its_open_holds(ledger: Ledger, clock: SwitchableClock) -> None:
    ledger.hold(HoldAsk("a", IMAGE, "h1", 5, ttl_seconds=60))
    ledger.hold(HoldAsk("a", IMAGE, "h2", 7, ttl_seconds=60))
    clock.advance(timedelta(seconds=60))
    assert audit().ok  # dead, its period still holds what its open holds held
    assert ledger.sweep_holds(clock.now()).closed_holds == 2
    report = audit()
    assert report.ok, report.violations
    assert report.held_units == 0


def test_a_broken_hold_entry_is_found(ledger: Ledger) -> None:
    ledger.hold(HoldAsk("a", IMAGE, "h1", 10))
    ledger.hold(HoldAsk("a", IMAGE, "h2", 10))
    grant = GrantItem.get(account_key("a"), grant_sort_key(IMAGE))
    grant.update(actions=[GrantItem.held_total.set(GrantItem.held_total + 40)])
    CallItem.get(call_key("h2"), "USAGE").update(actions=[CallItem.status.set("released")])
    violations = audit().violations
    assert any("held_total 60 != 20, its periods" in v for v in violations)
    assert any("unreserved 30 != remaining 50 - held 60" in v for v in violations)
    assert any("held_total 60 outside 0..remaining 50" in v for v in violations)
    assert any("holds 20, its open holds 10" in v for v in violations)
