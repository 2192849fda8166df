"""Pure rules: time format (R12), free-first split (R6), exact money (R10), effective state (R5),
the claim snapshot (R5), the request fingerprints and the id and quantity rules."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tests.support import IMAGE, NO_TRIAL, START
from trial_ledger import ClaimMethod, Grant, GrantStatus, SwitchableClock, format_timestamp, parse_timestamp
from trial_ledger.config.catalog import default_catalog_document, parse_catalog
from trial_ledger.domain.rules import (
    charge_for,
    effective_grant,
    format_money,
    hold_fingerprint,
    new_grant,
    require_id,
    require_quantity,
    require_text,
    require_thresholds,
    split_usage,
    usage_fingerprint,
)
from trial_ledger.domain.state import GrantState, HeldPeriod
from trial_ledger.errors import InvalidRequest
from trial_ledger.limits import MAX_QUANTITY, MAX_REASON_LENGTH

CATALOG = parse_catalog(default_catalog_document())


def test_timestamps_are_utc_z_milliseconds() -> None:
    shanghai = timezone(timedelta(hours=8))
    moment = datetime(2026, 12, 31, 23, 59, 59, 123456, tzinfo=shanghai)
    assert format_timestamp(moment) == "2026-12-31T15:59:59.123Z"
    assert parse_timestamp("2026-12-31T23:59:59+08:00") == datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        parse_timestamp("2026-01-01T00:00:00")
    with pytest.raises(ValueError, match="naive"):
        format_timestamp(datetime(2026, 1, 1))


def test_switchable_clock() -> None:
    clock = SwitchableClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock.advance(timedelta(hours=1))
    assert clock.now() == datetime(2026, 1, 1, 1, tzinfo=UTC)
    clock.unfreeze()
    assert clock.frozen is False
    with pytest.raises(RuntimeError):
        clock.advance(timedelta(seconds=1))


@pytest.mark.parametrize(
    ("quantity", "free", "postpaid", "expected"),
    [
        (10, 100, False, (10, 0, 0)),
        (10, 4, True, (4, 6, 0)),
        (10, 4, False, (4, 0, 6)),
        (10, 0, True, (0, 10, 0)),
        (10, 0, False, (0, 0, 10)),
    ],
)
def test_split_free_first(quantity: int, free: int, postpaid: bool, expected: tuple[int, int, int]) -> None:
    split = split_usage(quantity, free, postpaid)
    assert (split.free, split.billable, split.unbilled_overage) == expected
    assert split.free + split.billable + split.unbilled_overage == quantity


def test_money_is_exact_and_plain() -> None:
    assert format_money(charge_for(3, Decimal("0.0000024"))) == "0.0000072"
    assert format_money(charge_for(10, Decimal("0.2"))) == "2"
    assert format_money(charge_for(0, Decimal("0.0000008"))) == "0"
    assert format_money(charge_for(1_000_000_000, Decimal("0.000002"))) == "2000"
    # A price of "-0" passes the catalog (it is not below 0): money is still never written "-0".
    assert format_money(Decimal("-0")) == "0"
    assert format_money(charge_for(7, Decimal("-0"))) == "0"


def _state(remaining: int, expired: int = 0) -> GrantState:
    return GrantState("a", "m", "tokens", 100, 100 - remaining - expired, remaining, expired, ClaimMethod.MANUAL,
                      "2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z")  # fmt: skip


def test_effective_state() -> None:
    before = "2026-01-31T23:59:59.999Z"
    at = "2026-02-01T00:00:00.000Z"
    assert effective_grant(_state(40), before).status is GrantStatus.ACTIVE
    assert effective_grant(_state(0), before).status is GrantStatus.EXHAUSTED
    expired = effective_grant(_state(40), at)
    assert (expired.status, expired.remaining, expired.expired, expired.used) == (GrantStatus.EXPIRED, 0, 40, 60)
    recorded = effective_grant(_state(0, expired=40), at)
    assert (recorded.remaining, recorded.expired) == (0, 40)


def test_a_grant_view_is_the_stored_grant_with_what_live_holds_reserve_now() -> None:
    ends = "2026-01-31T23:59:00.000Z"
    state = replace(_state(40), holds=(HeldPeriod("2026-01-31T23:00:00.000Z", 5), HeldPeriod(ends, 7)))
    assert effective_grant(state, "2026-01-31T23:30:00.000Z") == Grant(
        account_id="a", model_id="m", unit="tokens", quota=100, used=60, remaining=40, expired=0,
        status=GrantStatus.ACTIVE, claim_method=ClaimMethod.MANUAL, claimed_at="2026-01-01T00:00:00.000Z",
        expires_at="2026-02-01T00:00:00.000Z", held=7)  # fmt: skip
    assert effective_grant(state, ends).held == 0


def test_a_claim_snapshots_the_models_trial_and_starts_untouched() -> None:
    claimed_at = START + timedelta(hours=5, milliseconds=7)
    grant = new_grant("acct-1", CATALOG[IMAGE], ClaimMethod.MANUAL, claimed_at, None)
    assert grant == GrantState(
        account_id="acct-1", model_id=IMAGE, unit="images", quota=50, used=0, remaining=50, expired=0,
        claim_method=ClaimMethod.MANUAL, claimed_at="2026-03-01T13:00:00.007Z",
        expires_at="2026-05-30T13:00:00.007Z", holds=(), alert_thresholds=None)  # fmt: skip
    with pytest.raises(ValueError, match=f"model '{NO_TRIAL}' has no trial to grant"):
        new_grant("acct-1", CATALOG[NO_TRIAL], ClaimMethod.MANUAL, claimed_at, None)


def test_a_claim_copies_the_accounts_alert_thresholds() -> None:
    """R20: a grant carries its account's thresholds from its claim on (the events read them there)."""
    grant = new_grant("acct-1", CATALOG[IMAGE], ClaimMethod.AUTO, START, (50, 90))
    assert grant.alert_thresholds == (50, 90)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([1], (1,)), ([99], (99,)), ([95, 50, 80], (50, 80, 95)), ([10, 20, 30, 40, 50], (10, 20, 30, 40, 50))],
)
def test_alert_thresholds_are_1_to_5_distinct_percents_kept_ascending(
    values: list[int], expected: tuple[int, ...]
) -> None:
    assert require_thresholds(values) == expected


@pytest.mark.parametrize(
    ("values", "detail"),
    [
        ([], "^name 1 to 5 thresholds$"),
        ([1, 2, 3, 4, 5, 6], "^name 1 to 5 thresholds$"),
        ([0], "^thresholds are integers from 1 to 99$"),
        ([100], "^thresholds are integers from 1 to 99$"),
        ([50, 100], "^thresholds are integers from 1 to 99$"),
        ([50.0], "^thresholds are integers from 1 to 99$"),
        ([True], "^thresholds are integers from 1 to 99$"),
        (["50"], "^thresholds are integers from 1 to 99$"),
        ([80, 80], "^thresholds must be distinct$"),
    ],
)
def test_any_other_alert_thresholds_are_refused_naming_the_field(values: list[object], detail: str) -> None:
    with pytest.raises(InvalidRequest, match=detail) as refused:
        require_thresholds(values)  # type: ignore[arg-type]
    assert refused.value.field == "balance_low_percent"


def test_fingerprints_are_pinned_because_stored_records_carry_them() -> None:
    """A replay compares the fingerprint stored with the record to the one the request makes now:
    the canonical JSON (sorted keys, no spaces) hashed by SHA-256 must never change."""
    assert usage_fingerprint("acct-1", "hunyuan-turbo", 500, "key-1") == (
        "8a1861705691bc34e23ad8fa84495b0fc99987affd4f0fbfc91a792441be3a03")  # fmt: skip
    assert usage_fingerprint("acct-1", "hunyuan-turbo", 500, None) == (
        "268ac4b9bf9ab46889dbb0fc10175f0ee115e2d72bf91f125d95a47649aa2f93")  # fmt: skip
    # sha256 of {"account_id":"acct-1","estimate":500,"model_id":"hunyuan-turbo","sub_account_id":null,
    # "ttl_seconds":900}, without the line break
    assert hold_fingerprint("acct-1", "hunyuan-turbo", 500, None, 900) == (
        "debfbe7194a3ad553105921cc44b652b916b651306bc415bd6b87be24a965446")  # fmt: skip
    assert hold_fingerprint("acct-1", "hunyuan-turbo", 500, "key-1", 900) == (
        "1d9416baf8a8a64b6bc750eea635ea4644b627f103e2cef5daf616f5e3fc525b")  # fmt: skip


def test_a_hold_fingerprint_covers_the_holds_body() -> None:
    base = hold_fingerprint("a", "m", 1, None, 900)
    assert len({base, hold_fingerprint("b", "m", 1, None, 900), hold_fingerprint("a", "n", 1, None, 900),
                hold_fingerprint("a", "m", 2, None, 900), hold_fingerprint("a", "m", 1, "s", 900),
                hold_fingerprint("a", "m", 1, None, 60)}) == 6  # fmt: skip


@pytest.mark.parametrize("value", ["a", "0", "acct-1", "key_1.prod:eu@x-y", "A" * 128])
def test_an_id_is_1_to_128_letters_digits_and_separators_that_keys_do_not_use(value: str) -> None:
    assert require_id(value, "account_id") == value


@pytest.mark.parametrize("value", ["", "A" * 129, "acct#1", "-acct", "acct 1", "acct/1", "é", 7, None])
def test_any_other_id_is_refused_naming_its_field(value: object) -> None:
    with pytest.raises(InvalidRequest) as refused:
        require_id(value, "request_id")  # type: ignore[arg-type]
    assert refused.value.detail == "request_id must be 1-128 characters of letters, digits and . _ : @ -"
    assert refused.value.field == "request_id"


@pytest.mark.parametrize("quantity", [1, 2, MAX_QUANTITY - 1, MAX_QUANTITY])
def test_a_quantity_is_an_integer_from_1_to_the_maximum(quantity: int) -> None:
    assert require_quantity(quantity) == quantity


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY + 1, True, 1.0, "1", None])
def test_any_other_quantity_is_refused_naming_its_field(quantity: object) -> None:
    with pytest.raises(InvalidRequest) as refused:
        require_quantity(quantity)  # type: ignore[arg-type]
    assert refused.value.detail == "quantity must be an integer from 1 to 1000000000"
    assert refused.value.field == "quantity"
    with pytest.raises(InvalidRequest) as named:
        require_quantity(quantity, "estimate")  # type: ignore[arg-type]
    assert (named.value.detail, named.value.field) == ("estimate must be an integer from 1 to 1000000000", "estimate")


@pytest.mark.parametrize("value", ["x", " x ", "metered twice", "r" * MAX_REASON_LENGTH])
def test_a_reason_is_1_to_500_characters_not_only_blanks(value: str) -> None:
    assert require_text(value, "reason", MAX_REASON_LENGTH) == value


@pytest.mark.parametrize("value", ["", " ", "\t\n ", "r" * (MAX_REASON_LENGTH + 1), None, 7])
def test_any_other_text_is_refused_naming_its_field_and_limit(value: object) -> None:
    with pytest.raises(InvalidRequest) as refused:
        require_text(value, "reason", MAX_REASON_LENGTH)  # type: ignore[arg-type]
    assert refused.value.detail == "reason must be 1 to 500 characters, not only blanks"
    assert refused.value.field == "reason"
    with pytest.raises(InvalidRequest) as named:
        require_text("a" * 201, "actor", 200)
    assert (named.value.detail, named.value.field) == ("actor must be 1 to 200 characters, not only blanks", "actor")


def test_fingerprint_covers_the_body() -> None:
    base = usage_fingerprint("a", "m", 1, None)
    assert base == usage_fingerprint("a", "m", 1, None)
    assert len({base, usage_fingerprint("a", "m", 2, None), usage_fingerprint("a", "m", 1, "s"),
                usage_fingerprint("b", "m", 1, None), usage_fingerprint("a", "n", 1, None)}) == 5  # fmt: skip
