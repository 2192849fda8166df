"""Plans batched usage: runs of one grant's records, packed into transactions.

A run is consecutive records of one grant, planned one by one and written as one grant write;
one transaction takes the first run of as many grants as fit."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ..state import GrantKey, GrantState, ProfileState
from ..writes import BatchCommit, GrantDraw, GrantRun, NewGrant
from .draws import Attempt
from .usage import CheckedUsage, UsagePlan, plan_usage

MAX_TRANSACTION_ITEMS = 100
"""TransactWriteItems takes at most 100 items (and never the same item twice)."""

MAX_HOLD_PATHS_PER_WRITE = 40
"""Hold entries one grant write may name (settled, cleared, or proven absent): keeps its condition
and update expressions well inside DynamoDB's 4 KB and 300 operators."""

"""(account_id, model_id)."""


@dataclass(frozen=True, slots=True)
class Pending:
    """A record to write, with the write id that tells its own record from an earlier one."""

    request: CheckedUsage
    write_id: str


@dataclass(frozen=True, slots=True)
class PlannedRun:
    run: GrantRun
    grant_after: GrantState | None
    """The grant as the run leaves it."""


@dataclass(frozen=True, slots=True)
class BatchPlan:
    commit: BatchCommit
    runs: dict[GrantKey, PlannedRun]


def plan_batch(
    pending: Mapping[GrantKey, Sequence[Pending]],
    grants: Mapping[GrantKey, GrantState | None],
    profiles: Mapping[str, ProfileState],
    attempt: Attempt,
) -> BatchPlan:
    """One transaction: the first run of each grant (in the order grants first appear), as many
    as fit in MAX_TRANSACTION_ITEMS with one postpaid check per account whose runs need one.
    Every draw is exact (``attempt.relaxed`` is not used): see docs/ledger.md."""
    runs: dict[GrantKey, PlannedRun] = {}
    items, checked = 0, set[str]()
    for key, records in pending.items():
        account_id = key[0]
        plan = functools.partial(plan_run, records, grants[key], profiles[account_id], attempt)
        planned = plan(MAX_TRANSACTION_ITEMS - items)
        needs_check = account_id not in checked
        if planned is not None and planned.run.expect_postpaid is not None and needs_check:
            planned = plan(MAX_TRANSACTION_ITEMS - items - 1)  # with room for the account's check
        if planned is None:
            continue
        if planned.run.expect_postpaid is not None and needs_check:
            checked.add(account_id)
            items += 1
        runs[key] = planned
        items += planned.run.items
    return BatchPlan(BatchCommit(tuple(planned.run for planned in runs.values())), runs)


def plan_run(
    records: Sequence[Pending],
    grant: GrantState | None,
    profile: ProfileState,
    attempt: Attempt,
    room: int,
) -> PlannedRun | None:
    """The longest prefix of ``records`` (all of one grant) that fits in ``room`` items, each
    planned on the grant the ones before it leave (free first across the batch, R6), all exact;
    None when not even the first fits."""
    plans: list[UsagePlan] = []
    for pending in records:
        grant_now = plans[-1].grant_after if plans else grant
        exact = replace(attempt, relaxed=False, write_id=pending.write_id)
        plan = plan_usage(pending.request, grant_now, profile, exact)
        if not _fits([*plans, plan], room):
            break
        plans.append(plan)
    if not plans:
        return None
    request = records[0].request
    return PlannedRun(merge(request.account_id, request.model.model_id, plans), plans[-1].grant_after)


def merge(account_id: str, model_id: str, plans: Sequence[UsagePlan]) -> GrantRun:
    """The records of consecutive plans of one grant, and the one grant write doing all of theirs."""
    commits = [plan.commit for plan in plans]
    first = commits[0]
    claimed = first.new_grant
    draws = [commit.draw for commit in commits if commit.draw is not None]
    return GrantRun(
        account_id=account_id,
        model_id=model_id,
        usages=tuple(commit.usage for commit in commits),
        # The first record claims the trial (R3); the grant it puts already carries every draw.
        draw=combined(draws) if draws and claimed is None else None,
        new_grant=NewGrant(plans[-1].grant_after, claimed.claimed_by) if claimed and plans[-1].grant_after else None,
        expect_no_grant=first.expect_no_grant,
        settles_holds=tuple(commit.settles_hold for commit in commits if commit.settles_hold),
        expect_postpaid=next((c.expect_postpaid for c in commits if c.expect_postpaid is not None), None),
    )


def combined(draws: Sequence[GrantDraw]) -> GrantDraw:
    """Consecutive exact draws of one grant as one: the first one's expectations, every draw's
    units, settles, clears and proofs."""
    first = draws[0]
    assert all(draw.exact for draw in draws), "a batch plans exact draws only"
    return GrantDraw(
        first.model_id,
        first.expected_remaining,
        sum(draw.free for draw in draws),
        first.now,
        exact=True,
        expected_held=first.expected_held,
        unheld=tuple(request_id for draw in draws for request_id in draw.unheld),
        settles=tuple(entry for draw in draws for entry in draw.settles),
        clears=tuple(entry for draw in draws for entry in draw.clears),
    )


def _fits(plans: Sequence[UsagePlan], room: int) -> bool:
    commits = [plan.commit for plan in plans]
    draws = [commit.draw for commit in commits if commit.draw is not None]
    grant_write = bool(draws) or commits[0].new_grant is not None or commits[0].expect_no_grant
    items = len(commits) + sum(commit.settles_hold is not None for commit in commits) + int(grant_write)
    return items <= room and (not draws or hold_paths(combined(draws)) <= MAX_HOLD_PATHS_PER_WRITE)


def hold_paths(draw: GrantDraw) -> int:
    """Hold entries the grant write names (proofs only beside holds: see expressions.draw)."""
    proofs = len(draw.unheld) if draw.expected_held else 0
    return len(draw.settles) + len(draw.clears) + proofs
