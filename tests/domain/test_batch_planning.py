"""Planning a batch (pure functions, no DynamoDB): runs of one grant's records, one grant write
each, packed into transactions of at most 100 items; and the worst grant write a run may make,
held to DynamoDB's expression limits."""

import re
from dataclasses import replace

import pytest
from pynamodb.expressions.update import Update

from tests.support import IMAGE, LANG_90, LANG_90_B, MILLION, START
from trial_ledger import ClaimMethod, format_timestamp
from trial_ledger.config.catalog import default_catalog_document, parse_catalog
from trial_ledger.domain.planning.batch import (
    MAX_HOLD_PATHS_PER_WRITE,
    MAX_TRANSACTION_ITEMS,
    Pending,
    hold_paths,
    plan_batch,
    plan_run,
)
from trial_ledger.domain.planning.draws import Attempt
from trial_ledger.domain.planning.usage import CheckedUsage
from trial_ledger.domain.state import GrantState, HeldEntry, ProfileState
from trial_ledger.domain.writes import GrantDraw
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


def pending(quantity: int, request_id: str, model_id: str = LANG_90) -> Pending:
    return Pending(
        CheckedUsage(CATALOG[model_id], "a", quantity, request_id, None, f"f-{request_id}"), f"w-{request_id}"
    )


def grant(model_id: str = LANG_90, remaining: int = MILLION, holds: tuple[HeldEntry, ...] = ()) -> GrantState:
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


def test_a_run_names_at_most_so_many_hold_entries() -> None:
    holds = tuple(HeldEntry(f"h{n}", 10, LATER) for n in range(60))
    records = [pending(10, f"h{n}") for n in range(60)]
    planned = plan_run(records, grant(holds=holds), OFF, ATTEMPT, MAX_TRANSACTION_ITEMS)
    assert planned is not None
    assert planned.run.draw is not None
    assert hold_paths(planned.run.draw) == MAX_HOLD_PATHS_PER_WRITE
    assert planned.run.settles_holds == tuple(f"h{n}" for n in range(MAX_HOLD_PATHS_PER_WRITE))


def test_beside_no_hold_a_plain_draw_needs_no_proof_per_record() -> None:
    planned = plan_run([pending(1, f"r{n}") for n in range(99)], grant(), OFF, ATTEMPT, MAX_TRANSACTION_ITEMS)
    assert planned is not None
    assert planned.run.draw is not None
    _, condition = expressions.draw(planned.run.draw)
    serialized = condition.serialize({}, {})
    assert "attribute_not_exists" not in serialized  # held_total = 0 proves it for every request
    with_a_hold = grant(holds=(HeldEntry("other", 5, LATER),))
    beside = plan_run([pending(1, f"r{n}") for n in range(3)], with_a_hold, OFF, ATTEMPT, MAX_TRANSACTION_ITEMS)
    assert beside is not None
    assert beside.run.draw is not None
    assert beside.run.draw.unheld == ("r0", "r1", "r2")
    assert expressions.draw(beside.run.draw)[1].serialize({}, {}).count("attribute_not_exists") == 3


def _worst_draws() -> dict[str, GrantDraw]:
    """The grant writes a run may make at its budget of hold entries, with 128-character ids."""
    ids = [f"{n:03d}".ljust(128, "x") for n in range(MAX_HOLD_PATHS_PER_WRITE)]
    entries = tuple(HeldEntry(request_id, 7, LATER) for request_id in ids)
    base = GrantDraw(LANG_90, MILLION, 100, NOW, exact=True, expected_held=7 * len(ids))
    return {
        "settles": replace(base, settles=entries),
        "clears": replace(base, clears=entries),
        "proofs": replace(base, unheld=tuple(ids)),
        "mixed": replace(base, settles=entries[:14], clears=entries[14:27], unheld=tuple(ids[27:])),
    }


@pytest.mark.parametrize("kind", ["settles", "clears", "proofs", "mixed"])
def test_the_largest_grant_write_of_a_run_fits_dynamodb_expression_limits(kind: str) -> None:
    draw = _worst_draws()[kind]
    assert hold_paths(draw) == MAX_HOLD_PATHS_PER_WRITE
    actions, condition = expressions.draw(draw)
    names: dict[str, str] = {}
    values: dict[str, str] = {}
    condition_text = condition.serialize(names, values)
    update_text = Update(*actions).serialize(names, values)
    assert update_text is not None
    for text in (condition_text, update_text):
        assert len(text.encode()) <= MAX_EXPRESSION_BYTES
    assert len(OPERATOR.findall(condition_text)) <= MAX_OPERATORS
