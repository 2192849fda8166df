"""The account's alert thresholds (R20): on the profile and on every grant, copied by every claim,
and exact against a claim that read the profile before a change (or a change that read the
account before a claim). Races are staged: the other container's write is made at the chosen
moment, then the path that must notice it is asserted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support import IMAGE, LANG_30, LANG_90, LANG_90_B, DynamoCalls
from tests.support.catalogs import wide_catalog
from trial_ledger import (
    AccountNotActivated,
    Alerts,
    AlertsSource,
    HoldAsk,
    InvalidRequest,
    Ledger,
    UsageAsk,
)
from trial_ledger.dynamo.store import LedgerStore


def thresholds_on_grants(store: LedgerStore, account_id: str) -> dict[str, tuple[int, ...] | None]:
    _, grants = store.read_whole_account(account_id)
    return {grant.model_id: grant.alert_thresholds for grant in grants}


def test_an_account_reads_the_deploys_thresholds_until_it_sets_its_own(ledger: Ledger, activated: str) -> None:
    assert ledger.account(activated).alerts == Alerts((80, 95), AlertsSource.DEFAULT)
    answer = ledger.set_alerts(activated, [90, 50])
    assert answer.alerts == Alerts((50, 90), AlertsSource.ACCOUNT)
    assert answer == ledger.account(activated)


def test_setting_thresholds_needs_the_activation_and_writes_nothing_without_it(
    ledger: Ledger, store: LedgerStore, dynamo_calls: DynamoCalls
) -> None:
    ledger.authorize("acct-x", LANG_90)  # an automatic claim needs no activation
    dynamo_calls.reset()
    with pytest.raises(AccountNotActivated):
        ledger.set_alerts("acct-x", [50])
    assert dynamo_calls.writes() == []
    assert ledger.account("acct-x").alerts == Alerts((80, 95), AlertsSource.DEFAULT)
    assert thresholds_on_grants(store, "acct-x") == {LANG_90: None}


@pytest.mark.parametrize("bad", [[], [1, 2, 3, 4, 5, 6], [0], [100], [80, 80], [50.5]])
def test_bad_thresholds_are_refused_before_anything_is_read_or_written(
    ledger: Ledger, activated: str, dynamo_calls: DynamoCalls, bad: list[Any]
) -> None:
    dynamo_calls.reset()
    with pytest.raises(InvalidRequest) as refused:
        ledger.set_alerts(activated, bad)
    assert refused.value.field == "balance_low_percent"
    assert dynamo_calls.operations == []


def test_a_change_writes_the_profile_and_every_grant_in_one_transaction(
    ledger: Ledger, activated: str, store: LedgerStore, dynamo_calls: DynamoCalls
) -> None:
    ledger.claim(activated, [LANG_90, IMAGE])
    ledger.authorize(activated, LANG_30)
    dynamo_calls.reset()
    ledger.set_alerts(activated, [60])
    assert dynamo_calls.operations == ["Query", "TransactWriteItems"]
    assert len(dynamo_calls.calls[1][1]["TransactItems"]) == 4  # the profile and three grants
    assert thresholds_on_grants(store, activated) == {LANG_90: (60,), IMAGE: (60,), LANG_30: (60,)}


def test_every_kind_of_claim_afterwards_copies_the_thresholds(
    ledger: Ledger, activated: str, store: LedgerStore
) -> None:
    ledger.set_alerts(activated, [30, 70])
    ledger.claim(activated, [LANG_90])
    ledger.authorize(activated, LANG_90_B)
    ledger.record_usage(activated, LANG_30, 5, "u-1")
    ledger.hold(HoldAsk(activated, IMAGE, "h-1", 3))
    assert set(thresholds_on_grants(store, activated).values()) == {(30, 70)}


def test_a_batch_that_claims_copies_the_thresholds(ledger: Ledger, activated: str, store: LedgerStore) -> None:
    ledger.set_alerts(activated, [40])
    ledger.record_usage_batch([UsageAsk(activated, IMAGE, 5, "b-1"), UsageAsk(activated, LANG_30, 5, "b-2")])
    assert thresholds_on_grants(store, activated) == {IMAGE: (40,), LANG_30: (40,)}


# -- a claim on a stale profile ----------------------------------------------------------------


def test_a_gallery_claim_on_a_stale_profile_claims_with_the_new_thresholds(
    ledger: Ledger, other: Ledger, activated: str, store: LedgerStore
) -> None:
    other.availability(activated)  # the gallery: `other` remembers the profile it showed
    ledger.set_alerts(activated, [55])
    other.claim(activated, [LANG_90, IMAGE])
    assert thresholds_on_grants(store, activated) == {LANG_90: (55,), IMAGE: (55,)}


def after_first(monkeypatch: pytest.MonkeyPatch, store: LedgerStore, method: str, step: Callable[[], object]) -> None:
    """Run ``step`` (another container's write) right after the first call of ``store.method``."""
    original, done = getattr(store, method), list[bool]()

    def staged(*args: Any, **kwargs: Any) -> Any:
        answer = original(*args, **kwargs)
        if not done:
            done.append(True)
            step()
        return answer

    monkeypatch.setattr(store, method, staged)


def test_a_usage_that_read_the_profile_just_before_a_change_claims_with_the_new_thresholds(
    ledger: Ledger, activated: str, store: LedgerStore, monkeypatch: pytest.MonkeyPatch, dynamo_calls: DynamoCalls
) -> None:
    """The usage's automatic claim (the hot path's first use) reads the profile, the grant and its
    request's item; a console container changes the thresholds; the usage's transaction, planned
    on the old profile, is refused by the profile's condition, and the usage reads again and claims
    with the new thresholds."""
    other = Ledger(store=LedgerStore(), catalog=ledger.catalog, clock=ledger.clock)
    after_first(monkeypatch, store, "read_call", lambda: other.set_alerts(activated, [25]))
    dynamo_calls.reset()
    result = ledger.record_usage(activated, LANG_90_B, 10, "u-stale")
    assert (result.auto_claimed, result.free) == (True, 10)
    assert dynamo_calls.operations == [
        "BatchGetItem", "BatchGetItem",  # the usage's read: no grant at its key, nor a claim at the account's
        "Query", "TransactWriteItems",  # the change
        "TransactWriteItems", "BatchGetItem", "BatchGetItem", "TransactWriteItems",  # refused, read again, claimed
    ]  # fmt: skip
    assert thresholds_on_grants(store, activated)[LANG_90_B] == (25,)


def test_an_authorization_that_read_the_profile_just_before_a_change_claims_with_the_new_thresholds(
    ledger: Ledger, activated: str, store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """authorize reads the profile and the grant, then claims: a change lands in between."""
    other = Ledger(store=LedgerStore(), catalog=ledger.catalog, clock=ledger.clock)
    after_first(monkeypatch, store, "read_account", lambda: other.set_alerts(activated, [65]))
    assert ledger.authorize(activated, LANG_90).auto_claimed
    assert thresholds_on_grants(store, activated) == {LANG_90: (65,)}


def test_a_hold_that_read_the_profile_just_before_a_change_claims_with_the_new_thresholds(
    ledger: Ledger, activated: str, store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = Ledger(store=LedgerStore(), catalog=ledger.catalog, clock=ledger.clock)
    after_first(monkeypatch, store, "read_account", lambda: other.set_alerts(activated, [35]))
    assert ledger.hold(HoldAsk(activated, IMAGE, "h-stale", 5)).auto_claimed
    assert thresholds_on_grants(store, activated) == {IMAGE: (35,)}


def test_a_batch_that_read_the_profile_just_before_a_change_claims_with_the_new_thresholds(
    ledger: Ledger, activated: str, store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = Ledger(store=LedgerStore(), catalog=ledger.catalog, clock=ledger.clock)
    after_first(monkeypatch, store, "read_accounts", lambda: other.set_alerts(activated, [45]))
    ledger.record_usage_batch([UsageAsk(activated, IMAGE, 5, "b-1"), UsageAsk(activated, LANG_30, 5, "b-2")])
    assert thresholds_on_grants(store, activated) == {IMAGE: (45,), LANG_30: (45,)}


def test_a_change_that_read_the_account_before_a_claim_writes_that_grant_too(
    ledger: Ledger, activated: str, store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The change reads the grants, then a claim commits (with the old thresholds, rightly: the
    change has not committed yet), then the change writes: it must not miss the new grant."""
    ledger.claim(activated, [LANG_90])
    other = Ledger(store=LedgerStore(), catalog=ledger.catalog, clock=ledger.clock)
    after_first(monkeypatch, store, "read_claims", lambda: other.authorize(activated, IMAGE))
    ledger.set_alerts(activated, [15, 85])
    assert thresholds_on_grants(store, activated) == {LANG_90: (15, 85), IMAGE: (15, 85)}


# -- more grants than one transaction holds ------------------------------------------------------


def test_an_account_with_more_grants_than_a_transaction_holds_gets_them_all(
    store: LedgerStore, ledger: Ledger, dynamo_calls: DynamoCalls
) -> None:
    wide = Ledger(store=store, catalog=wide_catalog(130), clock=ledger.clock)
    wide.activate("acct-w")
    models = list(wide.catalog)
    for start in range(0, len(models), 50):
        wide.claim("acct-w", models[start : start + 50])
    dynamo_calls.reset()
    wide.set_alerts("acct-w", [70])
    transactions = [params for name, params in dynamo_calls.calls if name == "TransactWriteItems"]
    assert [len(params["TransactItems"]) for params in transactions] == [100, 31]
    assert set(thresholds_on_grants(store, "acct-w").values()) == {(70,)}
    assert len(thresholds_on_grants(store, "acct-w")) == 130
