"""The events of a committed change, derived from the item's old and new images (pure functions)."""

import uuid
from decimal import Decimal
from typing import Any

import pytest

from trial_ledger.events.derivation import DetailType, LedgerEvent, derive_events, event_id

COMMITTED = "2026-03-02T10:00:00.000Z"
THRESHOLDS = (80, 95)


def grant(used: int, remaining: int, expired: int = 0, quota: int = 1000, **extra: Any) -> dict[str, Any]:
    """A grant image as the stream carries it (numbers as Decimal, as boto3 deserializes them)."""
    return {
        "PK": "ACCOUNT#acct-1", "SK": "GRANT#m-1", "item_type": "grant", "account_id": "acct-1",
        "model_id": "m-1", "unit": "tokens", "quota": Decimal(quota), "used": Decimal(used),
        "remaining": Decimal(remaining), "expired": Decimal(expired), "claim_method": "manual",
        "claimed_at": "2026-03-01T08:00:00.000Z", "expires_at": "2026-05-30T08:00:00.000Z",
    } | extra  # fmt: skip


def usage(billable: int, request_id: str = "req-1", **extra: Any) -> dict[str, Any]:
    return {
        "PK": f"USAGE#{request_id}", "SK": "USAGE", "item_type": "usage", "request_id": request_id,
        "account_id": "acct-1", "model_id": "m-1", "sub_account_id": "sub-9", "quantity": Decimal(120),
        "free": Decimal(120 - billable), "billable": Decimal(billable), "unbilled_overage": Decimal(0),
        "currency": "CNY", "unit_price": "0.2", "charge": "0.8" if billable else "0",
        "recorded_at": "2026-03-02T09:59:59.123Z",
    } | extra  # fmt: skip


def derive(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[LedgerEvent]:
    return derive_events(old, new, THRESHOLDS, COMMITTED)


def kinds(events: list[LedgerEvent]) -> list[str]:
    return [event.detail_type.value for event in events]


@pytest.mark.parametrize("method", ["manual", "auto"])
def test_a_new_grant_is_claimed(method: str) -> None:
    [claimed] = derive(None, grant(0, 1000, claim_method=method))
    assert claimed.detail_type is DetailType.TRIAL_CLAIMED
    assert claimed.detail == {
        "event_id": event_id(DetailType.TRIAL_CLAIMED, "acct-1", "m-1"),
        "account_id": "acct-1", "model_id": "m-1", "occurred_at": "2026-03-01T08:00:00.000Z",
        "claim_method": method, "quota": 1000, "unit": "tokens",
        "claimed_at": "2026-03-01T08:00:00.000Z", "expires_at": "2026-05-30T08:00:00.000Z",
    }  # fmt: skip


def test_the_same_fact_has_the_same_id_and_other_facts_other_ids() -> None:
    ids = {
        event_id(DetailType.TRIAL_CLAIMED, "acct-1", "m-1"),
        event_id(DetailType.TRIAL_CLAIMED, "acct-1", "m-2"),
        event_id(DetailType.TRIAL_CLAIMED, "acct-2", "m-1"),
        event_id(DetailType.TRIAL_BALANCE_LOW, "acct-1", "m-1", "80"),
        event_id(DetailType.TRIAL_BALANCE_LOW, "acct-1", "m-1", "95"),
        event_id(DetailType.TRIAL_EXHAUSTED, "acct-1", "m-1"),
    }
    assert len(ids) == 6
    assert derive(None, grant(0, 1000))[0].event_id == derive(None, grant(0, 1000))[0].event_id
    # The documented formula (docs/events.md), so that consumers may compute an id themselves.
    documented = uuid.uuid5(uuid.UUID("7f3c2a4e-9d1b-5e8f-a6c0-2b4d6e8f0a1c"), "UsageBillable#req-1")
    assert event_id(DetailType.USAGE_BILLABLE, "req-1") == str(documented) == "8745e9c8-87f3-577a-9136-8bbd604618bd"


@pytest.mark.parametrize(
    ("used_before", "used_after", "crossed"),
    [
        (0, 799, []),
        (0, 800, [80]),  # reaching the threshold exactly is crossing it
        (799, 800, [80]),
        (800, 900, []),  # already past 80: once per threshold
        (900, 950, [95]),
        (949, 999, [95]),
        (950, 999, []),
        (700, 960, [80, 95]),  # one usage crossing two thresholds
    ],
)
def test_balance_low_once_per_threshold_crossed(used_before: int, used_after: int, crossed: list[int]) -> None:
    events = derive(grant(used_before, 1000 - used_before), grant(used_after, 1000 - used_after))
    assert [event.detail["threshold_percent"] for event in events] == crossed
    for event, threshold in zip(events, crossed, strict=True):
        assert event.detail_type is DetailType.TRIAL_BALANCE_LOW
        assert event.event_id == event_id(DetailType.TRIAL_BALANCE_LOW, "acct-1", "m-1", str(threshold))
        assert (event.detail["used"], event.detail["remaining"], event.detail["quota"]) == (
            used_after, 1000 - used_after, 1000,
        )  # fmt: skip
        assert event.occurred_at == COMMITTED


def test_a_grant_that_carries_its_accounts_thresholds_is_judged_by_them_not_the_deploys() -> None:
    """R20: the thresholds travel on the grant; the new image's are those of this change."""
    own: dict[str, Any] = {"alert_thresholds": [Decimal(90), Decimal(50)]}
    events = derive(grant(400, 600, **own), grant(960, 40, **own))
    assert [event.detail["threshold_percent"] for event in events] == [50, 90]
    # 80 is the deploy's, not this account's: reaching it publishes nothing of it
    assert [e.detail["threshold_percent"] for e in derive(grant(0, 1000, **own), grant(800, 200, **own))] == [50]
    # set while the grant was at 60%: no usage brings it to 50 any more (crossings, not levels)
    assert derive(grant(600, 400), grant(700, 300, **own)) == []
    assert [e.detail["threshold_percent"] for e in derive(grant(600, 400), grant(950, 50, **own))] == [90]


def test_thresholds_are_exact_on_quotas_that_do_not_divide() -> None:
    # 80% of 7 is 5.6: 5 used is below, 6 is past.
    assert derive(grant(4, 3, quota=7), grant(5, 2, quota=7)) == []
    assert kinds(derive(grant(5, 2, quota=7), grant(6, 1, quota=7))) == ["TrialBalanceLow"]


def test_exhaustion_by_usage_crosses_what_it_passes_then_exhausts() -> None:
    events = derive(grant(100, 900), grant(1000, 0))
    assert kinds(events) == ["TrialBalanceLow", "TrialBalanceLow", "TrialExhausted"]
    exhausted = events[-1]
    assert exhausted.detail == {
        "event_id": event_id(DetailType.TRIAL_EXHAUSTED, "acct-1", "m-1"), "account_id": "acct-1",
        "model_id": "m-1", "occurred_at": COMMITTED, "used": 1000, "quota": 1000,
    }  # fmt: skip


def test_exhaustion_by_a_relaxed_draw_counts_its_new_image() -> None:
    # A relaxed draw writes remaining = remaining - free without knowing the result; the stream
    # carries the committed image, which says 0; the expiry index still holds the grant.
    old = grant(960, 40, expiry_shard="07")
    assert kinds(derive(old, grant(1000, 0, expiry_shard="07"))) == ["TrialExhausted"]
    # The settle after it (a replay or the writer itself) drops it from the index: nothing new.
    assert derive(grant(1000, 0, expiry_shard="07"), grant(1000, 0)) == []


def test_an_auto_claim_that_carries_its_first_draw() -> None:
    events = derive(None, grant(1000, 0, claim_method="auto"))
    assert kinds(events) == ["TrialClaimed", "TrialBalanceLow", "TrialBalanceLow", "TrialExhausted"]


def test_nightly_expiry_is_expired_not_exhausted() -> None:
    old = grant(300, 700)
    new = grant(300, 0, expired=700, expired_recorded_at="2027-03-02T00:10:00.000Z")
    [expired] = derive(old, new)
    assert expired.detail == {
        "event_id": event_id(DetailType.TRIAL_EXPIRED, "acct-1", "m-1"), "account_id": "acct-1",
        "model_id": "m-1", "occurred_at": "2027-03-02T00:10:00.000Z", "expired_quantity": 700,
        "used": 300, "quota": 1000,
    }  # fmt: skip


def test_expiring_soon_when_the_nightly_run_marks_the_grant_once() -> None:
    marked = grant(300, 700, expiring_soon_notified_at="2026-05-23T16:10:00.000Z")
    [soon] = derive(grant(300, 700), marked)
    assert soon.detail_type is DetailType.TRIAL_EXPIRING_SOON
    assert (soon.detail["remaining"], soon.detail["expires_at"]) == (700, "2026-05-30T08:00:00.000Z")
    assert soon.occurred_at == "2026-05-23T16:10:00.000Z"
    # Later changes of a marked grant do not announce it again.
    assert derive(marked, grant(310, 690, expiring_soon_notified_at="2026-05-23T16:10:00.000Z")) == []


def test_billable_usage_is_the_billing_feed() -> None:
    [billable] = derive(None, usage(billable=4))
    assert billable.detail == {
        "event_id": event_id(DetailType.USAGE_BILLABLE, "req-1"), "account_id": "acct-1", "model_id": "m-1",
        "occurred_at": "2026-03-02T09:59:59.123Z", "request_id": "req-1", "sub_account_id": "sub-9",
        "quantity": 120, "billable": 4, "charge": {"currency": "CNY", "amount": "0.8"},
        "recorded_at": "2026-03-02T09:59:59.123Z",
    }  # fmt: skip
    assert derive(None, usage(billable=0)) == []  # free, or unbilled overage: not billed


def test_replays_settles_and_removals_publish_nothing() -> None:
    record = usage(billable=4)
    assert derive(record, record | {"free_remaining": Decimal(0)}) == []  # the settle of a relaxed draw
    assert derive(record, None) == []
    assert derive(grant(300, 700), grant(300, 700)) == []  # a rewrite that changes no balance
    assert derive(grant(300, 700), None) == []


def test_unknown_item_types_and_attributes_are_ignored() -> None:
    hold = {"PK": "ACCOUNT#acct-1", "SK": "HOLD#req-1", "item_type": "hold", "held": Decimal(50)}
    assert derive(None, hold) == []
    assert derive(None, {"PK": "X", "SK": "Y"}) == []
    assert derive(None, {"item_type": "profile", "account_id": "acct-1", "postpaid_enabled": True}) == []
    assert derive(None, {"item_type": "expiry", "account_id": "acct-1", "model_id": "m-1"}) == []
    # A hold on the grant moves no balance the events read: nothing, whatever it adds.
    assert derive(grant(300, 700), grant(300, 700, held_units=Decimal(50), held_total=Decimal(50))) == []


def reversal(free_returned: int = 120, free_expired: int = 0, billable: int = 4) -> dict[str, Any]:
    return {
        "PK": "USAGE#req-1", "SK": "REVERSAL", "item_type": "reversal", "request_id": "req-1",
        "account_id": "acct-1", "model_id": "m-1", "reason": "failed after metering",
        "recorded_at": "2026-03-03T10:00:00.000Z", "free_returned": Decimal(free_returned),
        "free_expired": Decimal(free_expired), "billable": Decimal(billable), "currency": "CNY", "charge": "0.8",
    }  # fmt: skip


def test_a_reversal_is_the_credit_once() -> None:
    [reversed_event] = derive(None, reversal())
    assert reversed_event.detail == {
        "event_id": event_id(DetailType.USAGE_REVERSED, "req-1"), "account_id": "acct-1", "model_id": "m-1",
        "occurred_at": "2026-03-03T10:00:00.000Z", "request_id": "req-1", "reason": "failed after metering",
        "free_returned": 120, "free_expired": 0, "billable": 4, "charge": {"currency": "CNY", "amount": "0.8"},
    }  # fmt: skip
    assert derive(reversal(), reversal()) == []  # a redelivered or later change of it: nothing new


def test_balance_events_stay_once_per_grant_after_a_reversal() -> None:
    """A reversal lowers ``used`` and keeps the peak: climbing back publishes nothing again."""
    assert kinds(derive(grant(900, 100), grant(1000, 0))) == ["TrialBalanceLow", "TrialExhausted"]
    reversed_grant = grant(700, 300, peak_used=Decimal(1000))
    assert derive(grant(1000, 0), reversed_grant) == []
    assert derive(reversed_grant, grant(1000, 0, peak_used=Decimal(1000))) == []
    assert derive(reversed_grant, grant(960, 40, peak_used=Decimal(1000))) == []


def test_a_usage_past_the_peak_still_crosses_what_it_passes() -> None:
    lowered = grant(700, 300, peak_used=Decimal(850))  # crossed 80 before the reversal
    assert [event.detail["threshold_percent"] for event in derive(lowered, grant(960, 40, peak_used=Decimal(850)))] == [
        95
    ]
    assert kinds(derive(grant(960, 40, peak_used=Decimal(850)), grant(1000, 0, peak_used=Decimal(850)))) == [
        "TrialExhausted"
    ]


def test_a_reversal_on_an_expired_grant_is_not_a_second_expiry() -> None:
    expired = grant(100, 0, 900, expired_recorded_at="2026-05-30T16:10:00.000Z")
    assert derive(expired, grant(40, 0, 960, expired_recorded_at="2026-05-30T16:10:00.000Z")) == []
    assert derive(grant(100, 0, 0), grant(40, 0, 60)) == []  # before the nightly run: its expiry is still to come


def action(kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "PK": "ACTION#act-1", "SK": "ACTION", "item_type": "action", "action_id": "act-1", "action_kind": kind,
        "account_id": "acct-1", "model_id": "m-1", "actor": "support:alice", "reason": "ticket 4711",
        "recorded_at": "2026-03-03T10:00:00.000Z", "previous_expires_at": "2026-05-30T08:00:00.000Z",
        "new_expires_at": "2026-06-30T08:00:00.000Z", "quantity": Decimal(0), "balance_used": Decimal(300),
        "balance_remaining": Decimal(700), "balance_expired": Decimal(0),
    } | extra  # fmt: skip


def test_an_extension_is_trial_extended_once_per_action() -> None:
    [extended] = derive(None, action("extension"))
    assert extended.detail == {
        "event_id": event_id(DetailType.TRIAL_EXTENDED, "acct-1", "m-1", "act-1"), "account_id": "acct-1",
        "model_id": "m-1", "occurred_at": "2026-03-03T10:00:00.000Z", "action_id": "act-1",
        "actor": "support:alice", "reason": "ticket 4711", "previous_expires_at": "2026-05-30T08:00:00.000Z",
        "expires_at": "2026-06-30T08:00:00.000Z"}  # fmt: skip
    assert derive(action("extension"), action("extension")) == []


def test_a_void_is_trial_voided_with_what_it_expired() -> None:
    voided_item = action("void", quantity=Decimal(700), balance_remaining=Decimal(0), balance_expired=Decimal(700))
    [voided] = derive(None, voided_item)
    assert voided.detail == {
        "event_id": event_id(DetailType.TRIAL_VOIDED, "acct-1", "m-1"), "account_id": "acct-1", "model_id": "m-1",
        "occurred_at": "2026-03-03T10:00:00.000Z", "action_id": "act-1", "actor": "support:alice",
        "reason": "ticket 4711", "expired_quantity": 700, "used": 300, "quota": 1000}  # fmt: skip
    # The grant's own change (its remainder to expired, no expiry mark) publishes no TrialExpired.
    assert derive(grant(300, 700), grant(300, 0, 700, voided_at="2026-03-03T10:00:00.000Z")) == []
