"""The local stack's Lambda containers: each is its own process that imports the handler once,
serves one event at a time and keeps its module state; a function scales out under concurrent load
up to its limit, reuses idle containers, survives a failing handler, replaces a dead container and
stops every process it started."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infra.local.gateway import attach_to_emulator
from infra.local.lambda_container import FunctionCode
from infra.local.lambda_pool import ContainerHost, FunctionError, FunctionPool
from infra.local.shared_clock import ClockOutOfRange, SharedClock

TOY = FunctionCode("tests/support/toy_function", "toy_handler.lambda_handler", attach_to_emulator)
CONTEXT = multiprocessing.get_context("spawn")


@pytest.fixture
def clock() -> SharedClock:
    shared = SharedClock(CONTEXT)
    shared.freeze(datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    return shared


@pytest.fixture
def pool(clock: SharedClock) -> Iterator[FunctionPool]:
    started = FunctionPool("Toy", TOY, ContainerHost(CONTEXT, clock), max_containers=3)
    yield started
    started.close()


def test_a_container_is_a_process_of_its_own_that_keeps_its_module_state(pool: FunctionPool) -> None:
    answers = [pool.invoke({"echo": index}) for index in range(3)]
    assert {answer["pid"] for answer in answers} != {os.getpid()}
    assert len({answer["pid"] for answer in answers}) == 1  # an idle container is reused
    assert [(answer["invocations"], answer["echo"]) for answer in answers] == [(1, 0), (2, 1), (3, 2)]
    assert answers[0]["function_name"] == "Toy"
    assert [(stats.pid, stats.invocations) for stats in pool.stats()] == [(answers[0]["pid"], 3)]


def test_concurrent_events_scale_out_to_the_limit_and_never_share_a_container(pool: FunctionPool) -> None:
    events = [{"action": "sleep", "seconds": 0.3, "echo": index} for index in range(9)]
    with ThreadPoolExecutor(9) as clients:
        answers = list(clients.map(pool.invoke, events))
    assert [answer["echo"] for answer in answers] == list(range(9))  # each its own event back
    assert len({answer["pid"] for answer in answers}) == 3
    assert sum(stats.invocations for stats in pool.stats()) == 9


def test_every_container_reads_the_shared_clock(pool: FunctionPool, clock: SharedClock) -> None:
    assert pool.invoke({})["now"] == "2026-03-01T08:00:00+00:00"
    clock.freeze(datetime(2027, 1, 2, 3, 4, 5, 678000, tzinfo=UTC))
    assert pool.invoke({})["now"] == "2027-01-02T03:04:05.678000+00:00"
    clock.unfreeze()
    assert not clock.frozen
    assert abs(datetime.fromisoformat(pool.invoke({})["now"]) - datetime.now(UTC)).total_seconds() < 3600


def test_the_test_clock_keeps_to_four_digit_years(clock: SharedClock) -> None:
    with pytest.raises(ClockOutOfRange):
        clock.freeze(datetime(1, 1, 1, tzinfo=UTC))
    with pytest.raises(ClockOutOfRange):
        clock.freeze(datetime(9999, 12, 31, tzinfo=UTC))
    assert clock.now() == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def test_a_failing_handler_fails_its_invocation_and_the_container_lives_on(pool: FunctionPool) -> None:
    first = pool.invoke({})
    with pytest.raises(FunctionError, match="asked to fail"):
        pool.invoke({"action": "fail"})
    after = pool.invoke({})
    assert (after["pid"], after["invocations"]) == (first["pid"], 3)


def test_a_container_that_dies_is_replaced(pool: FunctionPool) -> None:
    first = pool.invoke({})
    with pytest.raises(FunctionError, match="exited"):
        pool.invoke({"action": "exit"})
    replaced = pool.invoke({})
    assert replaced["pid"] != first["pid"]
    assert replaced["invocations"] == 1
    assert [stats.pid for stats in pool.stats()] == [replaced["pid"]]


def test_a_container_killed_while_idle_is_not_handed_an_event(pool: FunctionPool) -> None:
    first = pool.invoke({})
    os.kill(first["pid"], 9)
    _wait_until_gone(first["pid"])
    assert pool.invoke({})["pid"] != first["pid"]


def test_the_handlers_asynchronous_invocation_runs_in_a_container(pool: FunctionPool, tmp_path: Path) -> None:
    marker = tmp_path / "continued"
    pool.invoke({"action": "continue", "path": str(marker)})
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert int(marker.read_text(encoding="utf-8")) in {stats.pid for stats in pool.stats()}


def test_close_stops_every_process(clock: SharedClock) -> None:
    pool = FunctionPool("Toy", TOY, ContainerHost(CONTEXT, clock), max_containers=2)
    with ThreadPoolExecutor(2) as clients:
        pids = {answer["pid"] for answer in clients.map(pool.invoke, [{"action": "sleep", "seconds": 0.3}] * 2)}
    assert len(pids) == 2
    for container in pool.close():
        container.finish_stop()
    for pid in pids:
        _wait_until_gone(pid)
    with pytest.raises(FunctionError, match="shutting down"):
        pool.invoke({})


def _wait_until_gone(pid: int) -> None:
    deadline = time.monotonic() + 30
    while _alive(pid):
        assert time.monotonic() < deadline, f"process {pid} is still running"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    return status.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
