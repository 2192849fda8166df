"""The revivals a write on an exhausted snapshot proves (R17, docs/ledger.md "Units back to an
exhausted grant"): a usage, a batch run or a postpaid hold that found nothing free checks the
postpaid switch on the account's profile, and with it the profile's ``revivals`` the plan read,
so that a reversal that gave units back meanwhile refuses the write (pure, no DynamoDB)."""

import pytest

from tests.support import IMAGE, START
from trial_ledger import ClaimMethod, format_timestamp
from trial_ledger.config.catalog import default_catalog_document, parse_catalog
from trial_ledger.domain.planning.batch import Pending, plan_batch
from trial_ledger.domain.planning.draws import Attempt
from trial_ledger.domain.planning.hold import CheckedHold, plan_hold
from trial_ledger.domain.planning.usage import CheckedUsage, plan_usage
from trial_ledger.domain.state import GrantState, ProfileState
from trial_ledger.domain.writes import ProfileProof, profile_proof

CATALOG = parse_catalog(default_catalog_document())
NOW = format_timestamp(START)
ATTEMPT = Attempt(now=START, campaign_open=True, relaxed=False, write_id="w-1")
QUOTA = CATALOG[IMAGE].trial.quota  # type: ignore[union-attr]
EXHAUSTED = GrantState("a", IMAGE, CATALOG[IMAGE].unit, QUOTA, QUOTA, 0, 0, ClaimMethod.AUTO,
                       "2026-03-01T00:00:00.000Z", "2026-05-30T08:00:00.000Z", entries=9)  # fmt: skip


def profile(postpaid: bool, revivals: int = 3) -> ProfileState:
    return ProfileState("a", NOW, postpaid, revivals=revivals)


def request(quantity: int = 12, request_id: str = "r1") -> CheckedUsage:
    return CheckedUsage(CATALOG[IMAGE], "a", quantity, request_id, None, f"f-{request_id}")


@pytest.mark.parametrize("postpaid", [False, True])
def test_a_usage_on_an_exhausted_grant_proves_the_revivals_it_read(postpaid: bool) -> None:
    commit = plan_usage(request(), EXHAUSTED, profile(postpaid), ATTEMPT).commit
    assert (commit.draw, commit.expect_postpaid, commit.expect_revivals) == (None, postpaid, 3)
    assert commit.profile_proof == ProfileProof("a", expect_postpaid=postpaid, revivals=3)


def test_a_batch_run_on_an_exhausted_grant_proves_the_revivals_it_read() -> None:
    records = [Pending(request(5, f"r{n}"), f"w-{n}") for n in range(2)]
    commit = plan_batch({("a", IMAGE): records}, {("a", IMAGE): EXHAUSTED}, {"a": profile(True, 4)}, ATTEMPT).commit
    assert [run.expect_revivals for run in commit.runs] == [4]
    assert commit.profile_proofs == [ProfileProof("a", expect_postpaid=True, revivals=4)]


def test_a_postpaid_hold_on_an_exhausted_grant_proves_the_revivals_it_read() -> None:
    hold = CheckedHold(CATALOG[IMAGE], "a", "h1", 10, None, 900, "f")
    commit = plan_hold(hold, EXHAUSTED, profile(True, 5), ATTEMPT).commit
    assert commit is not None
    assert (commit.hold.held, commit.expect_revivals) == (0, 5)
    assert commit.profile_proof == ProfileProof("a", expect_postpaid=True, revivals=5)


def test_a_profile_proof_carries_the_revivals_beside_the_postpaid_switch() -> None:
    assert profile_proof("a", [], expect_postpaid=False, revivals=2) == ProfileProof("a", expect_postpaid=False,
                                                                                     revivals=2)  # fmt: skip
