"""The nightly expiry (R5, SPEC section 4): exactly once, only what is due, from the sparse index."""

from datetime import timedelta

from tests.support import IMAGE, LANG_30, LANG_90, MILLION, DynamoCalls
from trial_ledger import Ledger, SwitchableClock
from trial_ledger.domain.index_entries import ExpiryCandidate
from trial_ledger.dynamo.items import ExpiryItem, GrantItem
from trial_ledger.dynamo.keys import account_key, expiry_sort_key, grant_key
from trial_ledger.dynamo.store import LedgerStore


def test_due_grant_is_expired_once(ledger: Ledger, clock: SwitchableClock) -> None:
    ledger.record_usage("a", LANG_30, 100, "r1")
    clock.advance(timedelta(days=30))
    report = ledger.expire_due(clock.now())
    assert (report.expired_grants, report.expired_quantity, report.complete) == (1, MILLION - 100, True)
    assert report.as_of == "2026-03-31T08:00:00.000Z"
    again = ledger.expire_due(clock.now())
    assert (again.expired_grants, again.expired_quantity, again.complete) == (0, 0, True)
    [grant] = ledger.grants("a")
    assert (grant.used, grant.remaining, grant.expired, grant.status.value) == (100, 0, MILLION - 100, "expired")


def test_expiry_entry_is_written(ledger: Ledger, clock: SwitchableClock) -> None:
    ledger.authorize("a", LANG_30)
    clock.advance(timedelta(days=31))
    ledger.expire_due(clock.now() - timedelta(days=1))
    entry = ExpiryItem.get(account_key("a"), expiry_sort_key(LANG_30))
    assert (entry.quantity, entry.as_of, entry.expires_at) == (MILLION, "2026-03-31T08:00:00.000Z", entry.expires_at)
    assert entry.recorded_at == "2026-04-01T08:00:00.000Z"


def test_not_yet_due_grants_are_left_alone(ledger: Ledger, clock: SwitchableClock) -> None:
    ledger.authorize("a", LANG_30)
    ledger.authorize("a", LANG_90)
    clock.advance(timedelta(days=30) - timedelta(milliseconds=1))
    assert ledger.expire_due(clock.now()).expired_grants == 0
    clock.advance(timedelta(milliseconds=1))
    report = ledger.expire_due(clock.now())
    assert (report.expired_grants, report.expired_quantity) == (1, MILLION)
    assert {g.model_id: g.status.value for g in ledger.grants("a")} == {LANG_30: "expired", LANG_90: "active"}


def test_missed_days_are_caught_up(ledger: Ledger, clock: SwitchableClock) -> None:
    ledger.authorize("a", LANG_30)
    clock.advance(timedelta(days=1))
    ledger.authorize("b", LANG_30)
    clock.advance(timedelta(days=200))
    report = ledger.expire_due(clock.now())
    assert (report.expired_grants, report.expired_quantity) == (2, 2 * MILLION)


def test_exhausted_grants_are_not_candidates(ledger: Ledger, clock: SwitchableClock, dynamo_calls: DynamoCalls) -> None:
    ledger.record_usage("a", IMAGE, 50, "r1")
    clock.advance(timedelta(days=100))
    dynamo_calls.reset()
    report = ledger.expire_due(clock.now())
    assert report.expired_grants == 0
    assert set(dynamo_calls.operations) == {"Query"}  # read the index, found nothing, wrote nothing


def test_untouched_grant_expires_in_one_write(
    ledger: Ledger, clock: SwitchableClock, dynamo_calls: DynamoCalls
) -> None:
    ledger.authorize("a", LANG_30)
    clock.advance(timedelta(days=30))
    dynamo_calls.reset()
    ledger.expire_due(clock.now())
    assert dynamo_calls.writes() == ["TransactWriteItems"]


def test_used_grant_expires_exactly_after_one_refusal(
    ledger: Ledger, clock: SwitchableClock, dynamo_calls: DynamoCalls
) -> None:
    ledger.record_usage("a", LANG_30, 7, "r1")
    clock.advance(timedelta(days=30))
    dynamo_calls.reset()
    assert ledger.expire_due(clock.now()).expired_quantity == MILLION - 7
    assert dynamo_calls.writes() == ["TransactWriteItems", "TransactWriteItems"]


def test_stops_when_out_of_time_and_the_next_run_finishes(ledger: Ledger, clock: SwitchableClock) -> None:
    for index in range(30):
        ledger.authorize(f"acct-{index}", LANG_30)
    clock.advance(timedelta(days=30))
    budget = iter([True, True, False])
    first = ledger.expire_due(clock.now(), keep_going=lambda: next(budget), page_size=5)
    assert first.complete is False
    assert 0 < first.expired_grants < 30
    second = ledger.expire_due(clock.now())
    assert second.complete is True
    assert first.expired_grants + second.expired_grants == 30
    assert first.expired_quantity + second.expired_quantity == 30 * MILLION


def test_usage_racing_the_job_at_the_boundary(ledger: Ledger, store: LedgerStore, clock: SwitchableClock) -> None:
    """Staged race: the job read the candidate, then a usage (timed just before expires_at)
    drew from the grant; the job's guess is refused and it expires exactly what is left."""
    ledger.authorize("a", LANG_30)
    [grant] = ledger.grants("a")
    just_before = clock.now() + timedelta(days=30) - timedelta(milliseconds=1)
    clock.freeze(just_before)
    ledger.record_usage("a", LANG_30, 250, "edge")
    candidate = ExpiryCandidate("a", LANG_30, MILLION, grant.expires_at)
    clock.advance(timedelta(milliseconds=1))
    assert ledger._use.expiry.expire_one(candidate, grant.expires_at) == MILLION - 250
    assert ledger._use.expiry.expire_one(candidate, grant.expires_at) == 0  # a second run: nothing twice
    [after] = ledger.grants("a")
    assert (after.used, after.expired, after.remaining) == (250, MILLION - 250, 0)
    assert after.quota == after.used + after.expired + after.remaining


def test_expiry_is_not_usable_for_a_grant_not_yet_due(ledger: Ledger, store: LedgerStore) -> None:
    ledger.authorize("a", LANG_90)
    [grant] = ledger.grants("a")
    candidate = ExpiryCandidate("a", LANG_90, MILLION, grant.expires_at)
    assert ledger._use.expiry.expire_one(candidate, "2026-03-02T00:00:00.000Z") == 0
    assert ledger.grants("a")[0].remaining == MILLION


def test_a_candidate_with_nothing_left_is_dropped_not_expired(
    ledger: Ledger, store: LedgerStore, clock: SwitchableClock, dynamodb: object
) -> None:
    """A relaxed draw emptied the grant and its writer died before taking it out of the index."""
    ledger.authorize("a", IMAGE)
    GrantItem(*grant_key("a", IMAGE)).update(actions=[GrantItem.remaining.set(0), GrantItem.used.set(50)])
    clock.advance(timedelta(days=91))
    report = ledger.expire_due(clock.now())
    assert (report.expired_grants, report.expired_quantity) == (0, 0)
    key = {"PK": {"S": f"GRANT#a#{IMAGE}"}, "SK": {"S": "GRANT"}}
    assert "expiry_shard" not in dynamodb.get_item(TableName="trial-quota-test", Key=key)["Item"]  # type: ignore[attr-defined]
