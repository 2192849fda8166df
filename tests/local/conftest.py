"""The local stack these end-to-end modules share: one `make run` server per module, its clock frozen
at the module's ``STACK_CLOCK`` (default below), and the ledger audit after each test that asks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.local_stack import LocalStack, audit_stack, running_stack

DEFAULT_STACK_CLOCK = "2026-12-01T00:00:00Z"


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    with running_stack() as started:
        started.call("PUT", "/_local/clock", {"now": getattr(request.module, "STACK_CLOCK", DEFAULT_STACK_CLOCK)})
        yield started


@pytest.fixture
def audited(stack: LocalStack) -> Iterator[None]:
    """R11 and R16 over the whole table after the test."""
    yield
    report = audit_stack(stack)
    assert report["ok"], report["violations"]
