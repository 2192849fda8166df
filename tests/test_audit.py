"""The audit finds what R11 forbids, and nothing on a ledger the rules wrote."""

from datetime import timedelta

from infra.audit import audit
from tests.support import IMAGE, LANG_30, LANG_90, NO_TRIAL
from trial_ledger import Ledger, SwitchableClock
from trial_ledger.keys import account_key, grant_sort_key, usage_key
from trial_ledger.records import GrantItem, UsageItem


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
