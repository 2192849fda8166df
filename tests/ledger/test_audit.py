"""The audit finds what R11, R16, R17 and R19 forbid, and nothing on a ledger the rules wrote."""

from datetime import timedelta

from pynamodb.expressions.update import Action

from infra.tools.audit import audit
from tests.support import IMAGE, LANG_30, LANG_90, NO_TRIAL
from trial_ledger import ActionAsk, HoldAsk, Ledger, SwitchableClock, UsageAsk
from trial_ledger.dynamo.items import CallItem, GrantItem, ReversalItem, UsageItem
from trial_ledger.dynamo.keys import CALL_SORT_KEY, REVERSAL_SORT_KEY, call_key, grant_key


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
    grant = GrantItem.get(*grant_key("a", LANG_90))
    grant.update(actions=[GrantItem.remaining.set(GrantItem.remaining + 5)])  # quota out of thin air
    violations = audit().violations
    assert any("quota 1000000 != used 10 + remaining 999995" in v for v in violations)


def test_a_lost_usage_record_is_found(ledger: Ledger) -> None:
    ledger.record_usage("a", LANG_90, 10, "r1")
    ledger.record_usage("a", LANG_90, 7, "r2")
    UsageItem.get(call_key("r2"), "USAGE").delete()
    assert any("used 17 != 10" in v for v in audit().violations)


def test_a_usage_record_that_would_not_list_is_found(ledger: Ledger) -> None:
    ledger.record_usage("a", LANG_90, 10, "r1")
    ledger.record_usage("a", LANG_90, 10, "r2")
    ledger.record_usage("a", LANG_90, 10, "r3")
    UsageItem.get(call_key("r1"), "USAGE").update(actions=[UsageItem.usage_account.set("a#16")])  # past 16 shards
    UsageItem.get(call_key("r2"), "USAGE").update(actions=[UsageItem.usage_account.set("b")])  # another account's
    violations = audit().violations
    assert any("usage r1: usage index key 'a#16'" in v for v in violations)
    assert any("usage r2: usage index key 'b'" in v for v in violations)
    assert not any("usage r3" in v for v in violations)


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
    grant = GrantItem.get(*grant_key("a", IMAGE))
    grant.update(actions=[GrantItem.held_total.set(GrantItem.held_total + 40)])
    CallItem.get(call_key("h2"), "USAGE").update(actions=[CallItem.status.set("released")])
    violations = audit().violations
    assert any("held_total 60 != 20, its periods" in v for v in violations)
    assert any("unreserved 30 != remaining 50 - held 60" in v for v in violations)
    assert any("held_total 60 outside 0..remaining 50" in v for v in violations)
    assert any("holds 20, its open holds 10" in v for v in violations)


# -- R17 and R19: reversals and the grants' ledgers ------------------------------------------


def test_a_ledger_with_batches_reversals_and_expiry_is_clean(ledger: Ledger, clock: SwitchableClock) -> None:
    ledger.activate("a")
    ledger.set_postpaid("a", True)
    ledger.record_usage("a", LANG_30, 1, "r0")  # claims the 30-day trial
    ledger.record_usage("a", IMAGE, 30, "r1")
    clock.advance(timedelta(days=25))
    ledger.record_usage_batch([UsageAsk("a", IMAGE, 15, "b1"), UsageAsk("a", IMAGE, 10, "b2"),
                               UsageAsk("a", LANG_30, 100, "b3"), UsageAsk("a", NO_TRIAL, 4, "b4")])  # fmt: skip
    ledger.reverse_usage("b2", "metered twice")  # 5 free, 5 billed: the free units back
    ledger.reverse_usage("b4", "failed")  # billed only: a reversal item, no entry
    ledger.record_usage("a", IMAGE, 20, "r2")  # the returned units drawn again, 15 billed
    clock.advance(timedelta(days=5))  # LANG_30 at its expires_at, not yet expired by the nightly run
    ledger.record_usage("a", LANG_30, 1, "r3")  # billed
    ledger.reverse_usage("b3", "failed")  # its 100 free units recorded as expired at once
    ledger.reverse_usage("r2", "failed")
    ledger.expire_due(clock.now())
    report = audit()
    assert report.ok, report.violations
    assert (report.grants, report.usage_records, report.reversals, report.expiry_entries) == (2, 8, 4, 1)
    # IMAGE: r1, b1, b2, the reversal of b2, r2, the reversal of r2; LANG_30: r0, b3, the
    # reversal of b3, the expiry (the billed-only usages and the reversal of b4 are no entries)
    assert report.ledger_entries == 10


def _entry_fields(item: CallItem) -> list[Action]:
    return [getattr(CallItem, name).remove() for name in
            ("ledger_grant", "ledger_seq", "balance_used", "balance_remaining", "balance_expired")]  # fmt: skip


def _three_usages(ledger: Ledger) -> None:
    """Entries 2, 3, 4 of the image grant (its claim is entry 1)."""
    for request_id, quantity in (("r1", 10), ("r2", 7), ("r3", 3)):
        ledger.record_usage("a", IMAGE, quantity, request_id)
    assert audit().ok


def _usage(request_id: str) -> CallItem:
    return UsageItem.get(call_key(request_id), CALL_SORT_KEY)


def _grant() -> GrantItem:
    return GrantItem.get(*grant_key("a", IMAGE))


def test_a_gap_in_a_grants_ledger_is_found(ledger: Ledger) -> None:
    _three_usages(ledger)
    _usage("r3").update(actions=[CallItem.ledger_seq.set(5)])
    _grant().update(actions=[GrantItem.entries.set(5)])
    assert audit().violations == [f"a/{IMAGE}: entries 4 of 1..5 are missing (a gap)"]


def test_a_duplicate_sequence_number_is_found(ledger: Ledger) -> None:
    _three_usages(ledger)
    _usage("r2").update(actions=[CallItem.ledger_seq.set(2)])
    violations = audit().violations
    assert f"a/{IMAGE}: entry 2 is 2 items (usage r1, usage r2)" in violations
    assert f"a/{IMAGE}: entries 3 of 1..4 are missing (a gap)" in violations


def test_a_broken_chain_is_found(ledger: Ledger) -> None:
    _three_usages(ledger)
    # Entry 3 still keeps the quota, but moves 9 from entry 2 where its usage drew 7.
    _usage("r2").update(actions=[CallItem.balance_used.set(19), CallItem.balance_remaining.set(31)])
    violations = audit().violations
    assert violations == [
        f"a/{IMAGE}: entry 3 (usage r2) moves (9, -9, 0) from entry 2, its usage moves (7, -7, 0) (a broken chain)",
        f"a/{IMAGE}: entry 4 (usage r3) moves (1, -1, 0) from entry 3, its usage moves (3, -3, 0) (a broken chain)",
    ]


def test_an_entry_that_does_not_keep_the_quota_is_found(ledger: Ledger) -> None:
    _three_usages(ledger)
    _usage("r3").update(actions=[CallItem.balance_expired.set(1)])
    assert f"a/{IMAGE}: entry 4 (usage r3) has balances (20, 30, 1), quota 50" in audit().violations


def test_a_last_entry_that_disagrees_with_the_grant_is_found(ledger: Ledger) -> None:
    _three_usages(ledger)
    _grant().update(actions=[GrantItem.used.set(GrantItem.used - 2), GrantItem.remaining.set(GrantItem.remaining + 2)])
    violations = audit().violations
    assert f"a/{IMAGE}: its last entry 4 has balances (20, 30, 0), the grant (18, 32, 0)" in violations
    assert f"a/{IMAGE}: used 18 != 20, the free units of its usage records not reversed" in violations


def test_a_usage_with_free_units_but_no_entry_is_found(ledger: Ledger) -> None:
    _three_usages(ledger)
    _usage("r3").update(actions=_entry_fields(_usage("r3")))
    _grant().update(actions=[GrantItem.entries.set(3)])
    violations = audit().violations
    assert f"a/{IMAGE}: usage r3 moves (3, -3, 0) but is no entry of its ledger" in violations
    assert f"a/{IMAGE}: its last entry 3 has balances (17, 33, 0), the grant (20, 30, 0)" in violations


def test_a_usage_without_free_units_is_no_entry(ledger: Ledger, activated: str) -> None:
    ledger.set_postpaid(activated, True)
    ledger.record_usage(activated, IMAGE, 50, "r1")
    ledger.record_usage(activated, IMAGE, 5, "r2")  # billed only
    _usage("r2").update(actions=[CallItem.ledger_grant.set(f"{activated}#{IMAGE}"), CallItem.ledger_seq.set(3),
                                 CallItem.balance_used.set(50), CallItem.balance_remaining.set(0),
                                 CallItem.balance_expired.set(0)])  # fmt: skip
    violations = audit().violations
    assert f"{activated}/{IMAGE}: usage r2 moves no balance but is entry 3" in violations


def test_a_reversal_item_without_its_mark_is_found(ledger: Ledger) -> None:
    _three_usages(ledger)
    ledger.reverse_usage("r2", "failed")
    assert audit().ok
    _usage("r2").update(actions=[CallItem.reversed_at.remove(), CallItem.reversal_reason.remove(),
                                 CallItem.free_returned.remove(), CallItem.free_expired.remove()])  # fmt: skip
    violations = audit().violations
    assert "reversal r2: its usage record is not marked reversed (or is missing)" in violations
    assert f"a/{IMAGE}: used 20 != 13, the free units of its usage records not reversed" not in violations
    assert f"a/{IMAGE}: used 13 != 20, the free units of its usage records not reversed" in violations


def test_a_reversal_mark_without_its_item_is_found(ledger: Ledger) -> None:
    _three_usages(ledger)
    ledger.reverse_usage("r2", "failed")
    ReversalItem.get(call_key("r2"), REVERSAL_SORT_KEY).delete()
    violations = audit().violations
    assert "usage r2: reversed, without its reversal item" in violations
    assert f"a/{IMAGE}: entries 5 of 1..5 are missing (a gap)" in violations


def test_a_grant_of_before_the_ledger_is_clean(ledger: Ledger, clock: SwitchableClock) -> None:
    """A grant written before v3 has no ``entries`` and its usages are no entries (docs/ledger.md):
    they open its ledger; the first entry written to it is entry 2, on what they left."""
    _three_usages(ledger)
    for request_id in ("r1", "r2", "r3"):
        _usage(request_id).update(actions=_entry_fields(_usage(request_id)))
    _grant().update(actions=[GrantItem.entries.remove()])
    report = audit()
    assert report.ok, report.violations
    assert report.ledger_entries == 0
    clock.advance(timedelta(seconds=1))
    ledger.record_usage("a", IMAGE, 4, "r4")
    ledger.reverse_usage("r1", "failed")
    report = audit()
    assert report.ok, report.violations
    assert report.ledger_entries == 2


def test_a_ledger_with_operator_actions_is_clean(ledger: Ledger, clock: SwitchableClock) -> None:
    """R18's entries: an extension (no balance moved) and a void (the remainder expired), beside
    usage, a reversal on the voided grant and a hold its void ended."""
    ledger.record_usage("a", LANG_90, 300, "r1")
    ledger.hold(HoldAsk("a", LANG_90, "h1", 50))
    ledger.extend_grant(ActionAsk("act-1", "a", LANG_90, "ops", "t"), clock.now() + timedelta(days=120))
    ledger.void_grant(ActionAsk("act-2", "a", LANG_90, "ops", "t"))
    ledger.reverse_usage("r1", "failed")
    ledger.record_usage("a", IMAGE, 50, "r2")
    ledger.void_grant(ActionAsk("act-3", "a", IMAGE, "ops", "t"))  # an exhausted grant: expires nothing
    report = audit()
    assert report.ok, report.violations
