"""Plans batched usage: runs of one grant's records, packed into transactions.

A run is consecutive records of one grant, planned one by one and written as one grant write;
one transaction takes the first run of as many grants as fit."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ..state import GrantKey, GrantState, HoldRecord, ProfileState
from ..writes import MAX_TRANSACTION_ITEMS, BatchCommit, GrantDraw, GrantRun, NewGrant, grant_write_items
from .draws import Attempt, released
from .usage import CheckedUsage, UsagePlan, plan_usage

MAX_HOLD_PATHS_PER_WRITE = 40
"""Hold periods one grant write may name (given units back, or cleared): keeps its condition and
update expressions well inside DynamoDB's 4 KB and 300 operators."""


@dataclass(frozen=True, slots=True)
class Pending:
    """A record to write, with the write id that tells its own record from an earlier one."""

    request: CheckedUsage
    write_id: str
    hold: HoldRecord | None = None
    """The request's hold, when its item is known to hold one (of this account and model)."""


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
    as fit in MAX_TRANSACTION_ITEMS with one profile item per account whose runs need one (a
    postpaid check, or the proof of a claim's alert thresholds, R20).
    Every draw is exact (``attempt.relaxed`` is not used): see docs/ledger.md."""
    runs: dict[GrantKey, PlannedRun] = {}
    items, checked = 0, set[str]()
    for key, records in pending.items():
        account_id = key[0]
        plan = functools.partial(plan_run, records, grants[key], profiles[account_id], attempt)
        planned = plan(MAX_TRANSACTION_ITEMS - items)
        needs_check = account_id not in checked
        if planned is not None and planned.run.needs_profile and needs_check:
            planned = plan(MAX_TRANSACTION_ITEMS - items - 1)  # with room for the account's profile
        if planned is None:
            continue
        if planned.run.needs_profile and needs_check:
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
        plan = plan_usage(pending.request, grant_now, profile, exact, pending.hold)
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
        calls=tuple(commit.call for commit in commits),
        # The first record claims the trial (R3); the grant it puts already carries every draw.
        draw=combined(draws) if draws and claimed is None else None,
        new_grant=NewGrant(plans[-1].grant_after, claimed.claimed_by) if claimed and plans[-1].grant_after else None,
        expect_no_grant=first.expect_no_grant,
        expect_postpaid=next((c.expect_postpaid for c in commits if c.expect_postpaid is not None), None),
        expect_revivals=first.expect_revivals,
    )


def combined(draws: Sequence[GrantDraw]) -> GrantDraw:
    """Consecutive exact draws of one grant as one: the first one's expectations, every draw's
    units, the units its settles give back (one entry a period), and its clears."""
    first = draws[0]
    assert all(draw.exact for draw in draws), "a batch plans exact draws only"
    return GrantDraw(
        first.model_id,
        first.expected_remaining,
        sum(draw.free for draw in draws),
        first.now,
        exact=True,
        expected_held=first.expected_held,
        releases=released(tuple(period for draw in draws for period in draw.releases)),
        clears=tuple(period for draw in draws for period in draw.clears),
        entries=sum(draw.entries for draw in draws),
        expected_entries=first.expected_entries,
    )


def _fits(plans: Sequence[UsagePlan], room: int) -> bool:
    commits = [plan.commit for plan in plans]
    draws = [commit.draw for commit in commits if commit.draw is not None]
    items = len(commits) + grant_write_items(bool(draws), commits[0].new_grant is not None, commits[0].expect_no_grant)
    return items <= room and (not draws or _combined_hold_paths(draws) <= MAX_HOLD_PATHS_PER_WRITE)


def _combined_hold_paths(draws: Sequence[GrantDraw]) -> int:
    """``hold_paths(combined(draws))`` without building the combined draw (``_fits`` asks it of
    every longer run)."""
    return len(released(tuple(period for draw in draws for period in draw.releases))) + sum(
        len(draw.clears) for draw in draws
    )


def hold_paths(draw: GrantDraw) -> int:
    """Hold periods the grant write names."""
    return len(draw.releases) + len(draw.clears)
