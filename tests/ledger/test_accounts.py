"""Activation and the postpaid switch."""

from datetime import timedelta

import pytest

from trial_ledger import AccountNotActivated, InvalidRequest, Ledger, SwitchableClock


def test_new_account_is_not_activated_and_not_postpaid(ledger: Ledger) -> None:
    account = ledger.account("fresh")
    assert (account.account_id, account.activated_at, account.postpaid_enabled) == ("fresh", None, False)


def test_activation_is_idempotent_and_keeps_first_time(ledger: Ledger, clock: SwitchableClock) -> None:
    first = ledger.activate("a1")
    clock.advance(timedelta(days=3))
    again = ledger.activate("a1")
    assert first.activated_at == "2026-03-01T08:00:00.000Z"
    assert again.activated_at == first.activated_at
    assert ledger.account("a1").activated_at == first.activated_at


def test_postpaid_needs_activation_and_writes_nothing_when_refused(ledger: Ledger) -> None:
    with pytest.raises(AccountNotActivated):
        ledger.set_postpaid("a1", True)
    assert ledger.account("a1").postpaid_enabled is False
    assert ledger.account("a1").activated_at is None


def test_postpaid_toggles_after_activation(ledger: Ledger, activated: str) -> None:
    assert ledger.set_postpaid(activated, True).postpaid_enabled is True
    assert ledger.account(activated).postpaid_enabled is True
    assert ledger.set_postpaid(activated, False).postpaid_enabled is False


def test_activation_keeps_postpaid_setting(ledger: Ledger, activated: str) -> None:
    ledger.set_postpaid(activated, True)
    assert ledger.activate(activated).postpaid_enabled is True


@pytest.mark.parametrize("bad", ["", "a#b", "x" * 129, "line\nbreak", " lead"])
def test_account_ids_are_checked(ledger: Ledger, bad: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        ledger.activate(bad)
    assert raised.value.field == "account_id"
