"""Operator actions (R18): an extension or a void of one grant, once per action_id, each an entry
of the grant's ledger with who acted and why; the support view."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.ledger.test_grant_ledger import assert_chained, whole_ledger
from tests.support import IMAGE, LANG_30, LANG_90, MILLION, START
from trial_ledger import (
    ActionAsk,
    AdmissionRefused,
    Balances,
    EntryKind,
    GrantNotExtendable,
    GrantNotFound,
    GrantNotVoidable,
    HoldAsk,
    HoldStatus,
    InvalidRequest,
    Ledger,
    RequestIdConflict,
    SwitchableClock,
    UnknownModel,
)


def ask(action_id: str = "act-1", model_id: str = LANG_90, account_id: str = "a", **extra: str) -> ActionAsk:
    fields = {"actor": "support:alice", "reason": "ticket 4711"} | extra
    return ActionAsk(action_id, account_id, model_id, fields["actor"], fields["reason"])


def test_an_extension_moves_expires_at_once(ledger: Ledger, clock: SwitchableClock) -> None:
    ledger.record_usage("a", LANG_30, 100, "r1")
    [before] = ledger.grants("a")
    later = START + timedelta(days=60)
    result = ledger.extend_grant(ask(model_id=LANG_30), later)
    assert (result.kind, result.previous_expires_at, result.expires_at) == (
        EntryKind.EXTENSION, before.expires_at, "2026-04-30T08:00:00.000Z")  # fmt: skip
    assert (result.sequence, result.replayed, result.actor, result.reason) == (3, False, "support:alice", "ticket 4711")
    assert ledger.extend_grant(ask(model_id=LANG_30), later) == replace(result, replayed=True)
    with pytest.raises(RequestIdConflict):
        ledger.extend_grant(ask(model_id=LANG_30, reason="another"), later)
    [after] = ledger.grants("a")
    assert (after.expires_at, after.used, after.remaining) == ("2026-04-30T08:00:00.000Z", 100, MILLION - 100)
    clock.freeze(START + timedelta(days=45))  # past the old validity, within the new one
    assert ledger.record_usage("a", LANG_30, 10, "r2").free == 10
    entries = whole_ledger(ledger, "a", LANG_30)
    assert [entry.kind for entry in entries] == [EntryKind.CLAIM, EntryKind.USAGE, EntryKind.EXTENSION, EntryKind.USAGE]
    assert (entries[2].action_id, entries[2].actor, entries[2].reason) == ("act-1", "support:alice", "ticket 4711")
    assert entries[2].delta == Balances(0, 0, 0)
    assert_chained(entries, MILLION)


def test_what_an_extension_refuses(ledger: Ledger, clock: SwitchableClock) -> None:
    with pytest.raises(GrantNotFound):
        ledger.extend_grant(ask(), START + timedelta(days=100))
    ledger.record_usage("a", LANG_90, 1, "r1")
    [grant] = ledger.grants("a")
    for expires_at in (START + timedelta(days=90), START + timedelta(days=30), START + timedelta(days=366, seconds=1)):
        with pytest.raises(InvalidRequest):  # not later than the grant's, or past 366 days after the claim
            ledger.extend_grant(ask(), expires_at)
    assert ledger.extend_grant(ask("act-max"), START + timedelta(days=366)).expires_at == "2027-03-02T08:00:00.000Z"
    with pytest.raises(UnknownModel):
        ledger.extend_grant(ask(model_id="nope"), START + timedelta(days=100))
    for bad in ({"actor": ""}, {"actor": "x" * 201}, {"reason": " "}, {"reason": "x" * 501}):
        with pytest.raises(InvalidRequest):
            ledger.extend_grant(ask("act-bad", **bad), START + timedelta(days=100))
    clock.freeze(START + timedelta(days=367))
    with pytest.raises(GrantNotExtendable):  # expired (effective state)
        ledger.extend_grant(ask("act-late"), START + timedelta(days=366))
    assert ledger.grants("a")[0].expires_at == "2027-03-02T08:00:00.000Z"
    assert grant.used == 1


def test_a_void_expires_the_remainder_and_stops_admission(ledger: Ledger) -> None:
    ledger.record_usage("a", LANG_90, 300, "r1")
    result = ledger.void_grant(ask())
    assert (result.kind, result.expired_quantity, result.sequence) == (EntryKind.VOID, MILLION - 300, 3)
    [grant] = ledger.grants("a")
    assert (grant.status.value, grant.used, grant.remaining, grant.expired) == ("voided", 300, 0, MILLION - 300)
    with pytest.raises(AdmissionRefused) as refused:
        ledger.authorize("a", LANG_90)
    assert refused.value.code == "free_quota_voided"
    assert ledger.record_usage("a", LANG_90, 10, "r2").unbilled_overage == 10
    ledger.activate("a")
    [outcome] = ledger.claim("a", [LANG_90])  # still counts for R1: no second grant
    assert (outcome.outcome.value, len(ledger.grants("a"))) == ("already_claimed", 1)
    assert ledger.void_grant(ask()) == replace(result, replayed=True)
    with pytest.raises(GrantNotVoidable):
        ledger.void_grant(ask("act-2"))
    ledger.reverse_usage("r1", "failed")  # a voided grant's returned units are expired at once
    entries = whole_ledger(ledger, "a", LANG_90)
    assert [entry.kind for entry in entries] == [EntryKind.CLAIM, EntryKind.USAGE, EntryKind.VOID, EntryKind.REVERSAL]
    assert entries[2].delta == Balances(0, -(MILLION - 300), MILLION - 300)
    assert entries[3].delta == Balances(-300, 0, 300)
    assert_chained(entries, MILLION)


def test_an_expired_grant_is_not_voidable(ledger: Ledger, clock: SwitchableClock) -> None:
    ledger.record_usage("a", LANG_30, 1, "r1")
    clock.freeze(START + timedelta(days=30))
    with pytest.raises(GrantNotVoidable):
        ledger.void_grant(ask(model_id=LANG_30))
    assert ledger.expire_due(clock.now()).expired_quantity == MILLION - 1  # the remainder is the expiry's


def test_a_void_ends_live_holds(ledger: Ledger) -> None:
    ledger.hold(HoldAsk("a", IMAGE, "h1", 10))
    ledger.hold(HoldAsk("a", IMAGE, "h2", 10))
    ledger.hold(HoldAsk("a", IMAGE, "h3", 10))
    ledger.void_grant(ask(model_id=IMAGE))
    [grant] = ledger.grants("a")
    assert (grant.held, grant.remaining, grant.expired) == (0, 0, 50)
    assert ledger.release_hold("h1").status is HoldStatus.VOIDED
    assert ledger.release_hold("h1").status is HoldStatus.VOIDED
    settled = ledger.record_usage("a", IMAGE, 5, "h2")  # plain usage: its hold ended with the void
    assert (settled.free, settled.unbilled_overage) == (0, 5)
    assert ledger.release_hold("h2").status is HoldStatus.VOIDED
    assert ledger.release_hold("h3").status is HoldStatus.VOIDED


def test_timed_out_holds_of_a_voided_grant_are_swept_as_voided(ledger: Ledger, clock: SwitchableClock) -> None:
    ledger.hold(HoldAsk("a", IMAGE, "h1", 10, ttl_seconds=60))
    ledger.void_grant(ask(model_id=IMAGE))
    clock.freeze(START + timedelta(minutes=5))
    assert ledger.release_hold("h1").status is HoldStatus.VOIDED  # before the sweep, read from the grant
    assert ledger.sweep_holds(clock.now()).closed_holds == 1
    assert ledger.release_hold("h1").status is HoldStatus.VOIDED


def test_the_support_view(ledger: Ledger, activated: str) -> None:
    ledger.record_usage(activated, LANG_90, 5, "r1")
    ledger.record_usage(activated, IMAGE, 3, "r2")
    view = ledger.support_view(activated)
    assert view.account.account_id == activated
    assert [grant.model_id for grant in view.grants] == sorted([LANG_90, IMAGE])
    assert {record.request_id for record in view.usage.items} == {"r1", "r2"}
    assert ledger.support_view("nobody").grants == []
