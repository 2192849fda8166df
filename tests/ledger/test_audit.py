"""The audit finds what R11 forbids, and nothing on a ledger the rules wrote."""

from datetime import timedelta

from infra.tools.audit import audit
from tests.support import IMAGE, LANG_30, LANG_90, NO_TRIAL
from trial_ledger import HoldAsk, Ledger, SwitchableClock
from trial_ledger.dynamo.items import GrantItem, HoldItem, UsageItem
from trial_ledger.dynamo.keys import account_key, grant_sort_key, hold_key, usage_key


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
    UsageItem.get(usage_key("r2"), "USAGE").delete()
    assert any("used 17 != 10" in v for v in audit().violations)


def test_a_ledger_with_holds_in_every_state_is_clean(ledger: Ledger, clock: SwitchableClock) -> None:
    for rid, estimate in (("open", 10), ("settled", 10), ("released", 5), ("late", 5), ("dead", 5)):
        ledger.hold(HoldAsk("a", IMAGE, rid, estimate, ttl_seconds=60 if rid in ("late", "dead") else 900))
    ledger.record_usage("a", IMAGE, 4, "settled")
    ledger.release_hold("released")
    clock.advance(timedelta(seconds=60))
    # Plain usage: its exact write removes the timed-out entries ("late", "dead"); their items
    # stay open until the sweep closes them, and an open item without an entry is fine.
    ledger.record_usage("a", IMAGE, 2, "late")
    report = audit()
    assert report.ok, report.violations
    assert (report.holds, report.held_units) == (5, 10)
    assert ledger.sweep_holds(clock.now()).closed_holds == 2
    assert audit().ok


def test_a_broken_hold_entry_is_found(ledger: Ledger) -> None:
    ledger.hold(HoldAsk("a", IMAGE, "h1", 10))
    ledger.hold(HoldAsk("a", IMAGE, "h2", 10))
    grant = GrantItem.get(account_key("a"), grant_sort_key(IMAGE))
    grant.update(actions=[GrantItem.held_total.set(GrantItem.held_total + 40)])
    HoldItem.get(hold_key("h2"), "HOLD").update(actions=[HoldItem.status.set("released")])
    violations = audit().violations
    assert any("held_total 60 != 20, its entries" in v for v in violations)
    assert any("unreserved 30 != remaining 50 - held 60" in v for v in violations)
    assert any("held_total 60 outside 0..remaining 50" in v for v in violations)
    assert any("entry h2 (10) has no open hold of those units" in v for v in violations)
