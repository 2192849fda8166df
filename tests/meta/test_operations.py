"""What on-call gets from template.yaml, checked on the transformed template: the access log, log
retention, the expiry's on-failure destination, every alarm's metric, dimensions, threshold and
action, the dashboard's metrics against what the code emits, and a runbook entry for each alarm."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from infra.local.routes import routes
from tests.support.sam import resources_of_type, transformed_template

ROOT = Path(__file__).resolve().parents[2]
ALARM_ACTIONS = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
GATEWAY_ROUTE_KEYS = {f"{route.method} {route.path}" for route in routes()
                      if route.iam and not route.path.startswith("/v1/admin/")}  # fmt: skip
"""The gateway's routes: the latency alarm watches them (the operators' are not on a call's path)."""


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return transformed_template()


@pytest.fixture(scope="module")
def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources_of_type(template, "AWS::CloudWatch::Alarm")


def substituted(value: Any) -> str:
    """A ``Fn::Sub`` string with every ``${...}`` replaced by a placeholder."""
    text = value["Fn::Sub"] if isinstance(value, dict) else value
    return re.sub(r"\$\{[^}]+\}", "placeholder", text)


def metric_stats(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """Each metric the alarm reads: its own, or those of its metric math."""
    if "MetricName" in alarm:
        return [{"Namespace": alarm["Namespace"], "MetricName": alarm["MetricName"],
                 "Dimensions": alarm["Dimensions"], "Stat": alarm["Statistic"]}]  # fmt: skip
    return [query["MetricStat"]["Metric"] | {"Stat": query["MetricStat"]["Stat"]}
            for query in alarm["Metrics"] if "MetricStat" in query]  # fmt: skip


def dimensions(metric: dict[str, Any]) -> dict[str, Any]:
    return {dimension["Name"]: dimension["Value"] for dimension in metric["Dimensions"]}


def test_every_alarm_notifies_the_alarm_topic(alarms: dict[str, dict[str, Any]]) -> None:
    assert len(alarms) >= 12
    for logical_id, alarm in alarms.items():
        assert alarm["AlarmActions"] == ALARM_ACTIONS, logical_id
        assert alarm["TreatMissingData"] == "notBreaching", logical_id


@pytest.mark.parametrize(
    "case",
    [
        ("ClaimErrorsAlarm", "AWS/Lambda", "Errors", {"FunctionName": {"Ref": "ClaimFunction"}},
         "FunctionErrorsThreshold"),
        ("ClaimThrottlesAlarm", "AWS/Lambda", "Throttles", {"FunctionName": {"Ref": "ClaimFunction"}},
         "FunctionThrottlesThreshold"),
        ("ConsumeErrorsAlarm", "AWS/Lambda", "Errors", {"FunctionName": {"Ref": "ConsumeFunction"}},
         "FunctionErrorsThreshold"),
        ("ConsumeThrottlesAlarm", "AWS/Lambda", "Throttles", {"FunctionName": {"Ref": "ConsumeFunction"}},
         "FunctionThrottlesThreshold"),
        ("TransactionConflictAlarm", "AWS/DynamoDB", "TransactionConflict", {"TableName": {"Ref": "LedgerTable"}},
         "TransactionConflictsThreshold"),
        ("EventsErrorsAlarm", "AWS/Lambda", "Errors", {"FunctionName": {"Ref": "EventsFunction"}},
         "FunctionErrorsThreshold"),
    ],
)  # fmt: skip
def test_single_metric_alarms(
    alarms: dict[str, dict[str, Any]], case: tuple[str, str, str, dict[str, Any], str]
) -> None:
    alarm_id, namespace, metric, dimension, threshold = case
    [stat] = metric_stats(alarms[alarm_id])
    assert (stat["Namespace"], stat["MetricName"], stat["Stat"]) == (namespace, metric, "Sum")
    assert dimensions(stat) == dimension
    assert alarms[alarm_id]["Threshold"] == {"Ref": threshold}
    assert alarms[alarm_id]["ComparisonOperator"] == "GreaterThanThreshold"


def test_api_5xx_alarm_is_a_rate_of_the_apis_answers(alarms: dict[str, dict[str, Any]]) -> None:
    alarm = alarms["Api5xxRateAlarm"]
    stats = {stat["MetricName"]: stat for stat in metric_stats(alarm)}
    assert set(stats) == {"5xx", "Count"}
    for stat in stats.values():
        assert (stat["Namespace"], stat["Stat"]) == ("AWS/ApiGateway", "Sum")
        assert dimensions(stat) == {"ApiId": {"Ref": "HttpApi"}, "Stage": "$default"}
    [expression] = [query for query in alarm["Metrics"] if query.get("ReturnData")]
    assert expression["Expression"] == "IF(requests > 0, 100 * errors / requests, 0)"
    assert alarm["Threshold"] == {"Ref": "Api5xxRatePercentThreshold"}


def test_table_throttle_alarm_counts_reads_and_writes(alarms: dict[str, dict[str, Any]]) -> None:
    stats = metric_stats(alarms["TableThrottlesAlarm"])
    assert {stat["MetricName"] for stat in stats} == {"ReadThrottleEvents", "WriteThrottleEvents"}
    assert all(dimensions(stat) == {"TableName": {"Ref": "LedgerTable"}} for stat in stats)
    assert alarms["TableThrottlesAlarm"]["Threshold"] == {"Ref": "TableThrottlesThreshold"}


def test_latency_alarm_watches_the_p99_of_every_consume_route(
    alarms: dict[str, dict[str, Any]], template: dict[str, Any]
) -> None:
    stats = metric_stats(alarms["ConsumeLatencyAlarm"])
    assert {dimensions(stat)["Route"] for stat in stats} == GATEWAY_ROUTE_KEYS
    assert {(stat["MetricName"], stat["Stat"]) for stat in stats} == {("Latency", "p99")}
    assert alarms["ConsumeLatencyAlarm"]["Threshold"] == {"Ref": "ConsumeLatencyP99ThresholdMs"}
    [stage] = resources_of_type(template, "AWS::ApiGatewayV2::Stage").values()
    assert stage["DefaultRouteSettings"]["DetailedMetricsEnabled"] is True  # per-route metrics exist


def test_access_log_is_json_lines_of_who_called_what(template: dict[str, Any]) -> None:
    [stage] = resources_of_type(template, "AWS::ApiGatewayV2::Stage").values()
    settings = stage["AccessLogSettings"]
    assert settings["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogs", "Arn"]}
    line = json.loads(substituted(settings["Format"]))
    assert line["requestId"] == "$context.requestId"
    assert line["routeKey"] == "$context.routeKey"
    assert line["status"] == "$context.status"
    assert line["latencyMs"] == "$context.responseLatency"
    assert line["iamCaller"] == "$context.identity.userArn"  # gateway routes
    assert line["account"] == "$context.authorizer.claims.placeholder"  # console routes: the AccountClaim
    assert line["sub"] == "$context.authorizer.claims.sub"
    assert not [value for value in line.values() if "body" in value.lower()]
    log_group = resources_of_type(template, "AWS::Logs::LogGroup")["ApiAccessLogs"]
    assert log_group["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_every_function_logs_to_a_group_with_retention(template: dict[str, Any]) -> None:
    log_groups = resources_of_type(template, "AWS::Logs::LogGroup")
    for logical_id, function in resources_of_type(template, "AWS::Lambda::Function").items():
        group = function["LoggingConfig"]["LogGroup"]["Ref"]
        assert log_groups[group]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, logical_id


def test_failed_expiry_continuations_land_in_a_queue_that_alarms(
    template: dict[str, Any], alarms: dict[str, dict[str, Any]]
) -> None:
    [invoke_config] = resources_of_type(template, "AWS::Lambda::EventInvokeConfig").values()
    assert invoke_config["FunctionName"] == {"Ref": "ExpiryFunction"}
    queue = {"Fn::GetAtt": ["ExpiryContinuationFailures", "Arn"]}
    assert invoke_config["DestinationConfig"]["OnFailure"]["Destination"] == queue
    [stat] = metric_stats(alarms["ExpiryContinuationFailureAlarm"])
    assert dimensions(stat) == {"QueueName": {"Fn::GetAtt": ["ExpiryContinuationFailures", "QueueName"]}}
    policies = resources_of_type(template, "AWS::IAM::Role")["ExpiryFunctionRole"]["Policies"]
    statements = [statement for policy in policies for statement in policy["PolicyDocument"]["Statement"]]
    assert {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": queue} in statements


def test_the_events_function_alarms_on_its_lag_and_on_records_given_up(
    template: dict[str, Any], alarms: dict[str, dict[str, Any]]
) -> None:
    [lag] = metric_stats(alarms["EventsIteratorAgeAlarm"])
    assert (lag["Namespace"], lag["MetricName"], lag["Stat"]) == ("AWS/Lambda", "IteratorAge", "Maximum")
    assert dimensions(lag) == {"FunctionName": {"Ref": "EventsFunction"}}
    assert alarms["EventsIteratorAgeAlarm"]["Threshold"] == {"Ref": "EventsIteratorAgeThresholdMs"}
    [mapping] = resources_of_type(template, "AWS::Lambda::EventSourceMapping").values()
    queue = mapping["DestinationConfig"]["OnFailure"]["Destination"]
    assert queue == {"Fn::GetAtt": ["LedgerEventFailures", "Arn"]}
    [given_up] = metric_stats(alarms["EventsFailureAlarm"])
    assert (given_up["MetricName"], given_up["Stat"]) == ("ApproximateNumberOfMessagesVisible", "Maximum")
    assert dimensions(given_up) == {"QueueName": {"Fn::GetAtt": ["LedgerEventFailures", "QueueName"]}}
    assert alarms["EventsFailureAlarm"]["Threshold"] == 0


def emitted_metric_names() -> set[str]:
    """The TrialQuota metrics the handlers emit (add_metric and count_by), read from their code
    and the edge layer's."""
    names = set()
    for handler in [*(ROOT / "functions").glob("*/*.py"), *(ROOT / "layers" / "edge" / "trial_edge").glob("*.py")]:
        code = handler.read_text(encoding="utf-8")
        names |= set(re.findall(r'add_metric\(name="(\w+)"', code))
        names |= set(re.findall(r'count_by\(metrics, "(\w+)"', code))
    return names


def test_dashboard_shows_every_metric_the_service_emits(template: dict[str, Any]) -> None:
    [dashboard] = resources_of_type(template, "AWS::CloudWatch::Dashboard").values()
    body = json.loads(substituted(dashboard["DashboardBody"]))
    shown: set[str] = set()
    for widget in body["widgets"]:
        for row in widget.get("properties", {}).get("metrics", []):
            if isinstance(row[0], dict):  # a SEARCH expression over a dimensioned metric
                shown |= set(re.findall(r'MetricName=\\?"(\w+)', row[0]["expression"]))
            elif row[0] == "TrialQuota":
                shown.add(row[1])
    assert emitted_metric_names() >= {"Claims", "AdmissionsRefused", "FreeUnits", "ExpiredGrants"}
    assert shown == emitted_metric_names()
    namespaces = {row[0] for widget in body["widgets"] for row in widget.get("properties", {}).get("metrics", [])
                  if isinstance(row[0], str)}  # fmt: skip
    assert {"AWS/Lambda", "AWS/ApiGateway", "AWS/DynamoDB"} <= namespaces


def test_the_runbook_covers_every_alarm(alarms: dict[str, dict[str, Any]]) -> None:
    runbook = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^### `(\w+)`", runbook, re.M))
    assert headings == set(alarms)
    for section in re.split(r"^### ", runbook, flags=re.M)[1:]:
        for part in ("**Means**", "**Confirm**", "**Do**"):
            assert part in section, (section.splitlines()[0], part)
