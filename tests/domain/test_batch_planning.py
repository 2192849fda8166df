"""Planning a batch (pure functions, no DynamoDB): runs of one grant's records, one grant write
each, packed into transactions of at most 100 items; and the worst grant write a run may make,
held to DynamoDB's expression limits."""

import re
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.support import IMAGE, LANG_90, LANG_90_B, MILLION, NO_TRIAL, START
from trial_ledger import ClaimMethod, FundingSource, HoldStatus, format_timestamp
from trial_ledger.config.catalog import default_catalog_document, parse_catalog
from trial_ledger.domain.planning.batch import (
    MAX_HOLD_PATHS_PER_WRITE,
    BatchPlan,
    Pending,
    hold_paths,
    plan_batch,
    plan_run,
)
from trial_ledger.domain.planning.draws import Attempt
from trial_ledger.domain.planning.usage import CheckedUsage
from trial_ledger.domain.state import GrantState, HeldPeriod, HoldRecord, ProfileState
from trial_ledger.domain.writes import MAX_TRANSACTION_ITEMS, GrantDraw, GrantRun, NewGrant
from trial_ledger.dynamo import expressions

CATALOG = parse_catalog(default_catalog_document())
NOW = format_timestamp(START)
LATER = "2026-03-01T09:00:00.000Z"
OFF = ProfileState("a", NOW, postpaid_enabled=False)
ON = ProfileState("a", NOW, postpaid_enabled=True)
ATTEMPT = Attempt(now=START, campaign_open=True, relaxed=True, write_id="")

MAX_EXPRESSION_BYTES = 4096
MAX_OPERATORS = 300
OPERATOR = re.compile(r"\b(?:AND|OR|NOT|BETWEEN|IN)\b|<>|<=|>=|=|<|>|\b(?:attribute_\w+|begins_with|contains|size)\(")


def pending(
    quantity: int, request_id: str, model_id: str = LANG_90, hold: HoldRecord | None = None, *,
    sub_account_id: str | None = None, account_id: str = "a",
) -> Pending:  # fmt: skip
    request = CheckedUsage(CATALOG[model_id], account_id, quantity, request_id, sub_account_id, f"f-{request_id}")
    return Pending(request, f"w-{request_id}", hold)


def records(count: int, model_id: str = LANG_90, quantity: int = 1, account_id: str = "a") -> list[Pending]:
    return [pending(quantity, f"{account_id}-{model_id}-{n}", model_id, account_id=account_id) for n in range(count)]


def items_of(plan: BatchPlan) -> int:
    """The transaction's items: every run's, and one postpaid check per account."""
    return sum(run.items for run in plan.commit.runs) + len(plan.commit.postpaid_checks)


def lengths(plan: BatchPlan) -> dict[str, int]:
    return {run.model_id: len(run.calls) for run in plan.commit.runs}


def period(minutes: int) -> str:
    return format_timestamp(START + timedelta(minutes=minutes))


def hold_of(request_id: str, held: int, expires_at: str) -> HoldRecord:
    return HoldRecord(request_id, "a", LANG_90, None, held, held, FundingSource.FREE, 0, False, NOW, expires_at, 900,
                      HoldStatus.OPEN, None, "f", "w")  # fmt: skip


def grant(model_id: str = LANG_90, remaining: int = MILLION, holds: tuple[HeldPeriod, ...] = ()) -> GrantState:
    quota = CATALOG[model_id].trial.quota  # type: ignore[union-attr]
    return GrantState("a", model_id, CATALOG[model_id].unit, quota, quota - remaining, remaining, 0,
                      ClaimMethod.MANUAL, "2026-03-01T00:00:00.000Z", "2026-05-30T08:00:00.000Z", holds)  # fmt: skip


def test_a_run_plans_each_record_on_what_the_ones_before_it_leave() -> None:
    records = [pending(30, f"r{n}", IMAGE) for n in range(3)]
    planned = plan_run(records, grant(IMAGE, 50), OFF, ATTEMPT, MAX_TRANSACTION_ITEMS)
    assert planned is not None
    usages = planned.run.usages
    assert [(u.free, u.unbilled_overage, u.free_remaining) for u in usages] == [(30, 0, 20), (20, 10, 0), (0, 30, 0)]
    draw = planned.run.draw
    assert draw is not None
    assert (draw.expected_remaining, draw.free, draw.left, draw.exact) == (50, 50, 0, True)
    assert planned.grant_after is not None
    assert planned.grant_after.remaining == 0
    assert planned.run.items == 4  # three records and one grant write


def test_the_first_record_of_an_unclaimed_trial_claims_it_with_every_draw_in_it() -> None:
    planned = plan_run([pending(10, "r1", IMAGE), pending(15, "r2", IMAGE)], None, OFF, ATTEMPT, 100)
    assert planned is not None
    assert planned.run.draw is None
    assert planned.run.new_grant is not None
    assert (planned.run.new_grant.state.used, planned.run.new_grant.state.remaining) == (25, 25)
    assert [u.auto_claimed for u in planned.run.usages] == [True, False]


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_a_claiming_run_puts_the_grant_as_its_last_record_leaves_it(count: int) -> None:
    """The first record claims the trial (R3); the grant it puts carries every record's draw, and
    the sub-account of the record that claimed it."""
    run_records = [pending(7, f"r{n}", IMAGE, sub_account_id=f"key-{n}") for n in range(count)]
    planned = plan_run(run_records, None, OFF, ATTEMPT, MAX_TRANSACTION_ITEMS)
    assert planned is not None
    used = min(7 * count, 50)
    claimed = GrantState("a", IMAGE, "images", 50, used, 50 - used, 0, ClaimMethod.AUTO, NOW,
                         "2026-05-30T08:00:00.000Z", entries=1 + count)  # fmt: skip
    assert planned.run == GrantRun("a", IMAGE, tuple(planned.run.calls), new_grant=NewGrant(claimed, "key-0"))
    assert planned.grant_after == claimed
    assert [call.usage.free_remaining for call in planned.run.calls] == [50 - 7 * (n + 1) for n in range(count)]
    assert planned.run.items == count + 2  # the grant's put and its claim's mark are the run's grant write


def test_every_record_of_a_batch_keeps_its_own_write_id() -> None:
    """A record's write_id tells its own write (landed by a retry after a lost response) from an
    earlier call's record: each record has its own, never the attempt's."""
    planned = plan_run([pending(1, f"r{n}") for n in range(3)], grant(), OFF, ATTEMPT, MAX_TRANSACTION_ITEMS)
    assert planned is not None
    assert [call.usage.write_id for call in planned.run.calls] == ["w-r0", "w-r1", "w-r2"]
    assert [call.usage.fingerprint for call in planned.run.calls] == ["f-r0", "f-r1", "f-r2"]


def test_one_grant_write_carries_every_draw_of_the_run_with_the_first_draws_expectations() -> None:
    periods = (HeldPeriod(period(-3), 4), HeldPeriod(period(-2), 6), HeldPeriod(period(30), 5))
    holds = (hold_of("h1", 5, period(30)),)
    run_records = [pending(10, "r0"), pending(20, "h1", hold=holds[0]), pending(30, "r2")]
    planned = plan_run(run_records, grant(holds=periods), OFF, ATTEMPT, MAX_TRANSACTION_ITEMS)
    assert planned is not None
    fullest_first = (periods[1], periods[0])
    assert planned.run.draw == GrantDraw(LANG_90, MILLION, 60, NOW, exact=True, expected_held=15,
                                         releases=(HeldPeriod(period(30), 5),), clears=fullest_first,
                                         entries=3)  # fmt: skip
    assert (planned.run.account_id, planned.run.model_id) == ("a", LANG_90)
    assert planned.grant_after is not None
    assert (planned.grant_after.remaining, planned.grant_after.holds) == (MILLION - 60, (HeldPeriod(period(30), 0),))


def test_a_run_on_a_trial_the_closed_campaign_did_not_claim_proves_no_grant_appeared() -> None:
    closed = replace(ATTEMPT, campaign_open=False)
    planned = plan_run(records(150), None, OFF, closed, MAX_TRANSACTION_ITEMS)
    assert planned is not None
    assert (planned.run.draw, planned.run.new_grant, planned.run.expect_no_grant) == (None, None, True)
    assert (len(planned.run.calls), planned.run.items) == (99, 100)  # the proof is the run's grant write
    assert plan_run(records(1), None, OFF, closed, 1) is None


@pytest.mark.parametrize(("key", "state"), [(NO_TRIAL, None), (IMAGE, grant(IMAGE, remaining=0))])
def test_a_run_that_draws_nothing_writes_no_grant(key: str, state: GrantState | None) -> None:
    """Records of a model without a trial, or of an exhausted grant, take one item each."""
    planned = plan_run(records(150, key), state, ON, ATTEMPT, MAX_TRANSACTION_ITEMS)
    assert planned is not None
    assert (planned.run.draw, planned.run.new_grant, planned.run.expect_no_grant) == (None, None, False)
    assert (len(planned.run.calls), planned.run.items, planned.run.expect_postpaid) == (100, 100, True)
    single = plan_run(records(1, key), state, ON, ATTEMPT, 1)
    assert single is not None
    assert single.run.items == 1


def test_a_claiming_run_stops_where_the_room_ends_too() -> None:
    planned = plan_run(records(150), None, OFF, ATTEMPT, MAX_TRANSACTION_ITEMS)
    assert planned is not None
    assert (len(planned.run.calls), planned.run.items) == (98, 100)  # the grant and its claim's mark


def test_settles_count_one_item_each_up_to_the_room() -> None:
    """A settle's usage lands on its hold's item: one item a record, as plain usage."""
    holds = [hold_of(f"h{n}", 10, period(5)) for n in range(150)]
    settles = [pending(10, hold.request_id, hold=hold) for hold in holds]
    planned = plan_run(settles, grant(holds=(HeldPeriod(period(5), 1500),)), OFF, ATTEMPT, MAX_TRANSACTION_ITEMS)
    assert planned is not None
    assert (len(planned.run.calls), planned.run.items) == (99, 100)
    assert all(call.settles for call in planned.run.calls)
    assert planned.run.draw is not None
    assert planned.run.draw.releases == (HeldPeriod(period(5), 990),)


def test_a_run_stops_where_the_room_ends() -> None:
    records = [pending(1, f"r{n}") for n in range(150)]
    planned = plan_run(records, grant(), OFF, ATTEMPT, MAX_TRANSACTION_ITEMS)
    assert planned is not None
    assert (len(planned.run.usages), planned.run.items) == (99, 100)
    assert plan_run(records, grant(), OFF, ATTEMPT, 1) is None  # not even one record and its grant write


def test_a_hundred_records_of_one_grant_are_two_transactions() -> None:
    records = [pending(1, f"r{n}") for n in range(100)]
    first = plan_batch({("a", LANG_90): records}, {("a", LANG_90): grant()}, {"a": OFF}, ATTEMPT)
    [run] = first.commit.runs
    assert len(run.usages) == 99
    after = first.runs[("a", LANG_90)].grant_after
    second = plan_batch({("a", LANG_90): records[99:]}, {("a", LANG_90): after}, {"a": OFF}, ATTEMPT)
    assert [len(run.usages) for run in second.commit.runs] == [1]
    assert second.commit.runs[0].draw is not None
    assert second.commit.runs[0].draw.expected_remaining == MILLION - 99


def test_runs_of_several_grants_share_a_transaction_with_one_postpaid_check_per_account() -> None:
    pending_by_grant = {
        ("a", IMAGE): [pending(40, f"i{n}", IMAGE) for n in range(30)],  # past the 50 free: split by postpaid
        ("a", LANG_90): [pending(1, f"l{n}") for n in range(30)],
        ("a", LANG_90_B): [pending(1, f"b{n}", LANG_90_B) for n in range(60)],
    }
    grants = {("a", IMAGE): grant(IMAGE, 50), ("a", LANG_90): grant(), ("a", LANG_90_B): grant(LANG_90_B)}
    plan = plan_batch(pending_by_grant, grants, {"a": ON}, ATTEMPT)
    assert plan.commit.postpaid_checks == {"a": True}
    items = sum(run.items for run in plan.commit.runs) + len(plan.commit.postpaid_checks)
    assert items == MAX_TRANSACTION_ITEMS
    assert [len(run.usages) for run in plan.commit.runs] == [30, 30, 36]  # the last run fills the room


def test_the_postpaid_check_takes_its_room_in_the_transaction() -> None:
    """120 records past an exhausted grant with postpaid on: no grant write, one check of the
    switch. Planned first in all the room, the run is planned again to leave the check its item."""
    plan = plan_batch({("a", IMAGE): records(120, IMAGE)}, {("a", IMAGE): grant(IMAGE, 0)}, {"a": ON}, ATTEMPT)
    assert (lengths(plan), plan.commit.postpaid_checks, items_of(plan)) == ({IMAGE: 99}, {"a": True}, 100)


def test_the_postpaid_check_takes_what_runs_before_it_left() -> None:
    pending_by_grant = {("a", LANG_90): records(30), ("a", IMAGE): records(100, IMAGE)}
    grants = {("a", LANG_90): grant(), ("a", IMAGE): grant(IMAGE, 0)}
    plan = plan_batch(pending_by_grant, grants, {"a": ON}, ATTEMPT)
    assert (lengths(plan), items_of(plan)) == ({LANG_90: 30, IMAGE: 68}, 100)


def test_one_postpaid_check_per_account_however_many_of_its_runs_need_it() -> None:
    pending_by_grant = {("a", IMAGE): records(40, IMAGE), ("a", NO_TRIAL): records(70, NO_TRIAL),
                        ("b", NO_TRIAL): records(10, NO_TRIAL, account_id="b")}  # fmt: skip
    grants = {("a", IMAGE): grant(IMAGE, 0), ("a", NO_TRIAL): None, ("b", NO_TRIAL): None}
    plan = plan_batch(pending_by_grant, grants, {"a": ON, "b": OFF}, ATTEMPT)
    assert (lengths(plan), plan.commit.postpaid_checks, items_of(plan)) == ({IMAGE: 40, NO_TRIAL: 59}, {"a": True}, 100)


def test_runs_that_need_no_check_take_no_room_for_one() -> None:
    pending_by_grant = {("a", LANG_90): records(60), ("b", LANG_90): records(60, account_id="b")}
    grants = {("a", LANG_90): grant(), ("b", LANG_90): replace(grant(), account_id="b")}
    plan = plan_batch(pending_by_grant, grants, {"a": ON, "b": ON}, ATTEMPT)
    assert [len(run.calls) for run in plan.commit.runs] == [60, 38]
    assert (plan.commit.postpaid_checks, items_of(plan)) == ({}, 100)


def test_the_room_counts_every_run_and_check_before() -> None:
    pending_by_grant = {("a", LANG_90): records(30), ("a", IMAGE): records(5, IMAGE),
                        ("a", LANG_90_B): records(100, LANG_90_B)}  # fmt: skip
    grants = {("a", LANG_90): grant(), ("a", IMAGE): grant(IMAGE, 0), ("a", LANG_90_B): grant(LANG_90_B)}
    plan = plan_batch(pending_by_grant, grants, {"a": ON}, ATTEMPT)
    assert (lengths(plan), items_of(plan)) == ({LANG_90: 30, IMAGE: 5, LANG_90_B: 62}, 100)


def test_a_grant_whose_first_record_does_not_fit_leaves_the_room_to_the_next() -> None:
    """With one item left, a record that needs a grant write waits; one that needs none fits."""
    pending_by_grant = {("a", IMAGE): records(50, IMAGE), ("a", LANG_90): records(47),
                        ("a", LANG_90_B): records(1, LANG_90_B), ("a", NO_TRIAL): records(1, NO_TRIAL)}  # fmt: skip
    grants = {("a", IMAGE): grant(IMAGE, 0), ("a", LANG_90): grant(), ("a", LANG_90_B): grant(LANG_90_B),
              ("a", NO_TRIAL): None}  # fmt: skip
    plan = plan_batch(pending_by_grant, grants, {"a": ON}, ATTEMPT)
    assert (lengths(plan), items_of(plan)) == ({IMAGE: 50, LANG_90: 47, NO_TRIAL: 1}, 100)


def test_the_periods_a_run_clears_count_toward_its_budget_with_the_ones_it_releases() -> None:
    """25 timed-out periods cleared (the most one write clears) and settles of holds ending in 60
    live periods: the grant write names at most its budget of periods, clears and releases
    together, so the run stops after 15 settles."""
    holds = [hold_of(f"h{n}", 10, period(1 + n)) for n in range(60)]
    dead = tuple(HeldPeriod(period(-1 - n), 3) for n in range(25))
    live = tuple(HeldPeriod(hold.expires_at, 10) for hold in holds)
    records = [pending(10, hold.request_id, hold=hold) for hold in holds]
    planned = plan_run(records, grant(holds=dead + live), OFF, ATTEMPT, MAX_TRANSACTION_ITEMS)
    assert planned is not None
    assert planned.run.draw is not None
    assert (len(planned.run.draw.clears), len(planned.run.draw.releases)) == (25, 15)
    assert hold_paths(planned.run.draw) == MAX_HOLD_PATHS_PER_WRITE
    assert [call.usage.request_id for call in planned.run.calls] == [f"h{n}" for n in range(15)]


def test_a_run_names_at_most_so_many_hold_periods() -> None:
    """60 settles of holds ending in 60 periods: the run stops where its grant write would name
    more periods than its budget; settles of one period share its entry."""
    holds = [hold_of(f"h{n}", 10, period(1 + n)) for n in range(60)]
    records = [pending(10, hold.request_id, hold=hold) for hold in holds]
    periods = tuple(HeldPeriod(hold.expires_at, 10) for hold in holds)
    planned = plan_run(records, grant(holds=periods), OFF, ATTEMPT, MAX_TRANSACTION_ITEMS)
    assert planned is not None
    assert planned.run.draw is not None
    assert hold_paths(planned.run.draw) == MAX_HOLD_PATHS_PER_WRITE
    assert [call.usage.request_id for call in planned.run.calls] == [f"h{n}" for n in range(MAX_HOLD_PATHS_PER_WRITE)]
    assert all(call.settles for call in planned.run.calls)
    shared = [hold_of(f"s{n}", 10, period(5)) for n in range(60)]
    together = plan_run([pending(10, hold.request_id, hold=hold) for hold in shared],
                        grant(holds=(HeldPeriod(period(5), 600),)), OFF, ATTEMPT, MAX_TRANSACTION_ITEMS)  # fmt: skip
    assert together is not None
    assert together.run.draw is not None
    assert (len(together.run.calls), together.run.draw.releases) == (60, (HeldPeriod(period(5), 600),))


def test_a_plain_draw_names_no_request_beside_holds() -> None:
    """A record's proof that its request has no hold is its own item's put, never the grant's
    condition: the grant write stays the same size however many records and holds there are."""
    with_a_hold = grant(holds=(HeldPeriod(LATER, 5),))
    planned = plan_run([pending(1, f"r{n}") for n in range(99)], with_a_hold, OFF, ATTEMPT, MAX_TRANSACTION_ITEMS)
    assert planned is not None
    assert planned.run.draw is not None
    update = expressions.draw(planned.run.draw)
    serialized = update.condition_text()
    # The one absence it may prove is of the grant's own entry count (a grant of before v3).
    absences = re.findall(r"attribute_not_exists \((#\d+)\)", serialized)
    placeholders = update.placeholders.names
    assert [placeholders[placeholder] for placeholder in absences] == ["entries"]
    assert not any(re.fullmatch(r"r\d+", name) for name in placeholders.values())  # the records' request ids
    assert [call.hold for call in planned.run.calls] == [None] * 99


def _worst_draws() -> dict[str, GrantDraw]:
    """The grant writes a run may make at its budget of hold periods."""
    periods = tuple(HeldPeriod(period(1 + n), 7) for n in range(MAX_HOLD_PATHS_PER_WRITE))
    base = GrantDraw(LANG_90, MILLION, 100, NOW, exact=True, expected_held=7 * len(periods))
    return {
        "releases": replace(base, releases=periods),
        "clears": replace(base, clears=periods),
        "mixed": replace(base, releases=periods[:20], clears=periods[20:]),
        "relaxed": replace(base, exact=False, releases=periods[:20], clears=periods[20:]),
    }


@pytest.mark.parametrize("kind", ["releases", "clears", "mixed", "relaxed"])
def test_the_largest_grant_write_of_a_run_fits_dynamodb_expression_limits(kind: str) -> None:
    draw = _worst_draws()[kind]
    assert hold_paths(draw) == MAX_HOLD_PATHS_PER_WRITE
    update = expressions.draw(draw)
    condition_text, update_text = update.condition_text(), update.update_text()
    for text in (condition_text, update_text):
        assert len(text.encode()) <= MAX_EXPRESSION_BYTES
    assert len(OPERATOR.findall(condition_text)) <= MAX_OPERATORS
