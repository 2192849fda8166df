"""The warm bench's arithmetic (issue 25, part 3): its percentiles (bench/warm_replay.py), what a
million usages cost in Lambda and in DynamoDB, and the targets' verdicts (bench/report_warm.py),
and the masking that lets two rounds' answers compare (bench/warm_scenario.py). The bench itself
is not run."""

from __future__ import annotations

from typing import Any

import pytest

from bench.report_warm import dynamo_usd_per_million, lambda_usd_per_million, targets
from bench.warm_replay import percentile, summary
from bench.warm_scenario import normalised, requests


def test_percentiles_are_nearest_rank() -> None:
    samples = [float(value) for value in range(100, 0, -1)]  # 1..100, unordered
    assert percentile(samples, 0.5) == 50.0
    assert percentile(samples, 0.99) == 99.0
    assert percentile(samples, 1.0) == 100.0
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([7.0], 0.99) == 7.0
    with pytest.raises(ValueError, match="percentile"):
        percentile([], 0.5)


def test_a_batch_summary_gives_its_figures_per_record() -> None:
    found = summary([float(value) for value in range(1, 2001)], records=100)
    assert found == {"requests": 2000, "p50_ms": 1000.0, "p99_ms": 1980.0, "mean_ms": 1000.5, "records": 100,
                     "p50_ms_per_record": 10.0, "p99_ms_per_record": 19.8}  # fmt: skip


def test_lambda_bills_whole_milliseconds_at_the_memory_size() -> None:
    # 1.2 ms is billed 2 ms: 0.002 s x 0.5 GB x $0.0000166667 = $1.66667e-8 an invocation, $0.0166667
    # a million, plus $0.20 a million requests.
    assert lambda_usd_per_million(1.2, 512) == pytest.approx(0.0166667 + 0.20)
    assert lambda_usd_per_million(2.0, 512) == pytest.approx(0.0166667 + 0.20)
    assert lambda_usd_per_million(0.4, 1024) == pytest.approx(0.0166667 + 0.20)
    assert lambda_usd_per_million(8.0, 512) == pytest.approx(4 * 0.0166667 + 0.20)
    # A batch of 100 records of 33.2 ms: 10,000 invocations of 34 ms at 0.5 GB.
    assert lambda_usd_per_million(33.2, 512, records=100) == pytest.approx(10_000 * (0.017 * 0.0000166667) + 0.002)


def test_dynamodb_bills_the_units_of_each_usage() -> None:
    assert dynamo_usd_per_million(5, 0, 0.625, 0.125) == pytest.approx(3.125)
    assert dynamo_usd_per_million(4.04, 0, 0.625, 0.125) == pytest.approx(2.525)
    assert dynamo_usd_per_million(0, 2, 0.625, 0.125) == pytest.approx(0.25)


def _results(service_p50: float, consume_init: float, consume_rss: float) -> dict[str, Any]:
    operation = {"p50_ms": 1.0, "p99_ms": 2.0}
    ops = ("authorize", "usage", "hold", "settle", "batch_100")
    return {
        "warm": {"handlers": {"floor": dict.fromkeys(ops, operation),
                              "consume": dict.fromkeys(ops, operation | {"p50_ms": service_p50})}},
        "init_ms": {"claim": 700.0, "consume": consume_init, "powertools_floor": 660.0},
        "rss_after_init_mb": {"claim": 60.0, "consume": consume_rss, "expiry": 48.0, "events": 51.0,
                              "powertools_floor": 58.0},
    }  # fmt: skip


def test_the_targets_read_yes_within_their_bounds_and_no_beyond() -> None:
    assert [met for _, met, _ in targets(_results(1.5, 759.0, 73.0))] == [True, True, True]
    assert [met for _, met, _ in targets(_results(1.51, 760.0, 73.1))] == [False, False, False]
    assert targets(_results(2.0, 759.0, 60.0))[0][2].startswith("authorize 2.00x, usage 2.00x")
    assert targets({"init_ms": {}}) == []  # a results file without the warm part


def test_two_rounds_answers_compare_with_their_ids_and_times_masked() -> None:
    first, second = requests("settle", "a"), requests("settle", "b")
    assert [request.step for request in first] == ["authorize", "hold", "settle"]
    assert first[-1].body["request_id"] == first[1].body["request_id"] != second[-1].body["request_id"]
    answer = {
        "request_id": "h-a",
        "held": 4000,
        "expires_at": "2026-12-06T04:49:00.000Z",
        "results": [{"request_id": "x"}],
    }
    again = answer | {"request_id": "h-b", "expires_at": "2026-12-06T05:00:00.000Z", "results": [{"request_id": "y"}]}
    assert normalised(answer) == normalised(again)
    assert normalised(answer) != normalised(again | {"held": 3999})
    assert len(requests("batch_100", "a")[-1].body["records"]) == 100
