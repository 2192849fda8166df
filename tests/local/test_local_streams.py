"""The local stack's stream mapping delivers records as Lambda's event source mapping does."""

from datetime import UTC, datetime
from typing import Any

import pytest

from infra.local.lambda_pool import FunctionError
from infra.local.routes import StreamSource, stream_sources
from infra.local.streams import StreamPoller, lambda_event

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/label"


def records(*numbers: int) -> list[dict[str, Any]]:
    return [{"eventName": "INSERT", "dynamodb": {"SequenceNumber": str(n), "NewImage": {}}} for n in numbers]


class Function:
    """Answers each invocation from a script: a set of sequence numbers to fail, or an error."""

    def __init__(self, *script: set[str] | Exception) -> None:
        self.script = list(script)
        self.batches: list[list[str]] = []

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        numbers = [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]
        self.batches.append(numbers)
        step = self.script.pop(0) if self.script else set()
        if isinstance(step, Exception):
            raise step
        return {"batchItemFailures": [{"itemIdentifier": n} for n in numbers if n in step]}


def poller(function: Function, retries: int = 3, bisect: bool = True) -> StreamPoller:
    source = StreamSource("EventsFunction", "LedgerTable", 100, retries, True, bisect)
    return StreamPoller(client=None, stream_arn=ARN, source=source, invoke=function)


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("infra.local.streams.RETRY_PAUSE_SECONDS", 0)


def test_the_template_maps_the_ledger_stream_to_the_events_function() -> None:
    [source] = stream_sources()
    assert (source.function, source.table) == ("EventsFunction", "LedgerTable")
    assert source.report_batch_item_failures
    assert source.bisect_on_error
    assert source.maximum_retry_attempts == 10


def test_a_partial_failure_is_retried_from_the_first_failed_record_on() -> None:
    function = Function({"3", "5"})
    poller(function).deliver(records(1, 2, 3, 4, 5))
    assert function.batches == [["1", "2", "3", "4", "5"], ["3", "4", "5"]]


def test_a_failed_invocation_is_split_in_halves() -> None:
    function = Function(FunctionError("boom"))
    poller(function).deliver(records(1, 2, 3, 4))
    assert function.batches == [["1", "2", "3", "4"], ["1", "2"], ["3", "4"]]


def test_without_bisect_a_failed_invocation_is_retried_whole() -> None:
    function = Function(FunctionError("boom"))
    poller(function, bisect=False).deliver(records(1, 2))
    assert function.batches == [["1", "2"], ["1", "2"]]


def test_records_are_given_up_after_the_retries(caplog: pytest.LogCaptureFixture) -> None:
    function = Function(*[{"2"}] * 10)
    poller(function, retries=2).deliver(records(1, 2, 3))
    assert function.batches == [["1", "2", "3"], ["2", "3"], ["2", "3"]]
    assert "gave up on stream records ['2', '3']" in caplog.text


def test_the_event_is_lambdas() -> None:
    created = datetime(2026, 3, 1, 8, 0, 1, tzinfo=UTC)
    record = {"eventName": "MODIFY", "dynamodb": {"ApproximateCreationDateTime": created, "SequenceNumber": "7"}}
    [delivered] = lambda_event([record], ARN)["Records"]
    assert delivered["eventSourceARN"] == ARN
    assert delivered["dynamodb"]["ApproximateCreationDateTime"] == 1772352001  # epoch seconds, as Lambda sends
