"""Which planned writes are entries of their grant's ledger (R19), pure: a usage that draws free
units is the grant's next entry with the balances it leaves, proving the grant's last entry; one
that draws nothing free is none; a batch run's records are consecutive entries after the last."""

from dataclasses import replace

from tests.support import IMAGE, START
from trial_ledger import ClaimMethod, format_timestamp
from trial_ledger.config.catalog import default_catalog_document, parse_catalog
from trial_ledger.domain.planning.batch import Pending, plan_run
from trial_ledger.domain.planning.draws import Attempt
from trial_ledger.domain.planning.usage import CheckedUsage, plan_usage
from trial_ledger.domain.state import GrantState, HeldPeriod, LedgerStamp, ProfileState

CATALOG = parse_catalog(default_catalog_document())
NOW = format_timestamp(START)
OFF = ProfileState("a", NOW, postpaid_enabled=False)
ATTEMPT = Attempt(now=START, campaign_open=True, relaxed=False, write_id="w-1")
EXPIRES = "2026-05-30T08:00:00.000Z"
QUOTA = CATALOG[IMAGE].trial.quota  # type: ignore[union-attr]


def request(quantity: int, request_id: str = "r1") -> CheckedUsage:
    return CheckedUsage(CATALOG[IMAGE], "a", quantity, request_id, None, f"f-{request_id}")


def grant(remaining: int, expired: int = 0, entries: int = 7, expires_at: str = EXPIRES) -> GrantState:
    return GrantState("a", IMAGE, CATALOG[IMAGE].unit, QUOTA, QUOTA - remaining - expired, remaining, expired,
                      ClaimMethod.AUTO, "2026-03-01T00:00:00.000Z", expires_at, entries=entries)  # fmt: skip


def test_a_usage_that_draws_free_units_is_the_grants_next_entry_with_the_balances_it_leaves() -> None:
    before = grant(remaining=30, expired=5)
    plan = plan_usage(request(12), before, OFF, ATTEMPT)
    assert plan.commit.usage.entry == LedgerStamp(8, before.used + 12, 18, 5)
    assert plan.commit.draw is not None
    assert (plan.commit.draw.entries, plan.commit.draw.expected_entries) == (1, 7)  # proves entry 7 is the last
    assert plan.grant_after is not None
    assert plan.grant_after.stamp() == LedgerStamp(8, before.used + 12, 18, 5)


def test_a_usage_that_draws_nothing_free_is_no_entry() -> None:
    exhausted = plan_usage(request(12), grant(remaining=0), OFF, ATTEMPT)
    assert (exhausted.commit.usage.entry, exhausted.commit.draw, exhausted.grant_after) == (None, None, grant(0))
    past_expiry = plan_usage(request(12), grant(remaining=30, expires_at=NOW), OFF, ATTEMPT)
    assert (past_expiry.commit.usage.entry, past_expiry.commit.draw) == (None, None)
    all_held = replace(grant(remaining=30), holds=(HeldPeriod("2026-03-01T08:10:00.000Z", 30),))
    held = plan_usage(request(12), all_held, OFF, ATTEMPT)  # an exact draw of nothing proves the holds
    assert held.commit.usage.entry is None
    assert held.commit.draw is not None
    assert held.commit.draw.entries == 0
    assert held.grant_after is not None
    assert held.grant_after.entries == 7


def test_the_usage_that_claims_the_trial_is_entry_2_after_the_claim() -> None:
    plan = plan_usage(request(12), None, OFF, ATTEMPT)
    assert plan.commit.usage.entry == LedgerStamp(2, 12, QUOTA - 12, 0)
    assert plan.commit.new_grant is not None
    assert plan.commit.new_grant.state.stamp() == LedgerStamp(2, 12, QUOTA - 12, 0)


def test_a_batch_runs_records_are_consecutive_entries_after_the_grants_last() -> None:
    records = [Pending(request(10, f"r{n}"), f"w-{n}") for n in range(4)]
    before = grant(remaining=25, entries=4)
    planned = plan_run(records, before, OFF, ATTEMPT, room=100)
    assert planned is not None
    used = before.used
    assert [usage.entry for usage in planned.run.usages] == [
        LedgerStamp(5, used + 10, 15, 0),
        LedgerStamp(6, used + 20, 5, 0),
        LedgerStamp(7, used + 25, 0, 0),
        None,  # nothing free left: no entry
    ]
    assert planned.run.draw is not None
    assert (planned.run.draw.entries, planned.run.draw.expected_entries) == (3, 4)
    assert planned.grant_after is not None
    assert planned.grant_after.stamp() == LedgerStamp(7, used + 25, 0, 0)
