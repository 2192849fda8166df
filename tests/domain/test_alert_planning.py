"""The account's alert thresholds in the plans (R20, pure functions): every claim copies the
thresholds of the profile it was planned on, and its write names them, with the activation and
the postpaid switch the write also depends on, in the one profile item it may take."""

import pytest

from tests.support import IMAGE, LANG_90, START
from trial_ledger import Account, Alerts, AlertsSource, ClaimMethod, format_timestamp
from trial_ledger.config.catalog import default_catalog_document, parse_catalog
from trial_ledger.domain.planning.batch import Pending, plan_batch
from trial_ledger.domain.planning.draws import Attempt
from trial_ledger.domain.planning.hold import CheckedHold, plan_hold
from trial_ledger.domain.planning.usage import CheckedUsage, plan_usage
from trial_ledger.domain.refusals import ProfileChanged
from trial_ledger.domain.rules import new_grant
from trial_ledger.domain.state import GrantState, ProfileState
from trial_ledger.domain.writes import NewGrant, ProfileProof, profile_proof

CATALOG = parse_catalog(default_catalog_document())
NOW = format_timestamp(START)
OWN = ProfileState("a", NOW, postpaid_enabled=False, balance_low_percent=(40, 90))
OWN_ON = ProfileState("a", NOW, postpaid_enabled=True, balance_low_percent=(40, 90))
ATTEMPT = Attempt(now=START, campaign_open=True, relaxed=False, write_id="w-1")


def usage(quantity: int, model_id: str = IMAGE, account_id: str = "a", request_id: str = "r1") -> CheckedUsage:
    return CheckedUsage(CATALOG[model_id], account_id, quantity, request_id, None, f"f-{request_id}")


def claimed(thresholds: tuple[int, ...] | None, model_id: str = IMAGE) -> NewGrant:
    return NewGrant(new_grant("a", CATALOG[model_id], ClaimMethod.AUTO, START, thresholds), None)


def existing(model_id: str = IMAGE) -> GrantState:
    return new_grant("a", CATALOG[model_id], ClaimMethod.MANUAL, START, None)


@pytest.mark.parametrize(
    ("proof", "needed"),
    [
        (ProfileProof("a"), False),
        (ProfileProof("a", claims=1), True),
        (ProfileProof("a", require_activation=True), True),
        (ProfileProof("a", expect_postpaid=False), True),
        (ProfileProof("a", expect_postpaid=True), True),
    ],
)
def test_a_write_takes_the_profile_only_for_a_claim_an_activation_or_a_split(proof: ProfileProof, needed: bool) -> None:
    assert proof.needed is needed


def test_the_proof_of_a_claim_counts_its_grants_and_names_the_thresholds_they_copy() -> None:
    grants = [claimed((40, 90)), claimed((40, 90), LANG_90)]
    assert profile_proof("a", grants, True, require_activation=True) == ProfileProof("a", 2, (40, 90), True, True)
    assert profile_proof("a", [claimed(None)]) == ProfileProof("a", 1, None, False, None)
    assert profile_proof("a", []) == ProfileProof("a", 0, None, False, None)


def test_the_grants_of_one_write_copy_one_profile() -> None:
    with pytest.raises(ValueError, match=r"^the grants of one write copy one profile's alert thresholds$"):
        profile_proof("a", [claimed((40, 90)), claimed((50,), LANG_90)])


def test_a_usage_that_claims_copies_the_profiles_thresholds_and_its_write_proves_them() -> None:
    plan = plan_usage(usage(60), None, OWN_ON, ATTEMPT)  # 50 free, 10 billable
    assert plan.commit.new_grant is not None
    assert plan.commit.new_grant.state.alert_thresholds == (40, 90)
    assert plan.commit.profile_proof == ProfileProof("a", 1, (40, 90), False, True)


def test_a_usage_on_its_grant_proves_only_the_switch_its_split_assumed() -> None:
    assert plan_usage(usage(60), existing(), OWN, ATTEMPT).commit.profile_proof == ProfileProof(
        "a", 0, None, False, False
    )
    assert not plan_usage(usage(5), existing(), OWN, ATTEMPT).commit.profile_proof.needed


def test_a_first_hold_copies_the_profiles_thresholds_and_its_write_proves_them() -> None:
    request = CheckedHold(CATALOG[IMAGE], "a", "h1", 5, None, 900, "f")
    plan = plan_hold(request, None, OWN, ATTEMPT)
    assert plan.commit is not None
    assert plan.commit.new_grant is not None
    assert plan.commit.new_grant.state.alert_thresholds == (40, 90)
    assert plan.commit.profile_proof == ProfileProof("a", 1, (40, 90), False, None)
    zero = plan_hold(request, _spent(), OWN_ON, ATTEMPT)  # nothing left: a hold of 0 units, postpaid
    assert zero.commit is not None
    assert zero.commit.profile_proof == ProfileProof("a", 0, None, False, True)


def _spent() -> GrantState:
    grant = existing()
    return GrantState(grant.account_id, grant.model_id, grant.unit, grant.quota, grant.quota, 0, 0,
                      grant.claim_method, grant.claimed_at, grant.expires_at)  # fmt: skip


def test_a_batch_proves_each_accounts_profile_once_for_its_claims_and_its_switch() -> None:
    pending = {
        ("a", IMAGE): [Pending(usage(60), "w-1")],  # claims, 10 billable: the switch too
        ("a", LANG_90): [Pending(usage(5, LANG_90, request_id="r2"), "w-2")],  # claims
        ("b", IMAGE): [Pending(usage(5, account_id="b", request_id="r3"), "w-3")],  # on its grant: nothing
        ("c", IMAGE): [Pending(usage(60, account_id="c", request_id="r4"), "w-4")],  # its grant, split: the switch
        ("d", IMAGE): [Pending(usage(5, account_id="d", request_id="r5"), "w-5")],  # claims, all free: no switch
    }
    grants = {("a", IMAGE): None, ("a", LANG_90): None, ("b", IMAGE): existing(), ("c", IMAGE): existing(),
              ("d", IMAGE): None}  # fmt: skip
    profiles = {"a": OWN_ON, "b": OWN, "c": ProfileState("c", NOW, postpaid_enabled=False),
                "d": ProfileState("d", NOW, postpaid_enabled=True)}  # fmt: skip
    plan = plan_batch(pending, grants, profiles, ATTEMPT)
    assert plan.commit.profile_proofs == [ProfileProof("a", 2, (40, 90), False, True),
                                          ProfileProof("c", 0, None, False, False),
                                          ProfileProof("d", 1, None, False, None)]  # fmt: skip
    copied = [run.new_grant.state.alert_thresholds for run in plan.commit.runs if run.new_grant]
    assert copied == [(40, 90), (40, 90), None]


def test_an_account_reads_every_field_with_its_own_thresholds() -> None:
    assert OWN_ON.account((80, 95)) == Account("a", NOW, True, Alerts((40, 90), AlertsSource.ACCOUNT))


def test_a_profile_refusal_carries_the_profile_as_it_is() -> None:
    refusal = ProfileChanged(OWN)
    assert refusal.profile is OWN
    assert str(refusal) == "the profile of 'a' changed"
