"""Batched usage at the ledger (contract section 7): in order, as if one by one, each record once,
one grant write per transaction, and the condition paths of a batch that meets other writers."""

from datetime import timedelta

import pytest

from infra.tools.audit import audit
from tests.support import IMAGE, LANG_30, LANG_90, LANG_90_B, MILLION, NO_TRIAL, DynamoCalls
from tests.support.batches import one_by_one, renamed, without_ids
from trial_ledger import (
    HoldAsk,
    HoldStatus,
    Ledger,
    RecordOutcome,
    RecordRefusal,
    SwitchableClock,
    TemporarilyUnavailable,
    UsageAsk,
    UsageResult,
)
from trial_ledger.domain.refusals import Contended
from trial_ledger.domain.writes import BatchCommit
from trial_ledger.dynamo.store import LedgerStore
from trial_ledger.retry import Backoff


def results(outcomes: list[RecordOutcome]) -> list[UsageResult]:
    assert all(isinstance(outcome, UsageResult) for outcome in outcomes), outcomes
    return [outcome for outcome in outcomes if isinstance(outcome, UsageResult)]


def assert_same_as_one_by_one(ledger: Ledger, asks: list[UsageAsk]) -> list[RecordOutcome]:
    """Account "batch" gets the records as a batch, account "single" one by one: same answers,
    same grants afterwards."""
    batched = ledger.record_usage_batch(renamed(asks, "batch", "b-"))
    single = one_by_one(ledger, renamed(asks, "single", "s-"))
    assert [without_ids(o, "b-") for o in batched] == [without_ids(o, "s-") for o in single]
    balances = {acct: [(g.model_id, g.used, g.remaining) for g in ledger.grants(acct)] for acct in ("batch", "single")}
    assert balances["batch"] == balances["single"]
    assert audit().ok
    return batched


def test_free_first_across_the_batch(ledger: Ledger) -> None:
    asks = [UsageAsk("-", IMAGE, 30, f"r{n}") for n in range(3)]
    [first, second, third] = results(assert_same_as_one_by_one(ledger, asks))
    assert (first.free, first.free_remaining, first.auto_claimed) == (30, 20, True)
    assert (second.free, second.unbilled_overage, second.free_remaining, second.auto_claimed) == (20, 10, 0, False)
    assert (third.free, third.unbilled_overage, third.free_remaining) == (0, 30, 0)


def test_postpaid_bills_what_is_not_free(ledger: Ledger) -> None:
    for account in ("batch", "single"):
        ledger.activate(account)
        ledger.set_postpaid(account, True)
    outcomes = assert_same_as_one_by_one(ledger, [UsageAsk("-", IMAGE, 40, "r1"), UsageAsk("-", IMAGE, 40, "r2")])
    assert [(r.free, r.billable, str(r.charge)) for r in results(outcomes)] == [(40, 0, "0"), (10, 30, "6")]


def test_refused_records_are_answered_in_place(ledger: Ledger) -> None:
    asks = [
        UsageAsk("-", "no-such-model", 10, "r1"),
        UsageAsk("-", LANG_90, 0, "r2"),
        UsageAsk("-", LANG_90, 10, "r3"),
        UsageAsk("-", NO_TRIAL, 10, "r4"),
    ]
    outcomes = assert_same_as_one_by_one(ledger, asks)
    assert [getattr(o, "code", "recorded") for o in outcomes] == [
        "unknown_model",
        "validation_error",
        "recorded",
        "recorded",
    ]
    assert outcomes[0] == RecordRefusal("b-r1", "unknown_model", "model 'no-such-model' is not in the catalog")


def test_a_repeated_request_id_is_a_replay_or_a_conflict(ledger: Ledger) -> None:
    asks = [
        UsageAsk("-", IMAGE, 10, "r1"),
        UsageAsk("-", IMAGE, 10, "r1"),  # the same body: a replay of the first
        UsageAsk("-", IMAGE, 11, "r1"),  # another body: a conflict
        UsageAsk("-", "no-such-model", 5, "r2"),  # refused: writes nothing...
        UsageAsk("-", IMAGE, 5, "r2"),  # ...so this one is the first of r2
    ]
    outcomes = assert_same_as_one_by_one(ledger, asks)
    first, replay, conflict, _, fifth = outcomes
    assert isinstance(first, UsageResult)
    assert isinstance(replay, UsageResult)
    assert isinstance(fifth, UsageResult)
    assert (first.replayed, replay.replayed, replay.free_remaining) == (False, True, 40)
    assert isinstance(conflict, RecordRefusal)
    assert conflict.code == "request_id_conflict"
    assert (fifth.free, fifth.replayed, fifth.free_remaining) == (5, False, 35)
    assert ledger.grants("batch")[0].used == 15


def test_a_retried_batch_gets_every_record_back_as_a_replay(ledger: Ledger, dynamo_calls: DynamoCalls) -> None:
    asks = [UsageAsk("a", LANG_90, 100 + n, f"r{n}") for n in range(30)]
    first = results(ledger.record_usage_batch(asks))
    dynamo_calls.reset()
    again = results(ledger.record_usage_batch(asks))
    assert [r.replayed for r in again] == [True] * 30
    assert [(r.request_id, r.free, r.free_remaining) for r in again] == [
        (r.request_id, r.free, r.free_remaining) for r in first
    ]
    assert ledger.grants("a")[0].used == sum(100 + n for n in range(30))
    assert dynamo_calls.writes() == ["TransactWriteItems"]  # refused whole, every record answered from it


def test_a_batch_partly_recorded_before_records_the_rest_once(ledger: Ledger) -> None:
    ledger.record_usage("a", IMAGE, 2, "r2")
    outcomes = results(ledger.record_usage_batch([UsageAsk("a", IMAGE, n, f"r{n}") for n in (1, 2, 3)]))
    expected = [("r1", 1, False), ("r2", 2, True), ("r3", 3, False)]
    assert [(r.request_id, r.free, r.replayed) for r in outcomes] == expected
    assert [r.free_remaining for r in outcomes] == [47, 48, 44]  # r2 answers as it was recorded
    assert ledger.grants("a")[0].used == 6
    assert sorted(item.request_id for item in ledger.usage("a").items) == ["r1", "r2", "r3"]


def test_live_holds_are_settled_in_the_batch(ledger: Ledger) -> None:
    for account, prefix in (("batch", "b-"), ("single", "s-")):
        ledger.hold(HoldAsk(account, IMAGE, prefix + "h1", 20))
        ledger.hold(HoldAsk(account, IMAGE, prefix + "h2", 20))
    asks = [UsageAsk("-", IMAGE, 15, "h1"), UsageAsk("-", IMAGE, 20, "plain"), UsageAsk("-", IMAGE, 30, "h2")]
    h1, plain, h2 = results(assert_same_as_one_by_one(ledger, asks))
    assert (h1.free, h1.free_remaining) == (15, 15)  # its 15 of 20 held; 5 return
    assert (plain.free, plain.unbilled_overage) == (15, 5)  # h2 still holds 20
    assert (h2.free, h2.unbilled_overage, h2.free_remaining) == (20, 10, 0)
    assert ledger.release_hold("b-h1").status is HoldStatus.SETTLED
    assert ledger.release_hold("b-h2").status is HoldStatus.SETTLED


def test_a_timed_out_hold_is_plain_usage_in_the_batch(ledger: Ledger, clock: SwitchableClock) -> None:
    for account, prefix in (("batch", "b-"), ("single", "s-")):
        ledger.hold(HoldAsk(account, IMAGE, prefix + "h1", 30, ttl_seconds=30))
    clock.advance(timedelta(seconds=31))
    outcomes = assert_same_as_one_by_one(ledger, [UsageAsk("-", IMAGE, 40, "h1"), UsageAsk("-", IMAGE, 20, "r2")])
    assert [(r.free, r.unbilled_overage) for r in results(outcomes)] == [(40, 0), (10, 10)]


def test_after_the_campaign_no_trial_is_claimed(ledger: Ledger, clock: SwitchableClock) -> None:
    clock.advance(timedelta(days=400))
    outcomes = assert_same_as_one_by_one(ledger, [UsageAsk("-", IMAGE, 5, "r1"), UsageAsk("-", IMAGE, 5, "r2")])
    assert [(r.free, r.unbilled_overage, r.auto_claimed) for r in results(outcomes)] == [(0, 5, False), (0, 5, False)]
    assert ledger.grants("batch") == []


def test_many_grants_and_accounts_in_one_batch(ledger: Ledger) -> None:
    models = [LANG_90, IMAGE, LANG_30, LANG_90_B, NO_TRIAL]
    asks = [UsageAsk("-", models[n % 5], 7 + n, f"r{n}") for n in range(60)]
    assert_same_as_one_by_one(ledger, asks)
    mixed = [UsageAsk(f"acct-{n % 3}", models[n % 5], 3, f"m{n}") for n in range(40)]
    outcomes = results(ledger.record_usage_batch(mixed))
    assert [(r.account_id, r.model_id, r.request_id) for r in outcomes] == [
        (a.account_id, a.model_id, a.request_id) for a in mixed
    ]


def test_a_hundred_records_on_one_warm_grant_take_two_requests(ledger: Ledger, dynamo_calls: DynamoCalls) -> None:
    ledger.authorize("a", LANG_90)
    dynamo_calls.reset()
    outcomes = results(ledger.record_usage_batch([UsageAsk("a", LANG_90, 1000, f"r{n}") for n in range(100)]))
    assert dynamo_calls.operations == ["TransactWriteItems", "TransactWriteItems"]
    assert [r.free_remaining for r in outcomes] == [MILLION - 1000 * (n + 1) for n in range(100)]
    items = [len(params["TransactItems"]) for _, params in dynamo_calls.calls]
    assert sum(items) == 102  # 100 records and one grant write per transaction
    updates = [[i for i in params["TransactItems"] if "Update" in i] for _, params in dynamo_calls.calls]
    assert [len(u) for u in updates] == [1, 1]


def test_a_hundred_records_over_ten_models_take_two_requests(ledger: Ledger, dynamo_calls: DynamoCalls) -> None:
    models = [LANG_90, IMAGE, LANG_30, LANG_90_B, NO_TRIAL, LANG_90, IMAGE, LANG_30, LANG_90_B, NO_TRIAL]
    ledger.record_usage_batch([UsageAsk("a", model, 1, f"warm-{n}") for n, model in enumerate(models[:5])])
    dynamo_calls.reset()
    ledger.record_usage_batch([UsageAsk("a", models[n % 10], 1, f"r{n}") for n in range(100)])
    assert dynamo_calls.operations == ["TransactWriteItems", "TransactWriteItems"]


def test_a_cold_batch_reads_every_account_at_once(ledger: Ledger, dynamo_calls: DynamoCalls) -> None:
    asks = [UsageAsk(f"acct-{n % 2}", [LANG_90, IMAGE][n % 4 // 2], 1, f"r{n}") for n in range(8)]
    ledger.record_usage_batch(asks)
    assert dynamo_calls.operations == ["BatchGetItem", "BatchGetItem", "TransactWriteItems"]
    keys = [call[1]["RequestItems"]["trial-quota-test"]["Keys"] for call in dynamo_calls.calls[:2]]
    assert len(keys[0]) == 6  # two profiles, two grants each
    assert sorted(key["PK"]["S"] for key in keys[1]) == ["ACCOUNT#acct-0"] * 2 + ["ACCOUNT#acct-1"] * 2  # their claims


def test_a_cold_batch_of_a_hundred_accounts_reads_in_batches_of_a_hundred_keys(
    ledger: Ledger, dynamo_calls: DynamoCalls
) -> None:
    outcomes = results(ledger.record_usage_batch([UsageAsk(f"acct-{n}", IMAGE, 1, f"r{n}") for n in range(100)]))
    assert [(r.account_id, r.free, r.auto_claimed) for r in outcomes] == [(f"acct-{n}", 1, True) for n in range(100)]
    assert dynamo_calls.operations.count("BatchGetItem") == 3  # 200 keys, then the 100 grants' claims
    assert audit().ok


def test_a_stale_snapshot_is_corrected_by_the_refusal(ledger: Ledger, other: Ledger, dynamo_calls: DynamoCalls) -> None:
    ledger.authorize("a", IMAGE)  # this container saw 50 free
    other.record_usage("a", IMAGE, 45, "theirs")
    dynamo_calls.reset()
    outcomes = results(ledger.record_usage_batch([UsageAsk("a", IMAGE, 3, "r1"), UsageAsk("a", IMAGE, 3, "r2")]))
    assert [(r.free, r.unbilled_overage, r.free_remaining) for r in outcomes] == [(3, 0, 2), (2, 1, 0)]
    assert dynamo_calls.operations == ["TransactWriteItems", "TransactWriteItems"]  # the refusal carried the grant


def test_a_switch_turned_on_meanwhile_is_read_again(ledger: Ledger, other: Ledger) -> None:
    ledger.activate("a")
    ledger.record_usage("a", IMAGE, 50, "empty")  # this container: postpaid off
    other.set_postpaid("a", True)
    [result] = results(ledger.record_usage_batch([UsageAsk("a", IMAGE, 5, "r1")]))
    assert (result.billable, result.unbilled_overage) == (5, 0)


def test_a_hold_released_meanwhile_makes_its_record_plain(ledger: Ledger, other: Ledger) -> None:
    ledger.hold(HoldAsk("a", IMAGE, "h1", 30))
    other.release_hold("h1")
    outcomes = results(ledger.record_usage_batch([UsageAsk("a", IMAGE, 10, "h1"), UsageAsk("a", IMAGE, 45, "r2")]))
    assert [(r.free, r.unbilled_overage) for r in outcomes] == [(10, 0), (40, 5)]
    assert audit().ok


def test_a_grant_that_keeps_changing_goes_on_one_record_at_a_time(
    ledger: Ledger, other: Ledger, store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer lands on the grant before each of the batch's transactions: after two lost
    races the batch's records go one by one (whose draws relax under contention)."""
    ledger.authorize("a", LANG_90)
    commit_batch, racing = store.batches.commit, iter(range(100))

    def raced(commit: BatchCommit) -> None:
        other.record_usage("a", LANG_90, 1, f"theirs-{next(racing)}")
        commit_batch(commit)

    monkeypatch.setattr(store.batches, "commit", raced)
    outcomes = results(ledger.record_usage_batch([UsageAsk("a", LANG_90, 10, f"r{n}") for n in range(5)]))
    assert [(r.request_id, r.free, r.replayed) for r in outcomes] == [(f"r{n}", 10, False) for n in range(5)]
    assert ledger.grants("a")[0].used == 50 + 2  # the two racing writes before the batch went one by one
    assert all(r.free_remaining is not None for r in outcomes)
    assert audit().ok


def test_a_batch_that_stays_contended_is_unavailable_and_its_retry_is_exact(
    ledger: Ledger, store: LedgerStore, monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    commit_batch = store.batches.commit
    monkeypatch.setattr(store.batches, "commit", lambda commit: (_ for _ in ()).throw(Contended("busy")))
    asks = [UsageAsk("a", IMAGE, 10, f"r{n}") for n in range(3)]
    with pytest.raises(TemporarilyUnavailable):
        ledger.record_usage_batch(asks)
    assert sum(sleeps[:-1]) < Backoff().entry_race_seconds <= sum(sleeps)  # the bounded retries, with backoff
    monkeypatch.setattr(store.batches, "commit", commit_batch)
    assert [r.free for r in results(ledger.record_usage_batch(asks))] == [10, 10, 10]
    assert ledger.grants("a")[0].used == 30


def test_a_grant_with_many_holds_takes_more_transactions_and_stays_exact(ledger: Ledger) -> None:
    for account, prefix in (("batch", "b-"), ("single", "s-")):
        for n in range(30):
            ledger.hold(HoldAsk(account, LANG_90, f"{prefix}h{n}", 1000))
    asks = [UsageAsk("-", LANG_90, 500, f"h{n}") for n in range(30)]
    asks += [UsageAsk("-", LANG_90, 10, f"plain{n}") for n in range(30)]
    outcomes = results(assert_same_as_one_by_one(ledger, asks))
    assert outcomes[-1].free_remaining == MILLION - 30 * 500 - 300


def test_a_stale_fully_held_snapshot_is_proven_by_the_grant_in_a_batch(ledger: Ledger, other: Ledger) -> None:
    """Records with nothing free on this container's snapshot of holds still write the grant (an
    exact draw of 0 units): the refusal corrects the snapshot, and each record is answered as if
    the holds were seen as they are (one released elsewhere, another taken there, with equal totals)."""
    ledger.hold(HoldAsk("a", IMAGE, "s", 25))
    ledger.hold(HoldAsk("a", IMAGE, "t", 25))
    other.release_hold("t")
    other.hold(HoldAsk("a", IMAGE, "x", 25))  # remaining and held_total as this container saw them
    x, s, plain = results(ledger.record_usage_batch(
        [UsageAsk("a", IMAGE, 5, "x"), UsageAsk("a", IMAGE, 10, "s"), UsageAsk("a", IMAGE, 5, "plain")]
    ))  # fmt: skip
    assert [(r.free, r.unbilled_overage) for r in (x, s, plain)] == [(5, 0), (10, 0), (5, 0)]
    assert other.release_hold("x").status is HoldStatus.SETTLED
    assert audit().ok


def test_a_batch_record_clears_its_own_timed_out_entry_first(ledger: Ledger, clock: SwitchableClock) -> None:
    for n in range(26):
        ledger.hold(HoldAsk("a", LANG_90, f"a{n:02d}", 10, ttl_seconds=30))
    ledger.hold(HoldAsk("a", LANG_90, "zz", 10, ttl_seconds=30))
    clock.advance(timedelta(seconds=31))
    [result] = results(ledger.record_usage_batch([UsageAsk("a", LANG_90, 5, "zz")]))
    assert (result.free, result.unbilled_overage) == (5, 0)
