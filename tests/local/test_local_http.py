"""The local stack's HTTP framing, over raw sockets: every request is framed once, exactly as sent,
and every malformed one is answered with a problem+json 4xx and a closed connection, never a hang,
a reset or a second request made of its body. CORS preflights are answered from template.yaml's
CorsConfiguration, as API Gateway answers them."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from infra.local.template import load_template
from tests.support import LANG_90
from tests.support.local_stack import LocalStack

pytestmark = pytest.mark.e2e
LIVENESS_SECONDS = 30
"""Not a speed target: a bound on how long a test waits before calling the server hung."""


def exchange(stack: LocalStack, raw: bytes, half_close: bool = True) -> list[tuple[int, dict[str, str], Any]]:
    """Send ``raw`` on one connection; every response the server sends back on it, parsed."""
    address = urlsplit(stack.url)
    with socket.create_connection((address.hostname, address.port), timeout=LIVENESS_SECONDS) as connection:
        connection.sendall(raw)
        if half_close:
            connection.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return parse_responses(received)


def parse_responses(data: bytes) -> list[tuple[int, dict[str, str], Any]]:
    responses = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
        length = int(headers.get("content-length", "0"))
        body, data = rest[:length], rest[length:]
        responses.append((int(status_line.split()[1]), headers, json.loads(body) if body else None))
    return responses


def request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def chunked(*pieces: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


def assert_problem(response: tuple[int, dict[str, str], Any], status: int, code: str) -> None:
    got_status, headers, body = response
    assert (got_status, body["code"], body["status"]) == (status, code, status), body
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"


def test_a_chunked_body_is_read_as_the_body(stack: LocalStack) -> None:
    body = json.dumps({"account_id": "http-chunked", "model_id": LANG_90}).encode()
    raw = request("POST", "/v1/authorizations", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                  chunked(body[:10], body[10:]))  # fmt: skip
    [(status, _, answer)] = exchange(stack, raw)
    assert (status, answer["auto_claimed"], answer["free_remaining"]) == (200, True, 1_000_000)


def test_a_request_inside_a_chunked_body_is_never_served(stack: LocalStack) -> None:
    stack.console("POST", "/v1/account/activation", "http-victim")
    smuggled = request("GET", "/v1/account", {"X-Account-Id": "http-victim"})
    raw = request("POST", "/v1/authorizations", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                  chunked(smuggled))  # fmt: skip
    [response] = exchange(stack, raw)
    assert_problem(response, 400, "malformed_json")


def test_a_request_after_the_body_on_the_same_connection_is_not_served(stack: LocalStack) -> None:
    first = request("GET", "/v1/account", {"X-Account-Id": "http-first"})
    second = request("GET", "/v1/account", {"X-Account-Id": "http-second"})
    responses = exchange(stack, first + second)
    assert [(status, body["account_id"]) for status, _, body in responses] == [(200, "http-first")]


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", "+5", "5, 5", "99999999999999999999"])
def test_a_content_length_that_is_not_one_whole_number_is_refused(stack: LocalStack, length: str) -> None:
    raw = request("POST", "/v1/usage", {"Content-Type": "application/json", "Content-Length": length}, b"{}")
    [response] = exchange(stack, raw)
    assert_problem(response, 400, "malformed_request")


def test_two_content_lengths_are_refused(stack: LocalStack) -> None:
    raw = b"POST /v1/usage HTTP/1.1\r\nHost: l\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}"
    [response] = exchange(stack, raw)
    assert_problem(response, 400, "malformed_request")


def test_both_framings_at_once_are_refused(stack: LocalStack) -> None:
    headers = {"Content-Type": "application/json", "Content-Length": "5", "Transfer-Encoding": "chunked"}
    [response] = exchange(stack, request("POST", "/v1/usage", headers, chunked(b"{}")))
    assert_problem(response, 400, "malformed_request")


def test_an_unknown_transfer_coding_is_refused(stack: LocalStack) -> None:
    headers = {"Content-Type": "application/json", "Transfer-Encoding": "gzip, chunked"}
    [response] = exchange(stack, request("POST", "/v1/usage", headers, chunked(b"{}")))
    assert_problem(response, 400, "malformed_request")


def test_a_badly_chunked_body_is_refused(stack: LocalStack) -> None:
    headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    [response] = exchange(stack, request("POST", "/v1/usage", headers, b"zz\r\n{}\r\n0\r\n\r\n"))
    assert_problem(response, 400, "malformed_request")


def test_a_body_shorter_than_its_length_is_answered_while_the_client_waits(stack: LocalStack) -> None:
    """The client keeps its side open, as a stalled or lying client would: the server times the
    body out and answers instead of waiting for ever."""
    raw = request("POST", "/v1/usage", {"Content-Type": "application/json", "Content-Length": "100"}, b"{}")
    [response] = exchange(stack, raw, half_close=False)
    assert_problem(response, 400, "malformed_request")


def test_a_body_over_the_limit_is_refused_before_it_is_read(stack: LocalStack) -> None:
    raw = request("POST", "/v1/usage", {"Content-Type": "application/json", "Content-Length": str(2**21)})
    [response] = exchange(stack, raw, half_close=False)
    assert_problem(response, 413, "payload_too_large")


def test_a_chunked_body_over_the_limit_is_refused(stack: LocalStack) -> None:
    headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    [response] = exchange(stack, request("POST", "/v1/usage", headers, chunked(*[b" " * 65536] * 17)))
    assert_problem(response, 413, "payload_too_large")


@pytest.mark.parametrize("method", ["OPTIONS", "TRACE", "PATCH", "CONNECT", "BREW"])
def test_methods_no_route_has_are_a_problem_not_a_server_page(stack: LocalStack, method: str) -> None:
    [response] = exchange(stack, request(method, "/v1/account", {"X-Account-Id": "http-methods"}))
    assert_problem(response, 404, "not_found")


def cors_configuration() -> tuple[str, dict[str, Any]]:
    """The first allowed origin and the CorsConfiguration, as template.yaml has them."""
    template = load_template()
    [api] = [resource for resource in template["Resources"].values() if resource["Type"] == "AWS::Serverless::HttpApi"]
    configuration = api["Properties"]["CorsConfiguration"]
    return template["Parameters"][configuration["AllowOrigins"]["Ref"]]["Default"].split(",")[0], configuration


def preflight(stack: LocalStack, origin: str) -> tuple[int, dict[str, str], Any]:
    headers = {"Origin": origin, "Access-Control-Request-Method": "GET",
               "Access-Control-Request-Headers": "authorization"}  # fmt: skip
    [response] = exchange(stack, request("OPTIONS", "/v1/trials", headers))
    return response


def test_a_cors_preflight_from_an_allowed_origin_is_answered_from_the_template(stack: LocalStack) -> None:
    origin, configuration = cors_configuration()
    status, headers, body = preflight(stack, origin)
    assert (status, body) == (204, None)
    assert {name: value for name, value in headers.items() if name.startswith("access-control-")} == {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": ",".join(configuration["AllowMethods"]),
        "access-control-allow-headers": ",".join(configuration["AllowHeaders"]).lower(),
        "access-control-max-age": str(configuration["MaxAge"]),
    }
    answer = stack.call("GET", "/v1/trials", headers={"X-Account-Id": "http-cors", "Origin": origin})
    assert answer.headers["access-control-allow-origin"] == origin  # API Gateway adds it to the function's answer


def test_a_cors_preflight_from_any_other_origin_gets_no_allow_headers(stack: LocalStack) -> None:
    status, headers, body = preflight(stack, "https://elsewhere.example")
    assert (status, body) == (204, None)
    assert [name for name in headers if name.startswith("access-control-")] == []
    answer = stack.call(
        "GET", "/v1/trials", headers={"X-Account-Id": "http-cors", "Origin": "https://elsewhere.example"}
    )
    assert "access-control-allow-origin" not in answer.headers


@pytest.mark.parametrize(
    ("segment", "status", "code"),
    [
        ("h%00", 422, "validation_error"),
        ("h%07", 422, "validation_error"),
        ("h%C3%A9", 422, "validation_error"),
        ("h%C2%A9", 422, "validation_error"),
        ("h%E2%98%83", 422, "validation_error"),
        ("h%F0%9F%98%80", 422, "validation_error"),
        ("h%FF", 422, "validation_error"),
        ("h%22", 422, "validation_error"),
        ("h%5C1", 422, "validation_error"),
        ("h%2541", 422, "validation_error"),
        ("never-held-1", 404, "hold_not_found"),
    ],
)
def test_a_hold_id_in_the_path_is_answered_by_its_route(
    stack: LocalStack, segment: str, status: int, code: str
) -> None:
    """Issue 27: a NUL or a character no id has (here ``©``, ``☃``, an emoji, a quote, a backslash)
    was 404 "no such route"; the route answers, 422 naming the field, or hold_not_found."""
    [response] = exchange(stack, request("DELETE", f"/v1/holds/{segment}", {}))
    assert_problem(response, status, code)
    if status == 422:
        assert [error["field"] for error in response[2]["errors"]] == ["request_id"]


def test_head_is_answered_without_a_body(stack: LocalStack) -> None:
    [(status, headers, body)] = exchange(stack, request("HEAD", "/v1/account", {"X-Account-Id": "http-head"}))
    assert (status, headers["content-type"], body) == (404, "application/problem+json", None)


def test_a_request_line_that_is_not_http_is_refused(stack: LocalStack) -> None:
    [response] = exchange(stack, b"this is not http\r\n\r\n")
    assert_problem(response, 400, "malformed_request")


@pytest.mark.parametrize("header", ["X-Account-Id", "X-Sub-Account-Id"])
def test_an_identity_header_sent_twice_is_refused(stack: LocalStack, header: str) -> None:
    raw = (f"GET /v1/account HTTP/1.1\r\nHost: l\r\nX-Account-Id: http-one\r\n{header}: http-two\r\n\r\n").encode()
    if header == "X-Sub-Account-Id":
        raw = raw.replace(b"\r\n\r\n", b"\r\nX-Sub-Account-Id: key-1\r\n\r\n")
    [response] = exchange(stack, raw)
    assert_problem(response, 400, "ambiguous_identity")


@pytest.mark.parametrize(
    "now", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1969-12-31T23:59:59Z", "not a time", 5, None]
)
def test_the_test_clock_refuses_instants_it_cannot_keep(stack: LocalStack, now: Any) -> None:
    before = stack.call("GET", "/_local/clock").body  # the module's stack is frozen at its STACK_CLOCK
    answer = stack.call("PUT", "/_local/clock", {"now": now})
    assert (answer.status, answer.body["code"]) == (422, "validation_error")
    assert stack.call("GET", "/_local/clock").body == before


def test_the_test_clock_reads_json_as_the_functions_do(stack: LocalStack) -> None:
    before = stack.call("GET", "/_local/clock").body
    for body in (b'{"now": "2026-01-01T00:00:00Z", "now": "2027-01-01T00:00:00Z"}', b'{"now": ', b'{"now": "\xff"}'):
        answer = stack.call("PUT", "/_local/clock", body)
        assert (answer.status, answer.body["code"]) == (400, "malformed_json"), body
    assert stack.call("GET", "/_local/clock").body == before


def usage_text(request_id: str) -> bytes:
    return json.dumps(
        {"account_id": "http-json", "model_id": LANG_90, "quantity": 10, "request_id": request_id}
    ).encode()


MALFORMED_BODIES: dict[str, tuple[str, Callable[[str], bytes]]] = {
    "repeated-key": ("/v1/usage", lambda rid: usage_text(rid)[:-1] + b', "quantity": 1000000}'),
    "not-utf8-ff": ("/v1/usage", lambda rid: usage_text(rid).replace(b"http-json", b"http\xff-json", 1)),
    "not-utf8-truncated": ("/v1/usage", lambda rid: usage_text(rid).replace(b"http-json", b"http\xc3-json", 1)),
    "batch-repeated-key": ("/v1/usage/batch", lambda rid: b'{"records": [' + usage_text(rid) + b'], "records": []}'),
    "batch-not-utf8": (
        "/v1/usage/batch",
        lambda rid: b'{"records": [' + usage_text(rid).replace(b"http", b"\xe9", 1) + b"]}",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_BODIES))
def test_a_body_with_a_repeated_key_or_bytes_not_utf8_is_malformed_json(stack: LocalStack, case: str) -> None:
    """Issue 27, locally as in Lambda: a repeated key was resolved by its last value, and bytes that
    are not UTF-8 inside a JSON string were decoded with replacement characters (a 422). Both are
    400 malformed_json, and nothing is written: the same request_id, sent well formed, is new."""
    path, make = MALFORMED_BODIES[case]
    body = make(f"http-json-{case}")
    [response] = exchange(stack, request("POST", path, {"Content-Type": "application/json",
                                                        "Content-Length": str(len(body))}, body))  # fmt: skip
    assert_problem(response, 400, "malformed_json")
    again = stack.gateway("/v1/usage", json.loads(usage_text(f"http-json-{case}")))
    assert (again.status, again.body["replayed"]) == (200, False)
