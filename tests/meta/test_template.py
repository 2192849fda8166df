"""template.yaml: transformed by the SAM translator, each route has the right authorization; the
routes the template declares are exactly the routes the handlers serve."""

import json
import re
from typing import Any

import pytest

import claim_handler
import consume_handler
from infra.local.lambda_container import ROOT
from infra.local.routes import routes
from infra.local.template import load_template
from tests.support.sam import transformed_template
from trial_ledger.config.settings import (
    DEFAULT_GRANT_LEDGER_SHARDS,
    DEFAULT_USAGE_INDEX_SHARDS,
    Settings,
    SettingsError,
)

CONSOLE_ROUTES = {
    ("GET", "/v1/models"),
    ("GET", "/v1/account"),
    ("POST", "/v1/account/activation"),
    ("PUT", "/v1/account/postpaid"),
    ("PUT", "/v1/account/alerts"),
    ("POST", "/v1/trials/claims"),
    ("GET", "/v1/trials"),
    ("GET", "/v1/usage"),
    ("GET", "/v1/trials/{model_id}/ledger"),
}
OPERATOR_ROUTES = {
    ("POST", "/v1/admin/grants/extension"),
    ("POST", "/v1/admin/grants/void"),
    ("GET", "/v1/admin/accounts/{account_id}"),
    ("GET", "/v1/admin/grants/ledger"),
}
GATEWAY_ROUTES = {
    ("POST", "/v1/authorizations"),
    ("POST", "/v1/usage"),
    ("POST", "/v1/usage/batch"),
    ("POST", "/v1/holds"),
    ("DELETE", "/v1/holds/{request_id}"),
    ("POST", "/v1/usage/reversals"),
}


@pytest.fixture(scope="module")
def transformed() -> dict[str, Any]:
    return transformed_template()


def _api_body(transformed: dict[str, Any]) -> dict[str, Any]:
    [api] = [r for r in transformed["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Api"]
    return api["Properties"]["Body"]  # type: ignore[no-any-return]


def test_each_route_has_its_authorizer(transformed: dict[str, Any]) -> None:
    paths = _api_body(transformed)["paths"]
    seen = {}
    for path, methods in paths.items():
        for method, operation in methods.items():
            if method == "x-amazon-apigateway-any-method":
                continue
            seen[(method.upper(), path)] = [next(iter(entry)) for entry in operation.get("security", [])]
    assert {route for route, auth in seen.items() if auth == ["ConsoleJwt"]} == CONSOLE_ROUTES
    assert {route for route, auth in seen.items() if auth == ["AWS_IAM"]} == GATEWAY_ROUTES | OPERATOR_ROUTES
    assert set(seen) == CONSOLE_ROUTES | GATEWAY_ROUTES | OPERATOR_ROUTES


def test_jwt_authorizer_reads_the_bearer_token(transformed: dict[str, Any]) -> None:
    schemes = _api_body(transformed)["components"]["securitySchemes"]
    jwt = schemes["ConsoleJwt"]["x-amazon-apigateway-authorizer"]
    assert jwt["type"] == "jwt"
    assert jwt["identitySource"] == "$request.header.Authorization"
    assert jwt["jwtConfiguration"]["issuer"] == {"Ref": "JwtIssuer"}


def test_template_routes_are_the_handlers_routes() -> None:
    declared = {(r.method, r.path, r.function) for r in routes()}
    by_function: dict[str, set[tuple[str, str]]] = {}
    for method, path, function in declared:
        by_function.setdefault(function, set()).add((method, path))
    assert by_function == {"ClaimFunction": CONSOLE_ROUTES, "ConsumeFunction": GATEWAY_ROUTES | OPERATOR_ROUTES}
    for app, expected in ((claim_handler.app, CONSOLE_ROUTES), (consume_handler.app, GATEWAY_ROUTES | OPERATOR_ROUTES)):
        registered = {(method, route.path.replace("<", "{").replace(">", "}"))
                      for route in app._static_routes + app._dynamic_routes
                      for method in route.method.split("|")}  # fmt: skip
        assert registered == expected


def test_functions_get_only_the_table_actions_they_use(transformed: dict[str, Any]) -> None:
    roles = {
        logical_id: resource
        for logical_id, resource in transformed["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
    }
    actions: dict[str, set[str]] = {}
    for logical_id, role in roles.items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                actions.setdefault(logical_id, set()).update(listed)
    assert "dynamodb:Scan" not in set().union(*actions.values())
    assert "dynamodb:DeleteItem" not in set().union(*actions.values())
    assert actions["ExpiryFunctionRole"] == {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
        "lambda:InvokeFunction",  # continuing itself when out of time
        "sqs:SendMessage",  # a continuation that failed for good, to its on-failure queue
    }


def test_runtime_is_python_3_13() -> None:
    assert load_template()["Globals"]["Function"]["Runtime"] == "python3.13"


def _schedules(transformed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {logical_id: r["Properties"] for logical_id, r in transformed["Resources"].items()
            if r["Type"] == "AWS::Scheduler::Schedule"}  # fmt: skip


def test_nightly_schedule(transformed: dict[str, Any]) -> None:
    schedule = _schedules(transformed)["ExpiryFunctionNightly"]
    assert schedule["ScheduleExpression"] == {"Ref": "ExpirySchedule"}
    assert schedule["ScheduleExpressionTimezone"] == {"Ref": "ExpiryTimezone"}
    assert "Name" not in schedule  # one stack's schedule name never collides with another's
    target = schedule["Target"]
    assert target["Input"] == '{"as_of": "<aws.scheduler.scheduled-time>"}'
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 3
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["ExpiryScheduleDeadLetters", "Arn"]}}
    parameters = load_template()["Parameters"]
    assert (parameters["ExpirySchedule"]["Default"], parameters["ExpiryTimezone"]["Default"]) == (
        "cron(10 0 * * ? *)",
        "Asia/Shanghai",
    )


def test_hold_sweep_schedule(transformed: dict[str, Any]) -> None:
    """Every 5 minutes by default (a parameter), the same function dispatched by ``job``."""
    schedule = _schedules(transformed)["ExpiryFunctionHoldSweep"]
    assert schedule["ScheduleExpression"] == {"Ref": "HoldSweepSchedule"}
    assert "Name" not in schedule
    target = schedule["Target"]
    assert target["Input"] == '{"job": "hold-sweep", "as_of": "<aws.scheduler.scheduled-time>"}'
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["ExpiryScheduleDeadLetters", "Arn"]}}
    parameters = load_template()["Parameters"]
    assert parameters["HoldSweepSchedule"]["Default"] == "rate(5 minutes)"
    assert (parameters["HoldTtlSeconds"]["Default"], parameters["HoldTtlSeconds"]["MinValue"]) == (900, 30)


def test_alarms_watch_the_dead_letters_and_the_errors(transformed: dict[str, Any]) -> None:
    alarms = {logical_id: r["Properties"] for logical_id, r in transformed["Resources"].items()
              if r["Type"] == "AWS::CloudWatch::Alarm"}  # fmt: skip
    assert alarms["ExpiryDeadLetterAlarm"]["Dimensions"][0]["Value"] == {
        "Fn::GetAtt": ["ExpiryScheduleDeadLetters", "QueueName"]
    }
    assert alarms["ExpiryErrorAlarm"]["Dimensions"][0]["Value"] == {"Ref": "ExpiryFunction"}
    assert alarms["ExpiryIncompleteAlarm"]["Namespace"] == "TrialQuota"


def test_the_ledger_stream_drives_the_events_function(transformed: dict[str, Any]) -> None:
    resources = transformed["Resources"]
    table = resources["LedgerTable"]["Properties"]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    [mapping] = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["LedgerTable", "StreamArn"]}
    assert mapping["FunctionName"] == {"Ref": "EventsFunction"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] >= 1  # not -1 (forever): a poison record must not block the shard
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    environment = resources["EventsFunction"]["Properties"]["Environment"]["Variables"]
    assert environment["EVENT_BUS_NAME"] == {"Ref": "LedgerEventBus"}
    assert environment["BALANCE_LOW_THRESHOLDS"] == {"Ref": "BalanceLowThresholds"}
    # GET /v1/account names the deploy's thresholds of an account that set none (R20)
    claim = resources["ClaimFunction"]["Properties"]["Environment"]["Variables"]
    assert claim["BALANCE_LOW_THRESHOLDS"] == {"Ref": "BalanceLowThresholds"}
    expiry = resources["ExpiryFunction"]["Properties"]["Environment"]["Variables"]
    assert expiry["EXPIRING_SOON_DAYS"] == {"Ref": "ExpiringSoonDays"}
    parameters = load_template()["Parameters"]
    assert (parameters["BalanceLowThresholds"]["Default"], parameters["ExpiringSoonDays"]["Default"]) == ("80,95", 7)


def test_the_events_function_may_only_put_events_on_its_bus_and_read_the_stream(transformed: dict[str, Any]) -> None:
    role = transformed["Resources"]["EventsFunctionRole"]["Properties"]
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    actions = {
        action for s in statements for action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert actions == {"events:PutEvents", "sqs:SendMessage"}  # the bus, and the on-failure queue
    [put] = [s for s in statements if s["Action"] == "events:PutEvents"]
    assert "LedgerEventBus" in str(put["Resource"])
    managed = role["ManagedPolicyArns"]
    assert any("AWSLambdaDynamoDBExecutionRole" in str(arn) for arn in managed)  # the stream, nothing else


def test_the_billing_rule_sends_billable_usage_to_its_queue(transformed: dict[str, Any]) -> None:
    resources = transformed["Resources"]
    [bus] = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Events::EventBus"]
    assert bus["Name"] == {"Fn::Sub": "${AWS::StackName}-ledger"}
    rule = resources["BillingUsageRule"]["Properties"]
    assert rule["EventBusName"] == {"Ref": "LedgerEventBus"}
    assert rule["EventPattern"] == {"source": ["tokenhub.trial-quota"], "detail-type": ["UsageBillable"]}
    [target] = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["BillingUsageQueue", "Arn"]}
    [statement] = resources["BillingUsageQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["BillingUsageRule", "Arn"]}}}


def _invoke_resources(policy: str) -> set[str]:
    """The routes a managed policy allows, as ``METHOD path`` with the API's ``*`` stage."""
    document = load_template()["Resources"][policy]["Properties"]["PolicyDocument"]
    [statement] = document["Statement"]
    assert (statement["Effect"], statement["Action"]) == ("Allow", "execute-api:Invoke")
    prefix = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*/"
    resources = {resource["Fn::Sub"] for resource in statement["Resource"]}
    assert all(resource.startswith(prefix) for resource in resources)
    routes_allowed = {resource.removeprefix(prefix).partition("/") for resource in resources}
    return {f"{method} /{path}" for method, _, path in routes_allowed}


def test_each_role_gets_a_managed_policy_of_exactly_its_routes() -> None:
    """R21: the gateway's policy allows its routes and nothing else; the operators' the admin routes."""
    iam = {(route.method, route.path) for route in routes() if route.iam}
    gateway = {(method, path) for method, path in iam if not path.startswith("/v1/admin/")}
    assert gateway == GATEWAY_ROUTES
    expected = {f"{method} {path}".replace("{request_id}", "*") for method, path in gateway}
    assert _invoke_resources("GatewayInvokePolicy") == expected
    operators = {(method, path) for method, path in iam if path.startswith("/v1/admin/")}
    assert operators == OPERATOR_ROUTES
    assert _invoke_resources("OperatorInvokePolicy") == {
        f"{method} {path}".replace("{account_id}", "*") for method, path in operators}  # fmt: skip
    outputs = load_template()["Outputs"]
    assert outputs["GatewayInvokePolicyArn"]["Value"] == {"Ref": "GatewayInvokePolicy"}
    assert outputs["OperatorInvokePolicyArn"]["Value"] == {"Ref": "OperatorInvokePolicy"}


def test_the_functions_learn_the_principals_each_route_group_admits() -> None:
    variables = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    for variable, parameter in (("GATEWAY_PRINCIPALS", "GatewayPrincipalArns"),
                                ("OPERATOR_PRINCIPALS", "OperatorPrincipalArns")):  # fmt: skip
        chosen = variables[variable]["Fn::If"]
        assert chosen[1] == {"Ref": parameter}
        assert chosen[2]["Fn::Sub"].startswith("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/")


@pytest.mark.parametrize(
    ("parameter", "variable", "default"),
    [("UsageIndexShards", "USAGE_INDEX_SHARDS", DEFAULT_USAGE_INDEX_SHARDS),
     ("GrantLedgerShards", "GRANT_LEDGER_SHARDS", DEFAULT_GRANT_LEDGER_SHARDS)],
)  # fmt: skip
def test_index_shard_counts_are_deploy_parameters_with_the_codes_defaults(
    parameter: str, variable: str, default: str
) -> None:
    """make run uses the code's defaults; a deploy, the template's: they are the same, and every
    value the parameter's pattern admits is one the settings accept (and no other)."""
    template = load_template()
    declared = template["Parameters"][parameter]
    assert declared["Default"] == default
    assert template["Globals"]["Function"]["Environment"]["Variables"][variable] == {"Ref": parameter}
    pattern = re.compile(declared["AllowedPattern"])
    for text in ("1", "16", "64", "8,16", "2,4,8,16,32,64,1,3", "0", "65", "8,", ",8", "1,2,3,4,5,6,7,8,9", " 8"):
        try:
            Settings.from_environment({variable: text})
            accepted = True
        except SettingsError:
            accepted = False
        assert bool(pattern.fullmatch(text)) == accepted or text == " 8", text


def test_the_events_stream_settings_are_the_ones_the_bench_sized(transformed: dict[str, Any]) -> None:
    """docs/events.md sizes BatchSize and ParallelizationFactor for 10,000 usage records a second
    from bench/results.json (make bench ONLY=events): a change of either runs the bench again."""
    [mapping] = [r["Properties"] for r in transformed["Resources"].values()
                 if r["Type"] == "AWS::Lambda::EventSourceMapping"]  # fmt: skip
    sizing = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))["events_path"]["sizing"]
    assert (mapping["BatchSize"], mapping["ParallelizationFactor"]) == (
        sizing["batch_size"], sizing["parallelization_factor"])  # fmt: skip
    assert mapping["MaximumBatchingWindowInSeconds"] == 1
    assert sizing["records_per_s_at_min_shards"] >= 2 * sizing["target_records_per_s"]
    assert sizing["records_per_s_per_shard"] >= 2 * sizing["records_per_s_per_shard_needed"]
