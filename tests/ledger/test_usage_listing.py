"""Usage listing: newest first, an opaque cursor, an optional model filter, per account."""

from datetime import timedelta

import pytest

from tests.support import IMAGE, LANG_90
from trial_ledger import InvalidCursor, InvalidRequest, Ledger, SwitchableClock
from trial_ledger.dynamo.indexes.queries import MAX_ITEMS_EVALUATED


@pytest.fixture
def history(ledger: Ledger, clock: SwitchableClock) -> list[str]:
    ids = []
    for index in range(7):
        model = IMAGE if index % 3 == 0 else LANG_90
        ledger.record_usage("a", model, 1, f"r{index}")
        ids.append(f"r{index}")
        clock.advance(timedelta(seconds=1))
    ledger.record_usage("b", LANG_90, 1, "other-account")
    return ids


def test_newest_first_with_cursor(ledger: Ledger, history: list[str]) -> None:
    seen, cursor, pages = [], None, 0
    while True:
        page = ledger.usage("a", limit=3, cursor=cursor)
        seen += [item.request_id for item in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(reversed(history))
    assert pages == 3


def test_exact_last_page_has_no_cursor(ledger: Ledger, history: list[str]) -> None:
    page = ledger.usage("a", limit=7)
    assert len(page.items) == 7
    assert page.next_cursor is None


def test_model_filter(ledger: Ledger, history: list[str]) -> None:
    page = ledger.usage("a", model_id=IMAGE, limit=2)
    assert [item.request_id for item in page.items] == ["r6", "r3"]
    rest = ledger.usage("a", model_id=IMAGE, limit=2, cursor=page.next_cursor)
    assert [item.request_id for item in rest.items] == ["r0"]
    assert rest.next_cursor is None


def test_accounts_see_only_their_own_usage(ledger: Ledger, history: list[str]) -> None:
    assert [item.request_id for item in ledger.usage("b").items] == ["other-account"]
    page = ledger.usage("a", limit=2)
    with pytest.raises(InvalidCursor):  # another account's cursor: refused, never its records
        ledger.usage("b", cursor=page.next_cursor)


@pytest.mark.parametrize(("limit", "cursor"), [(0, None), (101, None)])
def test_bad_listing_arguments(ledger: Ledger, limit: int, cursor: str | None) -> None:
    with pytest.raises(InvalidRequest):
        ledger.usage("a", limit=limit, cursor=cursor)


def test_a_cursor_of_another_filter_is_refused(ledger: Ledger, history: list[str]) -> None:
    page = ledger.usage("a", model_id=IMAGE, limit=1)
    with pytest.raises(InvalidCursor):
        ledger.usage("a", limit=1, cursor=page.next_cursor)
    with pytest.raises(InvalidCursor):
        ledger.usage("a", model_id=LANG_90, limit=1, cursor=page.next_cursor)


def test_a_rare_models_listing_reads_a_bounded_span_and_resumes(ledger: Ledger, clock: SwitchableClock) -> None:
    """One index serves both listings: a model's records are filtered from the account's. A page
    reads at most MAX_ITEMS_EVALUATED records, so behind many records of another model it may come
    back short, with a cursor that resumes where the reading stopped, and nothing is skipped."""
    for index in range(3):
        ledger.record_usage("busy", IMAGE, 1, f"old-image-{index}")
        clock.advance(timedelta(seconds=1))
    for index in range(MAX_ITEMS_EVALUATED + 150):
        ledger.record_usage("busy", LANG_90, 1, f"turbo-{index}")
    first = ledger.usage("busy", model_id=IMAGE, limit=2)
    assert (first.items, first.next_cursor is not None) == ([], True)  # the budget ran out first
    seen, cursor = [], first.next_cursor
    while cursor:
        page = ledger.usage("busy", model_id=IMAGE, limit=2, cursor=cursor)
        seen += [item.request_id for item in page.items]
        cursor = page.next_cursor
    assert seen == ["old-image-2", "old-image-1", "old-image-0"]
