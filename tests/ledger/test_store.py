"""The store's refusals: each conditional write that can be refused raises its own type, carrying
the item as it is now when DynamoDB returned it (ALL_OLD), so the caller needs no read."""

from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.support import IMAGE, LANG_90, MILLION, DynamoCalls
from tests.support.faults import FaultInjector, injected_faults
from trial_ledger import ClaimMethod
from trial_ledger.domain.index_entries import ExpiryCandidate
from trial_ledger.domain.refusals import (
    ActivationMissing,
    AlreadyRecorded,
    Contended,
    ExpiryRecorded,
    GrantMoved,
    GrantsExist,
    Outdated,
)
from trial_ledger.domain.state import GrantState, LedgerStamp, UsageRecord
from trial_ledger.domain.writes import CallWrite, GrantDraw, NewGrant, UsageCommit
from trial_ledger.dynamo.store import LedgerStore

NOW = "2026-03-01T08:00:00.000Z"
EXPIRES = "2026-05-30T08:00:00.000Z"


def fresh(model_id: str = LANG_90, quota: int = MILLION) -> GrantState:
    return GrantState("a", model_id, "tokens", quota, 0, quota, 0, ClaimMethod.AUTO, NOW, EXPIRES)


def usage(request_id: str, free: int, fingerprint: str = "f") -> UsageRecord:
    return UsageRecord(request_id, "a", LANG_90, None, free, free, 0, 0, "CNY", "0.0000024", "0", MILLION - free,
                       False, NOW, fingerprint, f"w-{request_id}")  # fmt: skip


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch, dynamodb: object) -> Iterator[FaultInjector]:
    with injected_faults(monkeypatch) as injector:
        yield injector


def test_postpaid_needs_activation(store: LedgerStore) -> None:
    with pytest.raises(ActivationMissing):
        store.set_postpaid("a", True, NOW)
    store.activate("a", NOW)
    assert store.set_postpaid("a", True, NOW).postpaid_enabled is True


def test_a_second_grant_is_refused_with_the_first(store: LedgerStore) -> None:
    store.create_grants("a", [NewGrant(fresh(), None)], require_activation=False)
    with pytest.raises(GrantsExist) as refused:
        store.create_grants("a", [NewGrant(fresh(IMAGE, 50), None), NewGrant(replace(fresh(), quota=5), None)], False)
    assert refused.value.grants == {LANG_90: fresh()}  # as stored, not as asked for
    assert store.read_account("a", [IMAGE])[1] == {}  # the transaction wrote nothing


def test_a_manual_claim_needs_activation(store: LedgerStore) -> None:
    with pytest.raises(ActivationMissing):
        store.create_grants("a", [NewGrant(fresh(), None)], require_activation=True)


def test_a_recorded_request_id_is_refused_with_its_record(store: LedgerStore, dynamo_calls: DynamoCalls) -> None:
    store.create_grants("a", [NewGrant(fresh(), None)], require_activation=False)
    first = usage("r1", 10)
    store.commit_usage(UsageCommit(CallWrite(first), draw=GrantDraw(LANG_90, MILLION, 10, NOW)))
    dynamo_calls.reset()
    with pytest.raises(AlreadyRecorded) as refused:
        store.commit_usage(UsageCommit(CallWrite(usage("r1", 20, "g")), draw=GrantDraw(LANG_90, MILLION - 10, 20, NOW)))
    assert refused.value.record == first
    assert dynamo_calls.operations == ["TransactWriteItems"]
    assert store.read_account("a", [LANG_90])[1][LANG_90].used == 10


def test_a_stale_remainder_is_refused_with_the_grant_as_it_is(store: LedgerStore) -> None:
    store.create_grants("a", [NewGrant(fresh(), None)], require_activation=False)
    store.commit_usage(UsageCommit(CallWrite(usage("r1", 10)), draw=GrantDraw(LANG_90, MILLION, 10, NOW)))
    with pytest.raises(Outdated) as refused:
        store.commit_usage(UsageCommit(CallWrite(usage("r2", 5)), draw=GrantDraw(LANG_90, MILLION, 5, NOW)))
    assert (refused.value.grant_changed, refused.value.postpaid_changed) == (True, False)
    assert refused.value.grant == replace(fresh(), used=10, remaining=MILLION - 10)


def test_a_changed_postpaid_switch_is_refused(store: LedgerStore) -> None:
    store.activate("a", NOW)
    store.set_postpaid("a", True, NOW)
    with pytest.raises(Outdated) as refused:
        store.commit_usage(UsageCommit(CallWrite(usage("r1", 0)), expect_postpaid=False))
    assert (refused.value.grant_changed, refused.value.grant, refused.value.postpaid_changed) == (False, None, True)


def test_a_grant_that_appeared_is_refused_without_the_grant(store: LedgerStore) -> None:
    store.create_grants("a", [NewGrant(fresh(), None)], require_activation=False)
    with pytest.raises(Outdated) as refused:
        store.commit_usage(UsageCommit(CallWrite(usage("r1", 0)), expect_no_grant=True))
    assert (refused.value.grant_changed, refused.value.grant) == (True, None)  # a bare check: read it


def test_a_cancelled_transaction_is_contended(store: LedgerStore, faults: FaultInjector) -> None:
    faults.fail("TransactWriteItems", "conflict")
    with pytest.raises(Contended):
        store.create_grants("a", [NewGrant(fresh(), None)], require_activation=False)
    assert faults.injected == ["TransactWriteItems:conflict"]


def test_expiry_refusals(store: LedgerStore) -> None:
    store.create_grants("a", [NewGrant(fresh(), None)], require_activation=False)
    store.commit_usage(UsageCommit(CallWrite(usage("r1", 10)), draw=GrantDraw(LANG_90, MILLION, 10, NOW, entries=1)))
    candidate = ExpiryCandidate("a", LANG_90, MILLION, EXPIRES)
    with pytest.raises(GrantMoved) as moved:
        store.expire_grant(candidate, LedgerStamp(1, 0, MILLION, 0), EXPIRES, EXPIRES)  # the guess: untouched
    assert moved.value.grant == replace(fresh(), used=10, remaining=MILLION - 10, entries=2)
    with pytest.raises(GrantMoved):  # the right remainder, but not the ledger's last entry
        store.expire_grant(candidate, LedgerStamp(1, 10, MILLION - 10, 0), EXPIRES, EXPIRES)
    store.expire_grant(candidate, LedgerStamp(2, 10, MILLION - 10, 0), EXPIRES, EXPIRES)
    with pytest.raises(ExpiryRecorded):
        store.expire_grant(candidate, LedgerStamp(3, 10, 0, MILLION - 10), EXPIRES, EXPIRES)
