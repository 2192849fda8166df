"""The local stack's API Gateway: each request becomes a payload-2.0 event for the function that
template.yaml routes it to, with the authorizer context filled in from the local identity headers.

Console routes take the root account from ``X-Account-Id`` (required, once) and the caller from
``X-Sub-Account-Id`` (optional, once): they stand for the JWT's account claim and ``sub``. Gateway
routes get the inference gateway's IAM identity. A function that fails is answered as API Gateway
answers it: 500 ``{"message": "Internal Server Error"}``. A CORS preflight (``OPTIONS`` with
``Origin`` and ``Access-Control-Request-Method``) is answered by the gateway itself from the
template's ``CorsConfiguration``, as API Gateway does: 204, with the allow headers only for an
allowed origin; a function's answer to an allowed origin carries ``Access-Control-Allow-Origin``."""

from __future__ import annotations

import base64
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from multiprocessing.context import SpawnContext
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl

from infra.local.events import GATEWAY_ROLE_ARN, OPERATOR_ROLE_ARN, STRANGER_ROLE_ARN, http_event
from infra.local.lambda_container import ContainerServices, FunctionCode
from infra.local.lambda_pool import ContainerHost, FunctionError, FunctionPool
from infra.local.routes import Function, Route, Schedule, cors, functions, routes, schedules
from trial_edge.problem_catalogue import PROBLEM_JSON, problem_body, status_of

DEFAULT_MAX_CONTAINERS = 8
IDENTITY_HEADERS = ("x-account-id", "x-sub-account-id")
LOCAL_PRINCIPAL_ARNS = {"gateway": GATEWAY_ROLE_ARN, "operator": OPERATOR_ROLE_ARN}


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class LocalRequest:
    method: str
    path: str
    query_string: str = ""
    header_list: list[tuple[str, str]] = field(default_factory=list)
    """As received: a name may repeat."""
    body: bytes = b""

    def headers(self) -> dict[str, str]:
        """Lower-cased names; a repeated header's values joined by commas, as API Gateway does."""
        joined: dict[str, str] = {}
        for name, value in self.header_list:
            key = name.lower()
            joined[key] = f"{joined[key]},{value}" if key in joined else value
        return joined


def problem_reply(code: str, detail: str) -> Reply:
    """A problem of the catalogue (trial_edge.problem_catalogue), as the functions answer them."""
    return Reply(status_of(code), {"Content-Type": PROBLEM_JSON}, json.dumps(problem_body(code, detail)).encode())


def json_reply(body: Any, status: HTTPStatus = HTTPStatus.OK) -> Reply:
    return Reply(int(status), {"Content-Type": "application/json"}, json.dumps(body).encode())


def attach_to_emulator(module: ModuleType, services: ContainerServices) -> None:
    """A container's set-up: the handler's ledger reads the shared test clock, and the handler's
    own asynchronous invocation (the expiry's continuation) goes through the emulator."""
    ledger = getattr(module, "ledger", None)
    if ledger is not None:
        ledger.clock = services.clock
    if hasattr(module, "continue_later"):
        setattr(module, "continue_later", lambda payload, context: services.invoke_async(payload))  # noqa: B010


class LocalGateway:
    def __init__(self, context: SpawnContext, clock: Any, max_containers: int = DEFAULT_MAX_CONTAINERS) -> None:
        self.clock, self._max = clock, max_containers
        self._host = ContainerHost(context, clock)
        self.pools = {logical_id: self._pool(function) for logical_id, function in functions().items()}
        self._routes: dict[tuple[str, str], Route] = {(route.method, route.path): route for route in routes()}
        self.schedules: list[Schedule] = schedules()
        self.cors = cors()

    def _pool(self, function: Function) -> FunctionPool:
        code = FunctionCode(function.code_dir, function.handler, attach_to_emulator)
        limit = min(function.reserved_concurrency or self._max, self._max)
        return FunctionPool(function.logical_id, code, self._host, function.timeout_seconds, limit)

    def add_gateway_route(self, method: str, path: str, code: FunctionCode) -> None:
        """Serve a route that is not in template.yaml (the benchmark's baseline) like a gateway
        route: same event, same IAM identity, same embedded DynamoDB."""
        name = f"extra:{path}"
        self.pools[name] = FunctionPool(name, code, self._host, max_containers=self._max)
        self._routes[(method, path)] = Route(method, path, name, iam=True)

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        """The route of ``method path`` and its path parameters (``/v1/holds/{request_id}``). The
        path arrives decoded (``infra.local.server``), as API Gateway hands it on: a parameter is
        its segment as it is, never decoded a second time (``%2541`` is ``%41``, not ``A``)."""
        if (route := self._routes.get((method, path))) is not None:
            return route, {}
        segments = path.split("/")
        for (route_method, route_path), route in self._routes.items():
            pattern = route_path.split("/")
            if route_method != method or "{" not in route_path or len(pattern) != len(segments):
                continue
            params = {p[1:-1]: s for p, s in zip(pattern, segments, strict=True) if p.startswith("{")}
            fixed = all(p == s for p, s in zip(pattern, segments, strict=True) if not p.startswith("{"))
            if fixed and all(params.values()):
                return route, params
        return None, {}

    def handle(self, request: LocalRequest) -> Reply:
        headers = request.headers()
        if self.cors is not None and request.method == "OPTIONS" and "origin" in headers \
                and "access-control-request-method" in headers:  # fmt: skip
            return Reply(int(HTTPStatus.NO_CONTENT), self.cors.preflight_headers(headers["origin"]), b"")
        return self._invoke(request)

    def _cors_headers(self, request: LocalRequest) -> dict[str, str]:
        """What API Gateway adds to a function's answer to a cross-origin request (replacing the function's own)."""
        origin = request.headers().get("origin")
        if self.cors is None or origin is None or not self.cors.allows(origin):
            return {}
        return {"Access-Control-Allow-Origin": self.cors.preflight_headers(origin)["Access-Control-Allow-Origin"]}

    def _invoke(self, request: LocalRequest) -> Reply:
        route, params = self._match(request.method, request.path)
        if route is None:
            return problem_reply("not_found", f"no route {request.method} {request.path}")
        identity = self._identity(route, request)
        if isinstance(identity, Reply):
            return identity
        body, base64_encoded = _event_body(request.body)
        event = http_event(
            request.method, request.path, route_key=f"{route.method} {route.path}", body=body,
            is_base64_encoded=base64_encoded, query=_query(request.query_string), headers=request.headers(),
            path_parameters=params, **identity,
        )  # fmt: skip
        try:
            raw = self.pools[route.function].invoke(event)
        except FunctionError:
            return json_reply({"message": "Internal Server Error"}, HTTPStatus.INTERNAL_SERVER_ERROR)
        text = raw.get("body") or ""
        return Reply(
            int(raw["statusCode"]), dict(raw.get("headers") or {}) | self._cors_headers(request), text.encode()
        )

    def _identity(self, route: Route, request: LocalRequest) -> dict[str, Any] | Reply:
        if route.iam:
            # X-Principal stands in for the SigV4 signature (R21): gateway (the default) or operator;
            # anything else is a principal API Gateway authenticated that no route admits.
            principal = (request.headers().get("x-principal") or "gateway").strip().lower()
            return {"iam_principal": LOCAL_PRINCIPAL_ARNS.get(principal, STRANGER_ROLE_ARN)}
        names = [name.lower() for name, _ in request.header_list]
        if repeated := [name for name in IDENTITY_HEADERS if names.count(name) > 1]:
            return problem_reply("ambiguous_identity",
                                 f"send {repeated[0]} once: the request names more than one identity")  # fmt: skip
        headers = request.headers()
        account = headers.get("x-account-id", "").strip()
        if not account:
            return problem_reply("unauthenticated", "send the account in X-Account-Id")
        claims = {os.environ.get("ACCOUNT_CLAIM") or "root_account_id": account, "iss": "local", "aud": "local"}
        if "x-sub-account-id" in headers:
            claims["sub"] = headers["x-sub-account-id"].strip()
        return {"jwt_claims": claims}

    def run_schedule(self, name: str, scheduled_time: str) -> Any:
        """Invoke the schedule ``name``'s function as EventBridge Scheduler would, at ``scheduled_time``."""
        [schedule] = [schedule for schedule in self.schedules if schedule.name == name]
        payload = json.loads(schedule.input.replace("<aws.scheduler.scheduled-time>", scheduled_time))
        return self.pools[schedule.function].invoke(payload)

    def warm(self) -> None:
        """One container per HTTP function ahead of the first request, started side by side."""
        served = {route.function for route in self._routes.values()}
        with ThreadPoolExecutor(len(served)) as starting:
            list(starting.map(lambda name: self.pools[name].warm(), served))

    def close(self) -> None:
        """Every function's containers asked to end at once, then waited for: a stop takes about
        the slowest container's exit, not the sum of them (under load, a dozen exits in turn took
        more than the 30 seconds tests/local/test_local_isolation.py gives Ctrl-C)."""
        ending = [container for pool in self.pools.values() for container in pool.close()]
        for container in ending:
            container.finish_stop()


def _event_body(body: bytes) -> tuple[str | None, bool]:
    """The event's ``body`` and ``isBase64Encoded``: text when the bytes are UTF-8, else base64, as
    API Gateway hands on a body that is not text. The function then finds the bytes as they were
    sent, and answers 400 malformed_json for JSON that is not UTF-8, as in AWS; decoding them here
    with replacement characters made such a body valid JSON with a U+FFFD in a string (a 422)."""
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def _query(query_string: str) -> dict[str, str] | None:
    query: dict[str, str] = {}
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value  # API Gateway joins repeats
    return query or None
