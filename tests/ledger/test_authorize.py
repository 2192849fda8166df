"""Admission before an invocation: automatic claim (R3), validity (R5), stop reasons (R7),
root-account sharing (R8)."""

from datetime import timedelta

import pytest

from tests.support import CAMPAIGN_CLOSE, IMAGE, LANG_90, MILLION, NO_TRIAL, DynamoCalls
from trial_ledger import AdmissionRefused, Catalog, ClaimMethod, FundingSource, Ledger, SwitchableClock, UnknownModel
from trial_ledger.dynamo.store import LedgerStore


def test_first_use_claims_automatically_without_activation(ledger: Ledger) -> None:
    result = ledger.authorize("never-activated", LANG_90, sub_account_id="key-1")
    assert (result.allowed, result.source, result.free_remaining, result.auto_claimed) == (
        True,
        FundingSource.FREE,
        MILLION,
        True,
    )
    [grant] = ledger.grants("never-activated")
    assert grant.claim_method is ClaimMethod.AUTO


def test_second_authorization_does_not_claim_again(ledger: Ledger) -> None:
    ledger.authorize("a", LANG_90)
    assert ledger.authorize("a", LANG_90).auto_claimed is False
    assert len(ledger.grants("a")) == 1


def test_authorize_is_one_read_once_claimed(ledger: Ledger, activated: str, dynamo_calls: DynamoCalls) -> None:
    ledger.claim(activated, [LANG_90])
    dynamo_calls.reset()
    ledger.authorize(activated, LANG_90)
    assert dynamo_calls.operations == ["BatchGetItem"]


def test_unknown_model(ledger: Ledger) -> None:
    with pytest.raises(UnknownModel):
        ledger.authorize("a", "no-such-model")


def test_model_without_trial_is_refused_without_postpaid(ledger: Ledger) -> None:
    with pytest.raises(AdmissionRefused) as refused:
        ledger.authorize("a", NO_TRIAL)
    assert refused.value.code == "no_free_quota"
    assert ledger.grants("a") == []


def test_model_without_trial_is_postpaid_when_enabled(ledger: Ledger, activated: str) -> None:
    ledger.set_postpaid(activated, True)
    result = ledger.authorize(activated, NO_TRIAL)
    assert (result.source, result.free_remaining, result.auto_claimed) == (FundingSource.POSTPAID, 0, False)


def test_exhausted_grant_stops_then_postpaid_resumes(ledger: Ledger, activated: str) -> None:
    ledger.record_usage(activated, IMAGE, 50, "r1")
    with pytest.raises(AdmissionRefused) as refused:
        ledger.authorize(activated, IMAGE)
    assert refused.value.code == "free_quota_exhausted"
    ledger.set_postpaid(activated, True)
    assert ledger.authorize(activated, IMAGE).source is FundingSource.POSTPAID


def test_expired_grant_is_refused_before_the_nightly_job(
    ledger: Ledger, activated: str, clock: SwitchableClock
) -> None:
    ledger.claim(activated, [LANG_90])
    clock.advance(timedelta(days=90))  # exactly expires_at: unusable from this instant on
    with pytest.raises(AdmissionRefused) as refused:
        ledger.authorize(activated, LANG_90)
    assert refused.value.code == "free_quota_expired"


def test_last_millisecond_of_validity_is_still_free(ledger: Ledger, activated: str, clock: SwitchableClock) -> None:
    ledger.claim(activated, [LANG_90])
    clock.advance(timedelta(days=90) - timedelta(milliseconds=1))
    assert ledger.authorize(activated, LANG_90).free_remaining == MILLION


def test_no_automatic_claim_after_campaign_close(ledger: Ledger, clock: SwitchableClock) -> None:
    clock.freeze(CAMPAIGN_CLOSE)
    with pytest.raises(AdmissionRefused) as refused:
        ledger.authorize("late", LANG_90)
    assert refused.value.code == "no_free_quota"
    assert ledger.grants("late") == []


def test_grant_taken_before_close_keeps_working_after(ledger: Ledger, clock: SwitchableClock) -> None:
    clock.freeze(CAMPAIGN_CLOSE - timedelta(days=1))
    ledger.authorize("early", LANG_90)
    clock.freeze(CAMPAIGN_CLOSE + timedelta(days=30))
    assert ledger.authorize("early", LANG_90).source is FundingSource.FREE


def test_sub_accounts_share_the_root_grant(ledger: Ledger) -> None:
    ledger.record_usage("root", LANG_90, 400_000, "r1", sub_account_id="alice")
    ledger.record_usage("root", LANG_90, 600_000, "r2", sub_account_id="bob")
    with pytest.raises(AdmissionRefused) as refused:
        ledger.authorize("root", LANG_90, sub_account_id="carol")
    assert refused.value.code == "free_quota_exhausted"


def test_the_catalog_a_ledger_is_given_is_the_one_it_uses(store: LedgerStore, clock: SwitchableClock) -> None:
    """Even an empty one: a deploy's catalog is never slipped in behind the caller's back."""
    empty = Ledger(store=store, catalog=Catalog([]), clock=clock, campaign_close=CAMPAIGN_CLOSE)
    assert list(empty.catalog) == []
    with pytest.raises(UnknownModel):
        empty.authorize("a", LANG_90)
