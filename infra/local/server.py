"""`make run`'s HTTP server: werkzeug frames the requests; the local gateway answers them, apart from
the console's files (infra/local/console.py) and the ``/_local/`` routes (infra/local/admin.py).

werkzeug's server reads ``Transfer-Encoding: chunked`` bodies, closes every connection after its
answer (so a body can never be read as the next request) and drains what a refused request still
sends. What it lets through is refused here, each with a problem+json 4xx: a ``Content-Length``
that is not a plain number, both framings at once, a transfer coding other than chunked, a body
over the limit, and a body that ends early or stalls (the socket times out)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import signal
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Response
from werkzeug.wsgi import get_input_stream

from infra.local.console import LocalConsole
from infra.local.embedded_dynamodb import EmbeddedDynamoDB
from infra.local.events import LOCAL_PRINCIPALS
from infra.local.gateway import LocalGateway, LocalRequest, Reply, problem_reply
from infra.local.lambda_container import put_layers_on_path

MAX_BODY_BYTES = 1024 * 1024
SOCKET_TIMEOUT_SECONDS = 5.0
"""A request whose head or body does not arrive within this is answered (or dropped), not waited on."""
RAW_HEADERS = "local.raw_headers"

Extension = Callable[[LocalGateway, EmbeddedDynamoDB], None]


class _RequestHandler(WSGIRequestHandler):
    timeout = SOCKET_TIMEOUT_SECONDS

    def make_environ(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().make_environ()
        environ[RAW_HEADERS] = list(self.headers.items())  # werkzeug joins repeated headers; keep them apart
        return environ

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What the standard library refuses before a request exists (a request line that is not
        HTTP, a line or header too long): a problem+json, not its HTML page."""
        reply = problem_reply("malformed_request", message or HTTPStatus(code).phrase)
        if self.request_version == "HTTP/0.9":  # what the standard library assumes of a garbled request line
            self.request_version = "HTTP/1.0"
        self.log_error("code %d, message %s", code, message)
        self.send_response(reply.status)
        self.send_header("Connection", "close")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if os.environ.get("LOCAL_API_QUIET") != "1":
            super().log_request(code, size)


def _framing_problem(environ: dict[str, Any]) -> Reply | None:
    if sum(name.lower() == "content-length" for name, _ in environ[RAW_HEADERS]) > 1:
        return problem_reply("malformed_request", "send Content-Length once")
    length = environ.get("CONTENT_LENGTH")
    coding = environ.get("HTTP_TRANSFER_ENCODING")
    if coding is not None and coding.strip().lower() != "chunked":
        return problem_reply("malformed_request", "the only transfer coding is chunked")
    if coding is not None and length is not None:
        return problem_reply("malformed_request",
                             "send either Content-Length or Transfer-Encoding, not both")  # fmt: skip
    if length is not None and not re.fullmatch(r"[0-9]{1,19}", length):
        return problem_reply("malformed_request", "Content-Length must be one whole number")
    if length is not None and int(length) > MAX_BODY_BYTES:
        return _too_large()
    return None


def _too_large() -> Reply:
    return problem_reply("payload_too_large",
                         f"bodies are limited to {MAX_BODY_BYTES} bytes")  # fmt: skip


def _decoded_path(environ: dict[str, Any]) -> str:
    """The path as API Gateway hands it to a function (``rawPath``, ``pathParameters``): percent-
    decoded, as text. WSGI's ``PATH_INFO`` is decoded too, but as one latin-1 character per byte of
    its UTF-8 (werkzeug replaces bytes that are not UTF-8 with U+FFFD): ``é`` arrives as ``Ã©``."""
    return (environ.get("PATH_INFO") or "/").encode("latin-1").decode("utf-8", errors="replace")


def _answer(gateway: LocalGateway, admin: Any, console: LocalConsole, environ: dict[str, Any]) -> Reply:
    if refused := _framing_problem(environ):
        return refused
    try:  # a stream capped at the limit ends there quietly: one byte more tells a body that is over it
        body = get_input_stream(environ, max_content_length=MAX_BODY_BYTES + 1).read()
    except RequestEntityTooLarge:
        return _too_large()
    except (ClientDisconnected, OSError):
        return problem_reply("malformed_request",
                             "the body did not arrive in full (short, stalled or badly chunked)")  # fmt: skip
    if len(body) > MAX_BODY_BYTES:
        return _too_large()
    request = LocalRequest(environ["REQUEST_METHOD"], _decoded_path(environ), environ.get("QUERY_STRING", ""),
                           environ[RAW_HEADERS], body)  # fmt: skip
    if console.serves(request):
        return console.handle(request)
    return (admin if request.path.startswith("/_local/") else gateway).handle(request)


def wsgi_app(gateway: LocalGateway, admin: Any, console: LocalConsole) -> Callable[..., Iterable[bytes]]:
    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            reply = _answer(gateway, admin, console, environ)
        except Exception:  # the emulator's own failure, not a function's
            logging.getLogger("local_api").exception("emulator error")
            reply = problem_reply("internal_error", "emulator error")
        headers = {name: value for name, value in reply.headers.items() if name.lower() != "content-length"}
        response = Response(reply.body, status=reply.status, headers=headers)
        return response(environ, start_response)

    return application


def local_environment() -> None:
    defaults = {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "TABLE_NAME": "trial-quota-local",
        "EVENT_BUS_NAME": "trial-quota-local-ledger",
        "POWERTOOLS_SERVICE_NAME": "trial-quota",
        "POWERTOOLS_METRICS_NAMESPACE": "TrialQuota",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",  # one EMF line per request would drown the access log
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    for name, value in (defaults | LOCAL_PRINCIPALS).items():
        os.environ.setdefault(name, value)
    os.environ.pop("AWS_PROFILE", None)


def serve(
    host: str, port: int, ready: Callable[[str, str], None] | None = None, extend: Extension | None = None
) -> None:
    local_environment()
    put_layers_on_path()
    from infra.local.admin import LocalAdmin  # reads trial_ledger: the environment and layers come first
    from infra.local.bus import LocalBus
    from infra.local.shared_clock import SharedClock

    dynamodb = EmbeddedDynamoDB().start()
    os.environ["DYNAMODB_ENDPOINT_URL"] = dynamodb.endpoint_url  # before any container starts: they inherit it
    os.environ["EVENTS_ENDPOINT_URL"] = dynamodb.endpoint_url  # moto's EventBridge, on the same endpoint
    dynamodb.create_table(os.environ["TABLE_NAME"], os.environ["AWS_REGION"])
    bus = LocalBus(dynamodb.endpoint_url, os.environ["AWS_REGION"], os.environ["EVENT_BUS_NAME"]).create()
    context = multiprocessing.get_context("spawn")
    gateway = LocalGateway(context, SharedClock(context))
    pollers = dynamodb.stream_pollers(os.environ["TABLE_NAME"], os.environ["AWS_REGION"], gateway.pools)
    server: BaseWSGIServer | None = None
    try:
        if extend:
            extend(gateway, dynamodb)
        gateway.warm()
        application = wsgi_app(gateway, LocalAdmin(gateway, bus), LocalConsole())
        server = make_server(host, port, application, threaded=True, request_handler=_RequestHandler)
        stop = server.shutdown
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=stop).start())
        if ready:
            ready(f"http://{host}:{server.server_address[1]}", dynamodb.endpoint_url)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            server.server_close()
        for poller in pollers:
            poller.stop()
        gateway.close()
        dynamodb.stop()


def main(extend: Extension | None = None) -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "3000"))

    def announce(url: str, dynamodb_url: str) -> None:
        print(f"trial-quota local API on {url} (embedded DynamoDB at {dynamodb_url}); Ctrl-C stops", flush=True)
        print(f"the local console: open {url}/ in a browser", flush=True)

    serve(host, port, announce, extend)
    return 0
