"""The functions of template.yaml and their event sources (HTTP routes, schedules, the table's
stream): the one table the local stack serves from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.local.template import TEMPLATE_PATH, load_template


@dataclass(frozen=True, slots=True)
class Function:
    logical_id: str
    code_dir: str
    handler: str
    """``module.function`` as Lambda calls it."""
    timeout_seconds: int
    reserved_concurrency: int | None


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    function: str
    """The logical id of the function resource in the template."""
    iam: bool
    """True for gateway routes (AWS_IAM); False for console routes (the default JWT authorizer)."""


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str
    """The event's logical name in the template (``Nightly``, ``HoldSweep``)."""
    function: str
    input: str
    """The schedule's input, with ``<aws.scheduler.scheduled-time>`` where the scheduled time goes."""


@dataclass(frozen=True, slots=True)
class StreamSource:
    """A DynamoDB stream event source mapping (``Type: DynamoDB``) of a function."""

    function: str
    table: str
    """The logical id of the table whose stream it reads."""
    batch_size: int
    maximum_retry_attempts: int
    report_batch_item_failures: bool
    bisect_on_error: bool


def _resources(path: Path, kind: str) -> dict[str, dict[str, Any]]:
    resources = load_template(path)["Resources"]
    return {
        logical_id: resource["Properties"] for logical_id, resource in resources.items() if resource["Type"] == kind
    }


def _events(path: Path, kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    """``(function logical id, event name, event properties)`` of every event of ``kind``."""
    return [
        (logical_id, name, event["Properties"])
        for logical_id, properties in _resources(path, "AWS::Serverless::Function").items()
        for name, event in (properties.get("Events") or {}).items()
        if event.get("Type") == kind
    ]


def functions(path: Path = TEMPLATE_PATH) -> dict[str, Function]:
    defaults = (load_template(path).get("Globals") or {}).get("Function") or {}
    return {
        logical_id: Function(
            logical_id=logical_id,
            code_dir=properties["CodeUri"].rstrip("/"),
            handler=properties["Handler"],
            timeout_seconds=int(properties.get("Timeout", defaults.get("Timeout", 3))),
            reserved_concurrency=properties.get("ReservedConcurrentExecutions"),
        )
        for logical_id, properties in _resources(path, "AWS::Serverless::Function").items()
    }


def routes(path: Path = TEMPLATE_PATH) -> list[Route]:
    return [
        Route(
            method=properties["Method"].upper(),
            path=properties["Path"],
            function=logical_id,
            iam=(properties.get("Auth") or {}).get("Authorizer") == "AWS_IAM",
        )
        for logical_id, _, properties in _events(path, "HttpApi")
    ]


def schedules(path: Path = TEMPLATE_PATH) -> list[Schedule]:
    return [
        Schedule(name, logical_id, properties.get("Input", "{}"))
        for logical_id, name, properties in _events(path, "ScheduleV2")
    ]


def stream_sources(path: Path = TEMPLATE_PATH) -> list[StreamSource]:
    return [
        StreamSource(
            function=logical_id,
            table=properties["Stream"]["Fn::GetAtt"][0],
            batch_size=int(properties.get("BatchSize", 100)),
            maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", -1)),
            report_batch_item_failures="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
            bisect_on_error=bool(properties.get("BisectBatchOnFunctionError", False)),
        )
        for logical_id, _, properties in _events(path, "DynamoDB")
    ]
