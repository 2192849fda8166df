"""Planning an operator action (R18), a pure function: an extension moves a grant that has not
expired to a later ``expires_at``, at most 366 days after its claim; a void records the whole
remainder as expired and ends the units its live holds reserve; each is the grant's next ledger
entry (R19) with the balances after it; and what makes two requests of one ``action_id`` the
same action."""

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.support import IMAGE, LANG_90, START
from trial_ledger import ClaimMethod, format_timestamp, parse_timestamp
from trial_ledger.correction_results import ActionAsk, EntryKind
from trial_ledger.domain.planning.actions import (
    ActionCommit,
    ActionRecord,
    CheckedAction,
    plan_action,
)
from trial_ledger.domain.refusals import ActionTaken, Refused
from trial_ledger.domain.rules import action_fingerprint
from trial_ledger.domain.state import GrantState, HeldPeriod, LedgerStamp
from trial_ledger.errors import GrantNotExtendable, GrantNotVoidable, InvalidRequest

NOW = format_timestamp(START)
CLAIMED = "2026-02-01T00:00:00.000Z"
EXPIRES = "2026-05-02T00:00:00.000Z"
LATEST = "2027-02-02T00:00:00.000Z"
"""366 days after CLAIMED (2026 is no leap year: 2027-02-01 is 365 days after)."""
LATER = "2026-08-01T00:00:00.000Z"
LIVE = HeldPeriod(format_timestamp(START + timedelta(minutes=10)), 20)
TIMED_OUT = HeldPeriod(format_timestamp(START - timedelta(minutes=1)), 10)


def grant(used: int = 100, remaining: int = 850, expired: int = 50, voided_at: str | None = None) -> GrantState:
    return GrantState("a", IMAGE, "images", 1000, used, remaining, expired, ClaimMethod.AUTO, CLAIMED, EXPIRES,
                      holds=(TIMED_OUT, LIVE), entries=5, voided_at=voided_at)  # fmt: skip


def extension(expires_at: str = LATER) -> CheckedAction:
    return CheckedAction("act-1", EntryKind.EXTENSION, "a", IMAGE, "ops@example", "goodwill", "fp-1", expires_at)


def void() -> CheckedAction:
    return CheckedAction("act-2", EntryKind.VOID, "a", IMAGE, "support@example", "abuse", "fp-2")


def at(instant: str, shift: timedelta = timedelta(0)) -> str:
    return format_timestamp(parse_timestamp(instant) + shift)


MS = timedelta(milliseconds=1)


def test_an_extension_moves_expires_at_as_the_grants_next_entry_its_balances_unchanged() -> None:
    commit = plan_action(extension(), grant(), NOW)
    assert commit == ActionCommit(
        ActionRecord(action_id="act-1", kind=EntryKind.EXTENSION, account_id="a", model_id=IMAGE,
                     actor="ops@example", reason="goodwill", acted_at=NOW, fingerprint="fp-1",
                     previous_expires_at=EXPIRES, expires_at=LATER, expired_quantity=0,
                     entry=LedgerStamp(6, 100, 850, 50)),
        expected_entries=5,
        held_total=0,  # live holds keep their own expires_at and their units
    )  # fmt: skip


def test_an_extension_may_move_expires_at_up_to_exactly_366_days_after_the_claim_not_one_millisecond_more() -> None:
    assert plan_action(extension(LATEST), grant(), NOW).action.expires_at == LATEST
    with pytest.raises(InvalidRequest) as refused:
        plan_action(extension(at(LATEST, MS)), grant(), NOW)
    assert refused.value.field == "expires_at"
    # the refusal names both ends of what an extension may ask for
    assert str(refused.value) == f"expires_at must be later than the grant's {EXPIRES} and at most {LATEST}"


@pytest.mark.parametrize("asked", [EXPIRES, at(EXPIRES, -MS), CLAIMED])
def test_an_extension_must_move_expires_at_later(asked: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        plan_action(extension(asked), grant(), NOW)
    assert refused.value.field == "expires_at"


def test_one_millisecond_later_is_an_extension() -> None:
    assert plan_action(extension(at(EXPIRES, MS)), grant(), NOW).action.expires_at == at(EXPIRES, MS)


@pytest.mark.parametrize("past", [timedelta(0), timedelta(days=2)])
def test_an_extension_of_a_grant_past_its_expires_at_is_refused_even_before_the_nightly_run(past: timedelta) -> None:
    not_yet_expired_by_the_run = grant()  # its remainder still recorded as remaining
    with pytest.raises(GrantNotExtendable, match="of 'a' for 'hunyuan-image'"):
        plan_action(extension(), not_yet_expired_by_the_run, at(EXPIRES, past))
    just_before = plan_action(extension(), not_yet_expired_by_the_run, at(EXPIRES, -MS))
    assert just_before.action.entry == LedgerStamp(6, 100, 850, 50)


def test_a_voided_grant_cannot_be_extended() -> None:
    voided = grant(remaining=0, expired=900, voided_at=at(NOW, -timedelta(hours=1)))
    with pytest.raises(GrantNotExtendable, match="of 'a' for 'hunyuan-image'"):
        plan_action(extension(), voided, NOW)


def test_a_void_records_the_whole_remainder_as_expired_as_the_grants_next_entry() -> None:
    commit = plan_action(void(), grant(), NOW)
    assert commit == ActionCommit(
        ActionRecord(action_id="act-2", kind=EntryKind.VOID, account_id="a", model_id=IMAGE,
                     actor="support@example", reason="abuse", acted_at=NOW, fingerprint="fp-2",
                     previous_expires_at=EXPIRES, expires_at=EXPIRES, expired_quantity=850,
                     entry=LedgerStamp(6, 100, 0, 900)),
        expected_entries=5,
        held_total=30,  # every period's units, live or timed out: the void ends them with the grant
    )  # fmt: skip


def test_a_void_of_an_exhausted_grant_expires_nothing_and_is_still_an_entry() -> None:
    commit = plan_action(void(), replace(grant(used=1000, remaining=0, expired=0), holds=()), NOW)
    assert (commit.action.expired_quantity, commit.action.entry, commit.held_total) == (
        0, LedgerStamp(6, 1000, 0, 0), 0)  # fmt: skip


@pytest.mark.parametrize("past", [timedelta(0), timedelta(days=2)])
def test_a_grant_past_its_expires_at_is_not_voidable_its_remainder_belongs_to_the_expiry(past: timedelta) -> None:
    with pytest.raises(GrantNotVoidable, match="of 'a' for 'hunyuan-image'"):
        plan_action(void(), grant(), at(EXPIRES, past))
    assert plan_action(void(), grant(), at(EXPIRES, -MS)).action.expired_quantity == 850


def test_a_grant_is_voided_once() -> None:
    voided = grant(remaining=0, expired=900, voided_at=at(NOW, -timedelta(hours=1)))
    with pytest.raises(GrantNotVoidable, match="of 'a' for 'hunyuan-image'"):
        plan_action(void(), voided, NOW)


def test_an_action_taken_carries_the_recorded_action() -> None:
    recorded = plan_action(void(), grant(), NOW).action
    taken = ActionTaken(recorded)
    assert taken.action is recorded
    assert isinstance(taken, Refused)


def ask(account_id: str = "acct-1", model_id: str = LANG_90, actor: str = "ops@example", reason: str = "goodwill",
        action_id: str = "act-1") -> ActionAsk:  # fmt: skip
    return ActionAsk(action_id, account_id, model_id, actor, reason)


def test_action_fingerprints_are_pinned_because_stored_actions_carry_them() -> None:
    """A replay compares the fingerprint stored with the action to the one the request makes now:
    the canonical JSON (sorted keys, no spaces) hashed by SHA-256 must never change."""
    # sha256 of {"account_id":"acct-1","actor":"ops@example","expires_at":"2026-06-30T00:00:00.000Z",
    # "kind":"extension","model_id":"hunyuan-turbo","reason":"goodwill"}, without the line break
    assert action_fingerprint("extension", ask(), "2026-06-30T00:00:00.000Z") == (
        "f1efa8bf1c4c32030edda3aef740514a6c231dfb6bb126ab8457bba5f044caae")  # fmt: skip
    # sha256 of {"account_id":"acct-1","actor":"ops@example","expires_at":null,"kind":"void",
    # "model_id":"hunyuan-turbo","reason":"abuse"}
    assert action_fingerprint("void", ask(reason="abuse"), None) == (
        "0d7e89e9e2da626eac879194a3027481bc3b9b085550b9252d073b679d9d0e86")  # fmt: skip


def test_two_requests_of_one_action_id_are_the_same_action_only_when_all_of_the_body_agrees() -> None:
    base = action_fingerprint("extension", ask(), LATER)
    assert base == action_fingerprint("extension", ask(action_id="act-2"), LATER)  # the key, not the body
    others = {action_fingerprint("void", ask(), LATER),
              action_fingerprint("extension", ask(account_id="acct-2"), LATER),
              action_fingerprint("extension", ask(model_id=IMAGE), LATER),
              action_fingerprint("extension", ask(actor="ops2@example"), LATER),
              action_fingerprint("extension", ask(reason="goodwill!"), LATER),
              action_fingerprint("extension", ask(), LATEST), action_fingerprint("extension", ask(), None)}  # fmt: skip
    assert len(others | {base}) == 8
