"""Holds (R13-R16) on moto: take, settle, release, time out, replay, conflict, and what each
answers; the request counts of the hot paths."""

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.support import IMAGE, LANG_90, MILLION, NO_TRIAL, DynamoCalls
from trial_ledger import (
    AdmissionRefused,
    HoldAsk,
    HoldNotFound,
    HoldStatus,
    Ledger,
    RequestIdConflict,
    SwitchableClock,
)
from trial_ledger.dynamo.store import LedgerStore


def ask(rid: str, estimate: int, model: str = IMAGE, account: str = "a", **more: object) -> HoldAsk:
    return HoldAsk(account, model, rid, estimate, **more)  # type: ignore[arg-type]


def grant_of(ledger: Ledger, account: str = "a", model: str = IMAGE):  # type: ignore[no-untyped-def]
    return next(grant for grant in ledger.grants(account) if grant.model_id == model)


def test_a_hold_reserves_and_others_see_less(ledger: Ledger) -> None:
    held = ledger.hold(ask("h1", 30))
    assert (held.held, held.source.value, held.free_available, held.auto_claimed) == (30, "free", 20, True)
    assert held.expires_at == "2026-03-01T08:15:00.000Z"  # the default ttl, 900 s
    assert ledger.authorize("a", IMAGE).free_remaining == 20
    grant = grant_of(ledger)
    assert (grant.remaining, grant.held, grant.used) == (50, 30, 0)
    other = ledger.hold(ask("h2", 30))
    assert (other.held, other.free_available) == (20, 0)


def test_settle_at_under_and_over_the_hold(ledger: Ledger) -> None:
    ledger.hold(ask("under", 20))
    ledger.hold(ask("at", 10))
    ledger.hold(ask("over", 10))
    under = ledger.record_usage("a", IMAGE, 5, "under")
    assert (under.free, under.unbilled_overage, under.free_remaining) == (5, 0, 25)  # 15 returned at once
    at = ledger.record_usage("a", IMAGE, 10, "at")
    assert (at.free, at.unbilled_overage, at.free_remaining) == (10, 0, 25)
    over = ledger.record_usage("a", IMAGE, 40, "over")
    # its 10 held, then the 25 nobody holds; the rest is overage
    assert (over.free, over.unbilled_overage, over.free_remaining) == (35, 5, 0)
    grant = grant_of(ledger)
    assert (grant.used, grant.remaining, grant.held) == (50, 0, 0)


def test_plain_usage_never_draws_another_requests_hold(ledger: Ledger) -> None:
    ledger.hold(ask("h1", 45))
    plain = ledger.record_usage("a", IMAGE, 10, "plain")
    assert (plain.free, plain.unbilled_overage, plain.free_remaining) == (5, 5, 0)
    settled = ledger.record_usage("a", IMAGE, 45, "h1")
    assert (settled.free, settled.unbilled_overage) == (45, 0)


def test_usage_at_or_under_its_hold_is_free_even_when_nothing_else_is(ledger: Ledger) -> None:
    ledger.hold(ask("h1", 50))
    assert ledger.record_usage("a", IMAGE, 3, "plain").free == 0
    assert ledger.record_usage("a", IMAGE, 50, "h1").free == 50


def test_nothing_available_postpaid_off_is_free_quota_held(ledger: Ledger) -> None:
    ledger.hold(ask("h1", 50))
    with pytest.raises(AdmissionRefused) as refused:
        ledger.hold(ask("h2", 1))
    assert refused.value.code == "free_quota_held"
    with pytest.raises(AdmissionRefused) as admission:
        ledger.authorize("a", IMAGE)
    assert admission.value.code == "free_quota_held"


def test_exhausted_and_no_trial_refusals(ledger: Ledger) -> None:
    ledger.record_usage("a", IMAGE, 50, "all")
    with pytest.raises(AdmissionRefused) as exhausted:
        ledger.hold(ask("h1", 1))
    assert exhausted.value.code == "free_quota_exhausted"
    with pytest.raises(AdmissionRefused) as none:
        ledger.hold(ask("h2", 1, model=NO_TRIAL))
    assert none.value.code == "no_free_quota"


def test_postpaid_holds_zero_and_settles_as_plain_usage(ledger: Ledger, activated: str) -> None:
    ledger.set_postpaid(activated, True)
    ledger.hold(ask("h1", 50, account=activated))
    zero = ledger.hold(ask("h2", 10, account=activated))
    assert (zero.held, zero.source.value, zero.free_available) == (0, "postpaid", 0)
    no_trial = ledger.hold(ask("h3", 10, model=NO_TRIAL, account=activated))
    assert (no_trial.held, no_trial.source.value) == (0, "postpaid")
    assert ledger.grants(activated)[0].model_id == IMAGE  # no grant for the model without a trial
    usage = ledger.record_usage(activated, IMAGE, 10, "h2")
    assert (usage.free, usage.billable) == (0, 10)
    assert ledger.release_hold("h2").status is HoldStatus.SETTLED


def test_replay_and_conflict(ledger: Ledger, clock: SwitchableClock) -> None:
    first = ledger.hold(ask("h1", 30, sub_account_id="k"))
    ledger.record_usage("a", IMAGE, 5, "other")
    clock.advance(timedelta(seconds=10))
    again = ledger.hold(ask("h1", 30, sub_account_id="k"))
    assert again == replace(first, replayed=True)
    for change in ({"estimate": 31}, {"sub_account_id": "j"}, {"ttl_seconds": 60}, {"model_id": "hunyuan-turbo"}):
        with pytest.raises(RequestIdConflict):
            ledger.hold(replace(ask("h1", 30, sub_account_id="k"), **change))
    assert grant_of(ledger).held == 30


def test_a_replay_is_answered_even_when_nothing_is_left(ledger: Ledger) -> None:
    first = ledger.hold(ask("h1", 50))
    assert ledger.hold(ask("h1", 50)) == replace(first, replayed=True)


def test_release_returns_the_units_and_reports_how_holds_ended(ledger: Ledger, clock: SwitchableClock) -> None:
    ledger.hold(ask("r", 20))
    ledger.hold(ask("s", 10))
    ledger.hold(ask("t", 10, ttl_seconds=30))
    assert ledger.release_hold("r").status is HoldStatus.RELEASED
    assert ledger.authorize("a", IMAGE).free_remaining == 30
    assert ledger.release_hold("r").status is HoldStatus.RELEASED
    ledger.record_usage("a", IMAGE, 4, "s")
    assert ledger.release_hold("s").status is HoldStatus.SETTLED
    clock.advance(timedelta(seconds=30))  # 08:00:30, but t's 30 s were rounded up to 08:01:00
    assert ledger.release_hold("t").status is HoldStatus.RELEASED
    ledger.hold(ask("u", 10, ttl_seconds=30))
    clock.advance(timedelta(seconds=30))
    assert ledger.release_hold("u").status is HoldStatus.EXPIRED
    with pytest.raises(HoldNotFound):
        ledger.release_hold("never")


def test_a_hold_stops_reserving_at_its_expires_at_with_no_job(ledger: Ledger, clock: SwitchableClock) -> None:
    ledger.hold(ask("h1", 40, ttl_seconds=60))
    assert ledger.authorize("a", IMAGE).free_remaining == 10
    clock.advance(timedelta(seconds=60))
    assert ledger.authorize("a", IMAGE).free_remaining == 50
    assert grant_of(ledger).held == 0
    # usage with the dead hold's request_id is plain usage, and removes the dead entry
    late = ledger.record_usage("a", IMAGE, 45, "h1")
    assert (late.free, late.free_remaining) == (45, 5)
    report = ledger.sweep_holds(clock.now())
    assert (report.closed_holds, report.complete) == (1, True)
    assert ledger.release_hold("h1").status is HoldStatus.EXPIRED


def test_the_sweep_empties_the_open_holds_index(ledger: Ledger, clock: SwitchableClock, store: LedgerStore) -> None:
    for index in range(40):
        ledger.hold(ask(f"h{index}", 1, model=LANG_90, account=f"acct-{index % 4}", ttl_seconds=30 + index))
    assert sum(len(store.queries.open_holds(shard, "9999", 100, None)[0]) for shard in _shards()) == 40
    clock.advance(timedelta(seconds=59))
    assert ledger.sweep_holds(clock.now()).closed_holds == 0  # every end was rounded up to 08:01 or 08:02
    clock.advance(timedelta(seconds=1))
    first = ledger.sweep_holds(clock.now())
    assert (first.closed_holds, first.returned_units) == (31, 31)  # ttl 30..60 end at 08:01:00
    clock.advance(timedelta(hours=1))
    assert ledger.sweep_holds(clock.now()).closed_holds == 9
    assert sum(len(store.queries.open_holds(shard, "9999", 100, None)[0]) for shard in _shards()) == 0
    for account in range(4):
        _, grants = store.read_account(f"acct-{account}", [LANG_90])
        # The sweep took every hold's units out of its period; the next write removes the periods.
        assert {period.units for period in grants[LANG_90].holds} == {0}
        assert (grants[LANG_90].remaining, grants[LANG_90].held_total) == (MILLION, 0)
    assert ledger.sweep_holds(clock.now()).closed_holds == 0


def test_the_sweep_stops_when_told_and_continues(ledger: Ledger, clock: SwitchableClock) -> None:
    for index in range(5):
        ledger.hold(ask(f"h{index}", 1, ttl_seconds=30))
    clock.advance(timedelta(minutes=1))
    budget = iter([True, False])
    stopped = ledger.sweep_holds(clock.now(), keep_going=lambda: next(budget, False), page_size=1)
    assert stopped.complete is False
    rest = ledger.sweep_holds(clock.now())
    assert (stopped.closed_holds + rest.closed_holds, rest.complete) == (5, True)


def test_holds_never_outlive_the_grant_and_the_nightly_expiry_clears_them(
    ledger: Ledger, clock: SwitchableClock, store: LedgerStore
) -> None:
    ledger.record_usage("a", IMAGE, 1, "claim")
    clock.advance(timedelta(days=90) - timedelta(seconds=100))
    held = ledger.hold(ask("h1", 10, ttl_seconds=3600))
    assert held.expires_at == grant_of(ledger).expires_at
    clock.advance(timedelta(seconds=100))
    report = ledger.expire_due(clock.now())
    assert (report.expired_grants, report.expired_quantity) == (1, 49)
    _, grants = store.read_account("a", [IMAGE])
    assert (grants[IMAGE].holds, grants[IMAGE].remaining) == ((), 0)
    assert ledger.sweep_holds(clock.now()).closed_holds == 1
    assert ledger.release_hold("h1").status is HoldStatus.EXPIRED


def test_request_ids_with_every_allowed_character_work_as_map_keys(ledger: Ledger) -> None:
    rid = "a.b:c@d-e_f"
    assert ledger.hold(ask(rid, 5)).held == 5
    assert ledger.record_usage("a", IMAGE, 5, rid).free == 5
    assert grant_of(ledger).held == 0


def test_a_hold_and_its_settle_are_one_request_each(ledger: Ledger, dynamo_calls: DynamoCalls) -> None:
    ledger.authorize("a", LANG_90)
    dynamo_calls.reset()
    ledger.hold(ask("h1", 100, model=LANG_90))
    ledger.record_usage("a", LANG_90, 80, "h1")
    ledger.record_usage("a", LANG_90, 10, "plain")
    assert dynamo_calls.operations == ["TransactWriteItems"] * 3
    dynamo_calls.reset()
    ledger.hold(ask("h2", 100, model=LANG_90))
    ledger.release_hold("h2")
    ledger.record_usage("a", LANG_90, 10, "plain-2")  # the snapshot knows the release
    assert dynamo_calls.operations == ["TransactWriteItems", "GetItem", "TransactWriteItems", "TransactWriteItems"]


def test_bad_arguments_are_refused(ledger: Ledger) -> None:
    from trial_ledger import InvalidRequest

    for bad in (ask("h", 0), ask("h", 5, ttl_seconds=29), ask("h", 5, ttl_seconds=3601), ask("bad#id", 5)):
        with pytest.raises(InvalidRequest):
            ledger.hold(bad)


def _shards() -> list[str]:
    from trial_ledger.dynamo.keys import all_expiry_shards

    return all_expiry_shards()


def test_a_replay_after_the_hold_timed_out_is_still_the_first_hold(ledger: Ledger, clock: SwitchableClock) -> None:
    """Its own dead entry is not removed by the replay's plan (the hold's put refuses it anyway)."""
    first = ledger.hold(ask("h1", 20, ttl_seconds=30))
    clock.advance(timedelta(seconds=31))
    assert ledger.hold(ask("h1", 20, ttl_seconds=30)) == replace(first, replayed=True)
