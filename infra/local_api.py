"""`make run`: the API of template.yaml on http://127.0.0.1:3000, no Docker, no AWS account.

Each HTTP request becomes an API Gateway payload-2.0 event with the authorizer context filled and
is handed in-process to the real handler, which talks to an embedded DynamoDB endpoint whose table
is created from template.yaml. Local identity: console routes read ``X-Account-Id`` (required) and
``X-Sub-Account-Id``; gateway routes need none (they get the gateway's IAM identity). Local-only
routes: ``PUT``/``DELETE /_local/clock`` and ``POST /_local/expiry-runs``.

Environment: ``PORT`` (3000), ``HOST`` (127.0.0.1), ``CATALOG_FILE`` / ``CATALOG_JSON``,
``CAMPAIGN_CLOSES_AT``. State lives as long as the process.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl

from infra.embedded_dynamodb import EmbeddedDynamoDB
from infra.events import GATEWAY_ROLE_ARN, LocalLambdaContext, http_event
from infra.lambda_pool import FunctionPool, put_layers_on_path
from infra.routes import Route, routes

MAX_BODY_BYTES = 1024 * 1024
EXPIRY_FUNCTION = ("functions/expiry", "expiry_handler.lambda_handler")

Reply = tuple[int, dict[str, str], bytes]


def _problem(status: HTTPStatus, code: str, detail: str) -> Reply:
    body = {"type": f"urn:tokenhub:trial-quota:problem:{code}", "title": status.phrase, "status": int(status),
            "detail": detail, "code": code}  # fmt: skip
    return int(status), {"Content-Type": "application/problem+json"}, json.dumps(body).encode()


def _json(status: HTTPStatus, body: dict[str, Any]) -> Reply:
    return int(status), {"Content-Type": "application/json"}, json.dumps(body).encode()


class LocalApi:
    """Routes requests to function pools; owns the test clock the handlers share."""

    def __init__(self, route_table: list[Route]) -> None:
        from trial_ledger import SwitchableClock

        self.clock = SwitchableClock()
        self._routes = {(route.method, route.path): route for route in route_table}
        self._pools: dict[str, FunctionPool] = {}
        for route in route_table:
            if route.function not in self._pools:
                self._pools[route.function] = FunctionPool(route.code_dir, route.handler, self._use_local_clock)
        self._expiry = FunctionPool(*EXPIRY_FUNCTION, setup=self._setup_expiry, max_containers=2)
        self._extra: dict[tuple[str, str], FunctionPool] = {}

    def add_gateway_route(self, method: str, path: str, pool: FunctionPool) -> None:
        """Serve a route that is not in template.yaml (the benchmark's baseline) like a gateway
        route: same event, same IAM identity, same embedded DynamoDB."""
        self._extra[(method, path)] = pool

    def _use_local_clock(self, module: ModuleType) -> None:
        module.ledger.clock = self.clock

    def _setup_expiry(self, module: ModuleType) -> None:
        self._use_local_clock(module)

        def continue_later(payload: dict[str, Any], context: Any) -> None:
            # Lambda's asynchronous self-invocation, played by a thread.
            threading.Thread(target=self._run_expiry, args=(payload,), daemon=True).start()

        setattr(module, "continue_later", continue_later)  # noqa: B010 (a loaded module's attribute)

    def _run_expiry(self, payload: dict[str, Any]) -> dict[str, Any]:
        with self._expiry.container() as module:
            result: dict[str, Any] = module.lambda_handler(payload, LocalLambdaContext("expiry", timeout_seconds=900))
            return result

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        path, _, query_string = target.partition("?")
        if path.startswith("/_local/"):
            return self._local(method, path, body)
        route = self._routes.get((method, path))
        extra = self._extra.get((method, path))
        if extra is not None:
            route = Route(method, path, f"extra:{path}", "", "", iam=True)
        if route is None:
            return _problem(HTTPStatus.NOT_FOUND, "not_found", f"no route {method} {path}")
        lowered = {name.lower(): value for name, value in headers.items()}
        identity: dict[str, Any]
        if route.iam:
            identity = {"iam_principal": GATEWAY_ROLE_ARN}
        else:
            account = lowered.get("x-account-id", "").strip()
            if not account:
                return _problem(HTTPStatus.UNAUTHORIZED, "unauthenticated", "send the account in X-Account-Id")
            claims = {os.environ.get("ACCOUNT_CLAIM") or "root_account_id": account, "iss": "local", "aud": "local"}
            if sub := lowered.get("x-sub-account-id", "").strip():
                claims["sub"] = sub
            identity = {"jwt_claims": claims}
        query: dict[str, str] = {}
        for key, value in parse_qsl(query_string, keep_blank_values=True):
            query[key] = f"{query[key]},{value}" if key in query else value  # API Gateway joins repeats
        event = http_event(
            method,
            path,
            route_key=f"{route.method} {route.path}",
            body=body.decode("utf-8", errors="replace") if body else None,
            query=query or None,
            headers=headers,
            **identity,
        )
        with (extra or self._pools[route.function]).container() as module:
            raw = module.lambda_handler(event, LocalLambdaContext(route.function))
        text = raw.get("body") or ""
        return int(raw["statusCode"]), dict(raw.get("headers") or {}), text.encode()

    def _local(self, method: str, path: str, body: bytes) -> Reply:
        from trial_ledger import format_timestamp, parse_timestamp

        if path == "/_local/clock" and method == "PUT":
            try:
                now = json.loads(body or b"{}").get("now")
                self.clock.freeze(parse_timestamp(now))
            except (ValueError, TypeError, AttributeError):
                return _problem(HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error",
                                'send {"now": "<ISO-8601 instant with offset>"}')  # fmt: skip
            return _json(HTTPStatus.OK, {"now": format_timestamp(self.clock.now()), "frozen": True})
        if path == "/_local/clock" and method == "DELETE":
            self.clock.unfreeze()
            return _json(HTTPStatus.OK, {"now": format_timestamp(self.clock.now()), "frozen": False})
        if path == "/_local/clock" and method == "GET":
            return _json(HTTPStatus.OK, {"now": format_timestamp(self.clock.now()), "frozen": self.clock.frozen})
        if path == "/_local/expiry-runs" and method == "POST":
            # As the schedule would: its scheduled time (here: the clock) is the as-of instant.
            return _json(HTTPStatus.OK, self._run_expiry({"as_of": format_timestamp(self.clock.now())}))
        return _problem(HTTPStatus.NOT_FOUND, "not_found", f"no local route {method} {path}")


def _request_handler(api: LocalApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "trial-quota-local"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                status, headers, body = _problem(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large",
                                                 f"bodies are limited to {MAX_BODY_BYTES} bytes")  # fmt: skip
                self._discard(length)
                self.close_connection = True
            else:
                payload = self.rfile.read(length) if length else b""
                try:
                    status, headers, body = api.handle(self.command, self.path, dict(self.headers.items()), payload)
                except Exception:  # a crash of the emulator itself, not of a handler
                    self.log_error("emulator error:\n%s", traceback.format_exc())
                    status, headers, body = _problem(
                        HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "emulator error"
                    )
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _discard(self, length: int) -> None:
            # Read what the client sends (up to a bound) so it sees the answer, not a reset.
            left = min(length, 16 * MAX_BODY_BYTES)
            while left > 0 and (chunk := self.rfile.read(min(left, 65536))):
                left -= len(chunk)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            if os.environ.get("LOCAL_API_QUIET") != "1":
                super().log_message(format, *args)

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default backlog of 5 resets connections from concurrent clients


def _local_environment() -> None:
    defaults = {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "TABLE_NAME": "trial-quota-local",
        "POWERTOOLS_SERVICE_NAME": "trial-quota",
        "POWERTOOLS_METRICS_NAMESPACE": "TrialQuota",
        "POWERTOOLS_TRACE_DISABLED": "true",
        # Powertools keeps metrics in state shared by every import of a handler; the local
        # containers run in threads of one process, so metrics stay off unless asked for.
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
    os.environ.pop("AWS_PROFILE", None)


def serve(
    host: str,
    port: int,
    ready: Callable[[str, str], None] | None = None,
    extend: Callable[[LocalApi, EmbeddedDynamoDB], None] | None = None,
) -> None:
    _local_environment()
    dynamodb = EmbeddedDynamoDB().start()
    os.environ["DYNAMODB_ENDPOINT_URL"] = dynamodb.endpoint_url
    dynamodb.create_table(os.environ["TABLE_NAME"], os.environ["AWS_REGION"])
    put_layers_on_path()
    api = LocalApi(routes())
    if extend:
        extend(api, dynamodb)
    server = _Server((host, port), _request_handler(api))
    url = f"http://{host}:{server.server_address[1]}"
    if ready:
        ready(url, dynamodb.endpoint_url)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        dynamodb.stop()


def main(extend: Callable[[LocalApi, EmbeddedDynamoDB], None] | None = None) -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "3000"))

    def announce(url: str, dynamodb_url: str) -> None:
        print(f"trial-quota local API on {url} (embedded DynamoDB at {dynamodb_url}); Ctrl-C stops", flush=True)

    serve(host, port, announce, extend)
    return 0


if __name__ == "__main__":
    sys.exit(main())
