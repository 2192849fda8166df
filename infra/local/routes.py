"""The functions of template.yaml and their event sources (HTTP routes, schedules, the table's
stream), and the HTTP API's CORS configuration: the one table the local stack serves from."""

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
    parallelization_factor: int = 1
    """Batches of one shard at once in AWS (the local poller delivers one at a time)."""
    batching_window_seconds: int = 0


@dataclass(frozen=True, slots=True)
class Cors:
    """The HTTP API's ``CorsConfiguration``, its parameters read at their defaults."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    max_age: int | None

    def allows(self, origin: str) -> bool:
        return "*" in self.allow_origins or origin in self.allow_origins

    def preflight_headers(self, origin: str) -> dict[str, str]:
        """What API Gateway answers a preflight from ``origin`` with: nothing for an origin not allowed."""
        if not self.allows(origin):
            return {}
        headers = {"Access-Control-Allow-Origin": "*" if "*" in self.allow_origins else origin,
                   "Access-Control-Allow-Methods": ",".join(self.allow_methods),
                   "Access-Control-Allow-Headers": ",".join(name.lower() for name in self.allow_headers)}  # fmt: skip
        return headers | ({"Access-Control-Max-Age": str(self.max_age)} if self.max_age is not None else {})


def _resolved(path: Path, value: Any) -> tuple[str, ...]:
    """A list of the template, a ``!Ref`` to a parameter read at its default (split if a list)."""
    if isinstance(value, dict) and "Ref" in value:
        parameter = load_template(path)["Parameters"][value["Ref"]]
        default = str(parameter.get("Default", ""))
        return tuple(part.strip() for part in default.split(",")) if "List" in parameter["Type"] else (default,)
    return tuple(str(item) for item in value) if isinstance(value, list) else (str(value),)


def cors(path: Path = TEMPLATE_PATH) -> Cors | None:
    """The ``CorsConfiguration`` of the template's HTTP API, or None if it has none."""
    configurations = [api.get("CorsConfiguration") for api in _resources(path, "AWS::Serverless::HttpApi").values()]
    configuration = next((found for found in configurations if isinstance(found, dict)), None)
    if configuration is None:
        return None
    return Cors(
        allow_origins=_resolved(path, configuration.get("AllowOrigins", [])),
        allow_methods=_resolved(path, configuration.get("AllowMethods", [])),
        allow_headers=_resolved(path, configuration.get("AllowHeaders", [])),
        max_age=int(configuration["MaxAge"]) if "MaxAge" in configuration else None,
    )


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
            parallelization_factor=int(properties.get("ParallelizationFactor", 1)),
            batching_window_seconds=int(properties.get("MaximumBatchingWindowInSeconds", 0)),
        )
        for logical_id, _, properties in _events(path, "DynamoDB")
    ]
