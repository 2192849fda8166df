"""Manual claims from the gallery (R1, R2, R4, R9) and the gallery's claimability."""

from datetime import timedelta

import pytest

from tests.support import CAMPAIGN_CLOSE, IMAGE, LANG_30, LANG_90, LANG_90_B, MILLION, NO_TRIAL, DynamoCalls
from trial_ledger import (
    AccountNotActivated,
    ClaimMethod,
    ClaimOutcomeKind,
    GrantStatus,
    InvalidRequest,
    Ledger,
    SwitchableClock,
)
from trial_ledger.domain.state import GrantState
from trial_ledger.domain.writes import NewGrant
from trial_ledger.dynamo.store import LedgerStore


def test_claim_snapshots_quota_and_validity(ledger: Ledger, activated: str) -> None:
    [outcome] = ledger.claim(activated, [LANG_90])
    grant = outcome.grant
    assert outcome.outcome is ClaimOutcomeKind.CLAIMED
    assert grant is not None
    assert (grant.quota, grant.used, grant.remaining, grant.expired) == (MILLION, 0, MILLION, 0)
    assert grant.status is GrantStatus.ACTIVE
    assert grant.claim_method is ClaimMethod.MANUAL
    assert grant.claimed_at == "2026-03-01T08:00:00.000Z"
    assert grant.expires_at == "2026-05-30T08:00:00.000Z"  # 90 days later
    assert grant.unit == "tokens"


def test_validity_is_per_model(ledger: Ledger, activated: str) -> None:
    outcomes = ledger.claim(activated, [LANG_30, IMAGE])
    assert [o.grant.expires_at for o in outcomes if o.grant] == [
        "2026-03-31T08:00:00.000Z",
        "2026-05-30T08:00:00.000Z",
    ]
    assert outcomes[1].grant is not None
    assert (outcomes[1].grant.unit, outcomes[1].grant.quota) == ("images", 50)


def test_outcomes_follow_request_order(ledger: Ledger, activated: str) -> None:
    ledger.claim(activated, [LANG_90_B])
    outcomes = ledger.claim(activated, ["nope", LANG_90_B, NO_TRIAL, LANG_90])
    assert [(o.model_id, o.outcome) for o in outcomes] == [
        ("nope", ClaimOutcomeKind.UNKNOWN_MODEL),
        (LANG_90_B, ClaimOutcomeKind.ALREADY_CLAIMED),
        (NO_TRIAL, ClaimOutcomeKind.NOT_ELIGIBLE),
        (LANG_90, ClaimOutcomeKind.CLAIMED),
    ]
    assert outcomes[0].grant is None
    assert outcomes[2].grant is None


def test_repeated_claim_returns_the_one_grant(ledger: Ledger, activated: str, clock: SwitchableClock) -> None:
    [first] = ledger.claim(activated, [LANG_90])
    clock.advance(timedelta(days=1))
    [second] = ledger.claim(activated, [LANG_90])
    assert second.outcome is ClaimOutcomeKind.ALREADY_CLAIMED
    assert second.grant == first.grant
    assert len(ledger.grants(activated)) == 1


def test_claim_needs_activation_and_writes_nothing(ledger: Ledger) -> None:
    with pytest.raises(AccountNotActivated):
        ledger.claim("inactive", [LANG_90, "nope"])
    with pytest.raises(AccountNotActivated):
        ledger.claim("inactive", ["nope"])
    assert ledger.grants("inactive") == []


@pytest.mark.parametrize(
    ("models", "detail"),
    [([], "1 to 50"), ([LANG_90, LANG_90], "distinct"), ([f"m{i}" for i in range(51)], "1 to 50")],
)
def test_claim_request_shape(ledger: Ledger, activated: str, models: list[str], detail: str) -> None:
    with pytest.raises(InvalidRequest, match=detail):
        ledger.claim(activated, models)


def test_fifty_models_in_one_request(ledger: Ledger, activated: str) -> None:
    models = [LANG_90, *[f"unknown-{i}" for i in range(49)]]
    outcomes = ledger.claim(activated, models)
    assert len(outcomes) == 50
    assert outcomes[0].outcome is ClaimOutcomeKind.CLAIMED


def test_campaign_closed_refuses_new_claims_but_reports_existing(
    ledger: Ledger, activated: str, clock: SwitchableClock
) -> None:
    ledger.claim(activated, [LANG_90])
    clock.freeze(CAMPAIGN_CLOSE)
    outcomes = ledger.claim(activated, [LANG_90, LANG_90_B, NO_TRIAL])
    assert [o.outcome for o in outcomes] == [
        ClaimOutcomeKind.ALREADY_CLAIMED,
        ClaimOutcomeKind.CAMPAIGN_ENDED,
        ClaimOutcomeKind.NOT_ELIGIBLE,
    ]
    assert [g.model_id for g in ledger.grants(activated)] == [LANG_90]


def test_one_millisecond_before_close_still_claims(ledger: Ledger, activated: str, clock: SwitchableClock) -> None:
    clock.freeze(CAMPAIGN_CLOSE - timedelta(milliseconds=1))
    [outcome] = ledger.claim(activated, [LANG_90])
    assert outcome.outcome is ClaimOutcomeKind.CLAIMED
    assert outcome.grant is not None
    assert outcome.grant.expires_at == "2027-03-31T15:59:58.999Z"  # R4: keeps its own validity


def test_concurrent_claim_that_landed_first_is_returned(ledger: Ledger, store: LedgerStore, activated: str) -> None:
    """A race staged deterministically: another claim commits between our plan and our write."""
    rival = GrantState(activated, LANG_90, "tokens", MILLION, 0, MILLION, 0, ClaimMethod.AUTO,
                       "2026-03-01T07:59:59.000Z", "2026-05-30T07:59:59.000Z")  # fmt: skip
    store.create_grants(activated, [NewGrant(rival, None)], require_activation=False)
    [outcome] = ledger.claim(activated, [LANG_90])
    assert outcome.outcome is ClaimOutcomeKind.ALREADY_CLAIMED
    assert outcome.grant is not None
    assert outcome.grant.claim_method is ClaimMethod.AUTO
    assert outcome.grant.claimed_at == rival.claimed_at


def test_claim_of_new_models_is_one_request(ledger: Ledger, activated: str, dynamo_calls: DynamoCalls) -> None:
    ledger.claim(activated, [LANG_90, LANG_90_B, LANG_30, IMAGE])
    assert dynamo_calls.operations == ["TransactWriteItems"]


def test_claim_beside_existing_grants_retries_only_the_new(
    ledger: Ledger, activated: str, dynamo_calls: DynamoCalls
) -> None:
    ledger.claim(activated, [LANG_90])
    dynamo_calls.reset()
    outcomes = ledger.claim(activated, [LANG_90, LANG_90_B])
    assert [o.outcome for o in outcomes] == [ClaimOutcomeKind.ALREADY_CLAIMED, ClaimOutcomeKind.CLAIMED]
    assert dynamo_calls.operations == ["TransactWriteItems", "TransactWriteItems"]


def test_availability_for_the_gallery(ledger: Ledger, clock: SwitchableClock) -> None:
    assert ledger.availability("a2")[LANG_90].reason == "account_not_activated"
    ledger.activate("a2")
    ledger.claim("a2", [LANG_90])
    availability = ledger.availability("a2")
    assert availability[LANG_90].reason == "already_claimed"
    assert availability[NO_TRIAL].reason == "not_eligible"
    assert availability[LANG_90_B].claimable is True
    assert availability[LANG_90_B].reason is None
    clock.freeze(CAMPAIGN_CLOSE)
    assert ledger.availability("a2")[LANG_90_B].reason == "campaign_ended"


def test_grants_are_sorted_by_model(ledger: Ledger, activated: str) -> None:
    ledger.claim(activated, [LANG_90, IMAGE, LANG_90_B])
    assert [g.model_id for g in ledger.grants(activated)] == sorted([LANG_90, IMAGE, LANG_90_B])


def test_accounts_do_not_share_grants(ledger: Ledger, activated: str) -> None:
    ledger.activate("other")
    ledger.claim(activated, [LANG_90])
    [outcome] = ledger.claim("other", [LANG_90])
    assert outcome.outcome is ClaimOutcomeKind.CLAIMED
    assert ledger.grants("other")[0].account_id == "other"
