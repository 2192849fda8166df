"""Recording usage: free first (R6), exact money (R10), idempotency by request_id, one request
on the hot path, and the condition paths that keep concurrent writers exact."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.support import IMAGE, LANG_30, LANG_90, MILLION, NO_TRIAL, START, DynamoCalls
from trial_ledger import InvalidRequest, Ledger, RequestIdConflict, SwitchableClock, UnknownModel
from trial_ledger.domain.rules import usage_fingerprint
from trial_ledger.domain.state import UsageRecord
from trial_ledger.domain.writes import CallWrite, GrantDraw, UsageCommit
from trial_ledger.dynamo.store import LedgerStore


def test_usage_draws_free_quota_first(ledger: Ledger, activated: str) -> None:
    ledger.claim(activated, [LANG_90])
    result = ledger.record_usage(activated, LANG_90, 1234, "r1")
    assert (result.free, result.billable, result.unbilled_overage) == (1234, 0, 0)
    assert result.free_remaining == MILLION - 1234
    assert (result.currency, result.charge) == ("CNY", Decimal(0))
    assert result.replayed is False


def test_split_is_billable_with_postpaid(ledger: Ledger, activated: str) -> None:
    ledger.set_postpaid(activated, True)
    result = ledger.record_usage(activated, IMAGE, 53, "r1")
    assert (result.free, result.billable, result.unbilled_overage, result.free_remaining) == (50, 3, 0, 0)
    assert result.charge == Decimal("0.6")  # 3 images x 0.2, exact


def test_split_is_unbilled_overage_without_postpaid(ledger: Ledger) -> None:
    result = ledger.record_usage("a", IMAGE, 53, "r1")
    assert (result.free, result.billable, result.unbilled_overage) == (50, 0, 3)
    assert result.charge == Decimal(0)


def test_charge_is_exact_for_tiny_unit_prices(ledger: Ledger, activated: str) -> None:
    ledger.set_postpaid(activated, True)
    result = ledger.record_usage(activated, NO_TRIAL, 999_999_999, "r1")
    assert result.charge == Decimal("15999.999984")  # 999,999,999 x 0.000016
    assert isinstance(result.charge, Decimal)


def test_usage_is_never_dropped_when_nothing_is_free(ledger: Ledger) -> None:
    result = ledger.record_usage("a", NO_TRIAL, 10, "r1")
    assert (result.free, result.billable, result.unbilled_overage, result.free_remaining) == (0, 0, 10, 0)
    assert [item.request_id for item in ledger.usage("a").items] == ["r1"]


def test_first_usage_claims_automatically(ledger: Ledger) -> None:
    result = ledger.record_usage("a", LANG_90, 100, "r1")
    assert result.auto_claimed is True
    [grant] = ledger.grants("a")
    assert (grant.used, grant.remaining) == (100, MILLION - 100)
    assert ledger.record_usage("a", LANG_90, 100, "r2").auto_claimed is False


def test_replay_returns_first_result_and_changes_nothing(
    ledger: Ledger, activated: str, clock: SwitchableClock
) -> None:
    first = ledger.record_usage(activated, LANG_90, 500, "r1", sub_account_id="k")
    ledger.record_usage(activated, LANG_90, 100, "r2")
    clock.advance(timedelta(days=10))
    again = ledger.record_usage(activated, LANG_90, 500, "r1", sub_account_id="k")
    assert again == replace(first, replayed=True)
    assert ledger.grants(activated)[0].used == 600


def test_replay_survives_the_grant_expiring(ledger: Ledger, clock: SwitchableClock) -> None:
    first = ledger.record_usage("a", LANG_30, 5, "r1")
    clock.advance(timedelta(days=31))
    ledger.expire_due(clock.now())
    assert ledger.record_usage("a", LANG_30, 5, "r1") == replace(first, replayed=True)


@pytest.mark.parametrize(
    "change",
    [
        {"quantity": 501},
        {"model_id": IMAGE},
        {"account_id": "someone-else"},
        {"sub_account_id": "other-key"},
    ],
)
def test_same_request_id_with_a_different_body_conflicts(ledger: Ledger, change: dict[str, object]) -> None:
    body: dict[str, object] = {"account_id": "a", "model_id": LANG_90, "quantity": 500, "sub_account_id": "k"}
    ledger.record_usage(request_id="r1", **body)  # type: ignore[arg-type]
    with pytest.raises(RequestIdConflict):
        ledger.record_usage(request_id="r1", **(body | change))  # type: ignore[arg-type]
    assert ledger.grants("a")[0].used == 500


def test_hot_path_is_one_request(ledger: Ledger, activated: str, dynamo_calls: DynamoCalls) -> None:
    ledger.authorize(activated, LANG_90)
    dynamo_calls.reset()
    ledger.record_usage(activated, LANG_90, 10, "r1")
    ledger.record_usage(activated, LANG_90, 10, "r2")
    assert dynamo_calls.operations == ["TransactWriteItems", "TransactWriteItems"]


def test_replay_is_one_request(ledger: Ledger, dynamo_calls: DynamoCalls) -> None:
    ledger.record_usage("a", LANG_90, 10, "r1")
    dynamo_calls.reset()
    assert ledger.record_usage("a", LANG_90, 10, "r1").replayed is True
    assert dynamo_calls.operations == ["TransactWriteItems"]


def test_stale_snapshot_is_corrected_by_the_refusal_without_a_read(
    ledger: Ledger, store: LedgerStore, dynamo_calls: DynamoCalls
) -> None:
    """Another container drew from the grant after this one last saw it."""
    ledger.record_usage("a", LANG_90, 10, "r1")
    other_container = Ledger(store=store, catalog=ledger.catalog, clock=ledger.clock)
    other_container.record_usage("a", LANG_90, 1000, "r2")
    dynamo_calls.reset()
    result = ledger.record_usage("a", LANG_90, 10, "r3")
    assert result.free_remaining == MILLION - 1020
    assert dynamo_calls.operations == ["TransactWriteItems", "TransactWriteItems"]
    assert ledger.grants("a")[0].used == 1020


def test_concurrent_draw_cannot_overspend(ledger: Ledger, store: LedgerStore, clock: SwitchableClock) -> None:
    """Stage the race: a rival takes 40 of 50 images after we planned on 50 remaining."""
    ledger.record_usage("a", IMAGE, 0 + 1, "seed")  # 49 left, and this container knows it
    now = ledger.grants("a")[0]
    rival = UsageRecord("rival", "a", IMAGE, None, 40, 40, 0, 0, "CNY", "0.2", "0", 9, False,
                        "2026-03-01T08:00:00.000Z", "x", "w")  # fmt: skip
    store.commit_usage(
        UsageCommit(CallWrite(rival), draw=GrantDraw(IMAGE, now.remaining, 40, "2026-03-01T08:00:00.000Z"))
    )
    result = ledger.record_usage("a", IMAGE, 20, "mine")
    assert (result.free, result.unbilled_overage, result.free_remaining) == (9, 11, 0)
    [grant] = ledger.grants("a")
    assert (grant.used, grant.remaining, grant.status.value) == (50, 0, "exhausted")


def test_postpaid_switched_elsewhere_is_respected(ledger: Ledger, activated: str, store: LedgerStore) -> None:
    ledger.record_usage(activated, IMAGE, 50, "r1")
    store.set_postpaid(activated, True, "2026-03-01T08:00:00.000Z")  # another container's console call
    result = ledger.record_usage(activated, IMAGE, 4, "r2")
    assert (result.billable, result.unbilled_overage, result.charge) == (4, 0, Decimal("0.8"))


def test_usage_after_expiry_is_not_free(ledger: Ledger, clock: SwitchableClock) -> None:
    ledger.record_usage("a", LANG_30, 10, "r1")
    clock.advance(timedelta(days=30))
    result = ledger.record_usage("a", LANG_30, 10, "r2")
    assert (result.free, result.unbilled_overage, result.free_remaining) == (0, 10, 0)
    [grant] = ledger.grants("a")
    assert (grant.used, grant.status.value, grant.remaining, grant.expired) == (10, "expired", 0, MILLION - 10)


def test_exact_exhaustion_leaves_the_expiry_index(ledger: Ledger, dynamodb: object) -> None:
    ledger.record_usage("a", IMAGE, 50, "r1")
    item = dynamodb.get_item(  # type: ignore[attr-defined]
        TableName="trial-quota-test", Key={"PK": {"S": f"GRANT#a#{IMAGE}"}, "SK": {"S": "GRANT"}}
    )["Item"]
    assert "expiry_shard" not in item
    assert item["remaining"] == {"N": "0"}


@pytest.mark.parametrize("quantity", [0, -1, 1_000_000_001, True, 1.5, "10"])
def test_quantity_must_be_a_positive_integer(ledger: Ledger, quantity: object) -> None:
    with pytest.raises(InvalidRequest) as refused:
        ledger.record_usage("a", LANG_90, quantity, "r1")  # type: ignore[arg-type]
    assert refused.value.field == "quantity"
    assert ledger.grants("a") == []


def test_largest_quantity_is_accepted(ledger: Ledger) -> None:
    result = ledger.record_usage("a", LANG_90, 1_000_000_000, "r1")
    assert (result.free, result.unbilled_overage) == (MILLION, 999_000_000)


def test_unknown_model_writes_nothing(ledger: Ledger) -> None:
    with pytest.raises(UnknownModel):
        ledger.record_usage("a", "nope", 1, "r1")
    assert ledger.usage("a").items == []


def _rival_draws_before_each_commit(store: LedgerStore, times: int, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Stage contention: before each of our next ``times`` commits, another writer draws 10."""
    original = store.commit_usage
    seen: list[str] = []

    def contended(commit: UsageCommit) -> None:
        seen.append("exact" if commit.draw is None or commit.draw.exact else "relaxed")
        if len(seen) <= times:
            other = Ledger(store=LedgerStore(), clock=SwitchableClock(frozen_at=START))
            other.record_usage("a", LANG_90, 10, f"rival-{len(seen)}")
        original(commit)

    monkeypatch.setattr(store, "commit_usage", contended)
    return seen


def test_contended_draw_relaxes_and_settles_exactly(
    ledger: Ledger, store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.record_usage("a", LANG_90, 100, "first")
    attempts = _rival_draws_before_each_commit(store, 3, monkeypatch)
    result = ledger.record_usage("a", LANG_90, 5, "mine")
    # Relaxed, a draw stops insisting on the holds, never on the ledger's last entry (R19): each
    # rival draw is an entry before ours, so the third rival still refuses the relaxed attempt.
    assert attempts == ["exact", "exact", "relaxed", "relaxed"]
    assert result.free == 5
    assert result.free_remaining == MILLION - 100 - 30 - 5  # settled from the grant after the write
    assert ledger.record_usage("a", LANG_90, 5, "mine") == replace(result, replayed=True)
    assert ledger.grants("a")[0].used == 135


def test_contended_draw_that_would_empty_the_grant_stays_exact(
    ledger: Ledger, store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.record_usage("a", IMAGE, 20, "first")  # 30 left
    original = store.commit_usage
    seen: list[bool] = []

    def contended(commit: UsageCommit) -> None:
        seen.append(commit.draw.exact if commit.draw else True)
        if len(seen) <= 2:
            other = Ledger(store=LedgerStore(), clock=SwitchableClock(frozen_at=START))
            other.record_usage("a", IMAGE, 5, f"rival-{len(seen)}")
        original(commit)

    monkeypatch.setattr(store, "commit_usage", contended)
    result = ledger.record_usage("a", IMAGE, 25, "mine")  # 20 left when it lands: takes them all
    assert seen == [True, True, True]
    assert (result.free, result.unbilled_overage, result.free_remaining) == (20, 5, 0)


def test_an_unsettled_record_is_settled_by_its_replay(ledger: Ledger, store: LedgerStore) -> None:
    """The writer committed a relaxed draw and died before settling free_remaining."""
    ledger.record_usage("a", LANG_90, 100, "first")
    crashed = UsageRecord("lost", "a", LANG_90, None, 7, 7, 0, 0, "CNY", "0.0000024", "0", None, False,
                          "2026-03-01T08:00:00.000Z", usage_fingerprint("a", LANG_90, 7, None), "w-lost")  # fmt: skip
    store.commit_usage(
        UsageCommit(CallWrite(crashed), draw=GrantDraw(LANG_90, 0, 7, "2026-03-01T08:00:00.000Z", exact=False))
    )
    assert ledger.usage("a").items[0].free_remaining is None
    replayed = ledger.record_usage("a", LANG_90, 7, "lost")
    assert (replayed.replayed, replayed.free, replayed.free_remaining) == (True, 7, MILLION - 107)
    assert ledger.usage("a").items[0].free_remaining == MILLION - 107


def test_a_relaxed_draw_that_empties_the_grant_leaves_the_expiry_index(
    ledger: Ledger, store: LedgerStore, dynamodb: object
) -> None:
    ledger.record_usage("a", IMAGE, 10, "first")  # 40 left; this container believes so
    rival = UsageRecord("rival", "a", IMAGE, None, 30, 30, 0, 0, "CNY", "0.2", "0", 10, False,
                        "2026-03-01T08:00:00.000Z", usage_fingerprint("a", IMAGE, 30, None), "w-rival")  # fmt: skip
    store.commit_usage(UsageCommit(CallWrite(rival), draw=GrantDraw(IMAGE, 40, 30, "2026-03-01T08:00:00.000Z")))
    crashed = UsageRecord("mine", "a", IMAGE, None, 10, 10, 0, 0, "CNY", "0.2", "0", None, False,
                          "2026-03-01T08:00:00.000Z", usage_fingerprint("a", IMAGE, 10, None), "w-mine")  # fmt: skip
    store.commit_usage(
        UsageCommit(CallWrite(crashed), draw=GrantDraw(IMAGE, 40, 10, "2026-03-01T08:00:00.000Z", exact=False))
    )
    key = {"PK": {"S": f"GRANT#a#{IMAGE}"}, "SK": {"S": "GRANT"}}
    assert "expiry_shard" in dynamodb.get_item(TableName="trial-quota-test", Key=key)["Item"]  # type: ignore[attr-defined]
    replayed = ledger.record_usage("a", IMAGE, 10, "mine")  # the writer died; its replay settles
    assert (replayed.free, replayed.free_remaining) == (10, 0)
    item = dynamodb.get_item(TableName="trial-quota-test", Key=key)["Item"]  # type: ignore[attr-defined]
    assert (item["remaining"], "expiry_shard" in item) == ({"N": "0"}, False)
