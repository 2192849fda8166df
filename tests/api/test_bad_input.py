"""A bad-input corpus through the real handlers: every case is refused with the status the contract
names (docs/contract.md section 3, docs/api.md "Validation decisions"), as a problem+json body
without stack traces, and writes nothing to the table.

Console cases run on an activated account, so that validation (not the 403 of a missing
activation) is what is tested. Gateway cases name an account and a trial model that a valid
request would claim automatically, so a write would show up in the item count."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from typing import Any

import pytest

from infra.local.events import OPERATOR_ROLE_ARN
from tests.support import LANG_90, LANG_90_B
from tests.support.api import Reply, console, gateway
from trial_edge.problem_catalogue import PROBLEM_JSON, problem_type
from trial_ledger import Alerts, AlertsSource, Ledger
from trial_ledger.config.settings import load_settings
from trial_ledger.dynamo.indexes.cursor import encode_usage_cursor, listing_scope

pytestmark = [
    pytest.mark.usefixtures("handlers"),
    # Powertools warns that a multipart body arrived as text, as the multipart cases send it.
    pytest.mark.filterwarnings("ignore:Received multipart/form-data without base64 encoding:UserWarning"),
]

TABLE_NAME = os.environ["TABLE_NAME"]
LEAKS = ("Traceback", ".py", "pynamodb", "botocore")
BIG = "x" * (300 * 1024)
"""300 KB: under the local server's 1 MiB and API Gateway's 10 MB body limits, so it reaches the handler."""

MALFORMED = (400, "malformed_json")
INVALID = (422, "validation_error")
BAD_CURSOR = (400, "invalid_cursor")
UNSUPPORTED = (415, "unsupported_media_type")
UNAUTHENTICATED = (401, "unauthenticated")

GATEWAY_PATHS = {
    ("POST", "/v1/authorizations"),
    ("POST", "/v1/usage"),
    ("POST", "/v1/usage/batch"),
    ("POST", "/v1/holds"),
    ("POST", "/v1/usage/reversals"),
}
OPERATOR_PATHS = {
    ("POST", "/v1/admin/grants/extension"),
    ("POST", "/v1/admin/grants/void"),
    ("GET", "/v1/admin/grants/ledger"),
}
"""The operator routes (R18): sent as the operators' principal (R21)."""
RELEASE_PREFIX = "/v1/holds/"
"""``DELETE /v1/holds/{request_id}``: the case's path names the request_id."""


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    expected: tuple[int, str]
    body: Any = None
    """A ``str`` is sent as the raw body text; anything else is serialised with ``json.dumps``."""
    query: dict[str, str] | None = None
    content_type: str | None = None
    """Sent instead of ``application/json``; ``""`` sends no Content-Type at all."""
    raw_bytes: bytes | None = None
    """Sent base64-encoded (``isBase64Encoded``), as API Gateway delivers a non-text body."""
    sub: object = "user-1"
    """The JWT's ``sub`` claim on console routes."""


def postpaid(case_id: str, body: Any, expected: tuple[int, str] = INVALID, **more: Any) -> Case:
    return Case(f"postpaid-{case_id}", "PUT", "/v1/account/postpaid", expected, body, **more)


def alerts(case_id: str, body: Any, expected: tuple[int, str] = INVALID, **more: Any) -> Case:
    return Case(f"alerts-{case_id}", "PUT", "/v1/account/alerts", expected, body, **more)


def claims(case_id: str, body: Any, expected: tuple[int, str] = INVALID, **more: Any) -> Case:
    return Case(f"claims-{case_id}", "POST", "/v1/trials/claims", expected, body, **more)


def authorization(case_id: str, body: Any, expected: tuple[int, str] = INVALID, **more: Any) -> Case:
    return Case(f"authz-{case_id}", "POST", "/v1/authorizations", expected, body, **more)


def usage(case_id: str, body: Any, expected: tuple[int, str] = INVALID, **more: Any) -> Case:
    return Case(f"usage-{case_id}", "POST", "/v1/usage", expected, body, **more)


def batch(case_id: str, body: Any, expected: tuple[int, str] = INVALID, **more: Any) -> Case:
    return Case(f"batch-{case_id}", "POST", "/v1/usage/batch", expected, body, **more)


def holding(case_id: str, body: Any, expected: tuple[int, str] = INVALID, **more: Any) -> Case:
    return Case(f"hold-{case_id}", "POST", "/v1/holds", expected, body, **more)


def release(case_id: str, request_id: str, expected: tuple[int, str] = INVALID) -> Case:
    return Case(f"release-{case_id}", "DELETE", RELEASE_PREFIX + request_id, expected)


def reversal(case_id: str, body: Any, expected: tuple[int, str] = INVALID, **more: Any) -> Case:
    return Case(f"reversal-{case_id}", "POST", "/v1/usage/reversals", expected, body, **more)


def extension(case_id: str, body: Any, expected: tuple[int, str] = INVALID) -> Case:
    return Case(f"extension-{case_id}", "POST", "/v1/admin/grants/extension", expected, body)


def voiding(case_id: str, body: Any, expected: tuple[int, str] = INVALID) -> Case:
    return Case(f"void-{case_id}", "POST", "/v1/admin/grants/void", expected, body)


def grant_ledger(case_id: str, query: dict[str, str], path: str = f"/v1/trials/{LANG_90}/ledger") -> Case:
    refused = BAD_CURSOR if "cursor" in query and len(query["cursor"]) <= 1024 else INVALID
    return Case(f"ledger-{case_id}", "GET", path, refused, query=query)


def listing(case_id: str, query: dict[str, str]) -> Case:
    # A cursor the listing did not issue is 400 invalid_cursor; one past the query's length is 422.
    refused = BAD_CURSOR if "cursor" in query and len(query["cursor"]) <= 1024 else INVALID
    return Case(f"listing-{case_id}", "GET", "/v1/usage", refused, query=query)


AUTHZ_OK: dict[str, Any] = {"account_id": "acct-1", "model_id": LANG_90}
USAGE_OK: dict[str, Any] = {"account_id": "acct-1", "model_id": LANG_90, "quantity": 10, "request_id": "r1"}
CLAIMS_OK: dict[str, Any] = {"models": [LANG_90]}
POSTPAID_OK: dict[str, Any] = {"enabled": True}
ALERTS_OK: dict[str, Any] = {"balance_low_percent": [50, 90]}
HOLD_OK: dict[str, Any] = {"account_id": "acct-1", "model_id": LANG_90, "request_id": "h1", "estimate": 100}
REVERSAL_OK: dict[str, Any] = {"request_id": "r1", "reason": "the call failed after metering"}
VOID_OK: dict[str, Any] = {"action_id": "act-1", "account_id": "acct-1", "model_id": LANG_90,
                           "actor": "support:alice", "reason": "ticket 4711"}  # fmt: skip
EXTENSION_OK: dict[str, Any] = VOID_OK | {"expires_at": "2026-08-01T00:00:00Z"}


FORM_BODY = "account_id=acct-1&model_id=hunyuan-turbo"
BOUNDARY = "corpus-boundary"
MULTIPART_BODY = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="enabled"\r\n\r\ntrue\r\n--{BOUNDARY}--\r\n'


def with_usage(**fields: Any) -> dict[str, Any]:
    return USAGE_OK | fields


def with_hold(**fields: Any) -> dict[str, Any]:
    return HOLD_OK | fields


def with_authz(**fields: Any) -> dict[str, Any]:
    return AUTHZ_OK | fields


def without(body: dict[str, Any], field: str) -> dict[str, Any]:
    return {name: value for name, value in body.items() if name != field}


def nested(depth: int, leaf: str = "1") -> str:
    """JSON arrays ``depth`` levels deep around ``leaf``."""
    return "[" * depth + leaf + "]" * depth


def usage_text(quantity: str) -> str:
    """The valid usage body with ``quantity`` spliced in as raw JSON text."""
    return json.dumps(USAGE_OK).replace('"quantity": 10', f'"quantity": {quantity}')


HUGE = "9" * 5000
"""Valid JSON, but past Python's 4,300-digit limit for converting a string to an integer."""


def repeated(body: dict[str, Any], field: str, value: Any) -> str:
    """``body`` as JSON text with ``field`` sent a second time, holding ``value``, at the end."""
    return json.dumps(body)[:-1] + f", {json.dumps(field)}: {json.dumps(value)}}}"


SECOND_RECORD_REPEATS_A_KEY = (
    '{"records": [' + json.dumps(USAGE_OK) + ", " + repeated(with_usage(request_id="r2"), "request_id", "r3") + "]}"
)


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def usage_cursor_of(account_id: str, shards: int | None = None) -> str:
    """A usage listing cursor as the service issues it, for ``account_id``'s listing at a shard count."""
    read = load_settings().usage_index_shards.read if shards is None else shards
    return encode_usage_cursor("2026-03-01T08:00:00.000Z#r1", listing_scope("usage", account_id, "", read))


CORPUS: list[Case] = [
    # --- malformed JSON: 400 on every body route ---
    postpaid("truncated", '{"enabled": ', MALFORMED),
    postpaid("trailing-garbage", '{"enabled": true} x', MALFORMED),
    postpaid("single-quotes", "{'enabled': true}", MALFORMED),
    # An empty body is no body (the two are the same on the wire): the required body is missing, 422.
    # Whitespace is a body that is not JSON, 400.
    postpaid("empty-body", ""),
    postpaid("no-body", None),
    postpaid("non-utf8-bytes", None, MALFORMED, raw_bytes=b'{"enabled": "\xff\xfe"}'),
    claims("truncated", '{"models": [', MALFORMED),
    claims("trailing-comma", '{"models": ["hunyuan-turbo",]}', MALFORMED),
    claims("two-objects", '{"models": ["hunyuan-turbo"]}{"models": []}', MALFORMED),
    claims("whitespace-only", "   ", MALFORMED),
    authorization("truncated", '{"account_id": "acct-1", "model_id": "hunyu', MALFORMED),
    authorization("bare-word", "hello", MALFORMED),
    authorization("non-utf8-bytes", None, MALFORMED, raw_bytes=b"\x80\x81\x82\xff"),
    usage("truncated", '{"account_id": ', MALFORMED),
    usage("trailing-garbage", json.dumps(USAGE_OK) + "garbage", MALFORMED),
    usage("empty-body", ""),
    usage("no-content-type-truncated", '{"account_id": ', MALFORMED, content_type=""),
    usage("nan", json.dumps(USAGE_OK).replace('"quantity": 10', '"quantity": NaN'), MALFORMED),
    usage("infinity", json.dumps(USAGE_OK).replace('"quantity": 10', '"quantity": Infinity'), MALFORMED),
    # A raw tab inside a JSON string (not the escape \\t): not JSON.
    usage("literal-tab-in-string", json.dumps(USAGE_OK).replace('"acct-1"', '"acct\t1"'), MALFORMED),
    # --- an object that repeats a key, at any depth: 400 on every route with a body (contract v3.2) ---
    usage("repeated-quantity", repeated(USAGE_OK, "quantity", 1_000_000), MALFORMED),
    usage("repeated-same-value", repeated(USAGE_OK, "quantity", 10), MALFORMED),
    usage("repeated-account-id", repeated(USAGE_OK, "account_id", "acct-2"), MALFORMED),
    usage("repeated-key-nested", repeated(USAGE_OK, "note", "x").replace('"x"', '{"a": 1, "a": 2}'), MALFORMED),
    usage("repeated-300kb-key", json.dumps({BIG: 1})[:-1] + f', "{BIG}": 2}}', MALFORMED),
    postpaid("repeated-enabled", repeated({"enabled": False}, "enabled", True), MALFORMED),
    claims("repeated-models", repeated(CLAIMS_OK, "models", [LANG_90_B]), MALFORMED),
    authorization("repeated-model-id", repeated(AUTHZ_OK, "model_id", LANG_90_B), MALFORMED),
    holding("repeated-estimate", repeated(HOLD_OK, "estimate", 1_000_000), MALFORMED),
    holding("repeated-ttl", repeated(HOLD_OK | {"ttl_seconds": 60}, "ttl_seconds", 3600), MALFORMED),
    batch("repeated-records", repeated({"records": [USAGE_OK]}, "records", [with_usage(request_id="r2")]), MALFORMED),
    batch("record-repeated-quantity", '{"records": [' + repeated(USAGE_OK, "quantity", 10**6) + "]}", MALFORMED),
    batch("second-record-repeated-key", SECOND_RECORD_REPEATS_A_KEY, MALFORMED),
    # --- JSON that is not an object: 422 ---
    postpaid("json-string", '"enabled"'),
    postpaid("json-array", "[true]"),
    postpaid("json-number", "1"),
    postpaid("json-null", "null"),
    claims("json-array-of-ids", json.dumps([LANG_90])),
    postpaid("json-array-of-object", [POSTPAID_OK]),
    claims("json-array-of-object", [CLAIMS_OK]),
    authorization("json-array-of-object", [AUTHZ_OK]),
    usage("json-array-of-objects", [USAGE_OK, {"anything": "at all"}]),
    usage("json-number", "42"),
    usage("json-string", json.dumps(json.dumps(USAGE_OK))),
    # --- content types ---
    postpaid("text-plain", "enabled=true", UNSUPPORTED, content_type="text/plain"),
    usage("text-plain", json.dumps(USAGE_OK), UNSUPPORTED, content_type="text/plain"),
    usage("xml", "<usage/>", UNSUPPORTED, content_type="application/xml"),
    usage("octet-stream-bytes", None, UNSUPPORTED, content_type="application/octet-stream", raw_bytes=b"\x00\xff"),
    usage("no-content-type-bad-quantity", json.dumps(with_usage(quantity="10")), INVALID, content_type=""),
    # Only JSON is accepted (docs/api.md): form and multipart bodies are 415, boundary or not.
    authorization("form-data", FORM_BODY, UNSUPPORTED, content_type="application/x-www-form-urlencoded"),
    postpaid("multipart", MULTIPART_BODY, UNSUPPORTED, content_type=f"multipart/form-data; boundary={BOUNDARY}"),
    claims("multipart-no-boundary", json.dumps(CLAIMS_OK), UNSUPPORTED, content_type="multipart/form-data"),
    usage("multipart-no-boundary", json.dumps(USAGE_OK), UNSUPPORTED, content_type="multipart/form-data"),
    # JSON is application/json or a structured +json suffix; near misses are not JSON.
    usage("text-json", json.dumps(USAGE_OK), UNSUPPORTED, content_type="text/json"),
    usage("json-seq", json.dumps(USAGE_OK), UNSUPPORTED, content_type="application/json-seq"),
    usage("suffix-without-type", json.dumps(USAGE_OK), UNSUPPORTED, content_type="+json"),
    authorization("problem-xml", json.dumps(AUTHZ_OK), UNSUPPORTED, content_type="application/problem+xml"),
    # --- nesting deeper than 32 levels (a RecursionError when 10,000 deep): 422 ---
    usage("nested-10000-deep", '{"a": ' + nested(10_000) + "}"),
    usage("quantity-nested-10000-deep", usage_text(nested(10_000))),
    claims("model-nested-5000-deep", '{"models": ' + nested(5_000, json.dumps(LANG_90)) + "}"),
    authorization("objects-nested-1000-deep", '{"a": ' + '{"b": ' * 1_000 + "1" + "}" * 1_000 + "}"),
    postpaid("unknown-field-nested-32-deep", '{"enabled": true, "note": ' + nested(32) + "}"),
    # --- integers past any number of the contract, too long to convert: 422 naming the field ---
    usage("quantity-5000-digits", usage_text(HUGE)),
    usage("quantity-minus-5000-digits", usage_text("-" + HUGE)),
    usage("quantity-1e400", usage_text("1e400")),
    claims("model-5000-digits", '{"models": [' + HUGE + "]}"),
    postpaid("unknown-field-5000-digits", '{"enabled": true, "n": ' + HUGE + "}"),
    # --- PUT /v1/account/postpaid: a strict boolean, nothing else ---
    postpaid("string-true", {"enabled": "true"}),
    postpaid("int-one", {"enabled": 1}),
    postpaid("int-zero", {"enabled": 0}),
    postpaid("null", {"enabled": None}),
    postpaid("missing", {}),
    postpaid("list", {"enabled": [True]}),
    postpaid("unknown-account-id", {"enabled": True, "account_id": "acct-2"}),
    postpaid("misspelt", {"enable": True}),
    postpaid("huge-unknown-field", {"enabled": True, "note": BIG}),
    # --- POST /v1/trials/claims: 1..50 distinct ids ---
    claims("models-string", {"models": LANG_90}),
    claims("models-object", {"models": {LANG_90: True}}),
    claims("models-null", {"models": None}),
    claims("models-empty", {"models": []}),
    claims("models-missing", {}),
    claims("51-models", {"models": [f"model-{index}" for index in range(51)]}),
    claims("duplicate-models", {"models": [LANG_90, LANG_90_B, LANG_90]}),
    claims("model-int", {"models": [1]}),
    claims("model-null", {"models": [None]}),
    claims("model-empty-string", {"models": [""]}),
    claims("model-129-chars", {"models": ["m" * 129]}),
    claims("model-hash", {"models": ["hunyuan#turbo"]}),
    claims("model-space", {"models": ["hunyuan turbo"]}),
    claims("model-leading-dot", {"models": [".hunyuan"]}),
    claims("model-unicode", {"models": ["混元-turbo"]}),
    claims("model-nul", {"models": ["hunyuan\u0000turbo"]}),
    claims("model-newline", {"models": ["hunyuan-turbo\n"]}),
    claims("model-300kb", {"models": [BIG]}),
    claims("unknown-account-id", CLAIMS_OK | {"account_id": "acct-2"}),
    # --- POST /v1/authorizations ---
    authorization("missing-account", without(AUTHZ_OK, "account_id")),
    authorization("missing-model", without(AUTHZ_OK, "model_id")),
    authorization("account-null", with_authz(account_id=None)),
    authorization("account-int", with_authz(account_id=100012345678)),
    authorization("account-empty", with_authz(account_id="")),
    authorization("account-hash", with_authz(account_id="acct#1")),
    authorization("account-129-chars", with_authz(account_id="a" * 129)),
    authorization("account-tab", with_authz(account_id="acct\t1")),
    authorization("account-unicode", with_authz(account_id="账户-1")),
    authorization("model-list", with_authz(model_id=[LANG_90])),
    authorization("sub-account-empty", with_authz(sub_account_id="")),
    authorization("sub-account-space", with_authz(sub_account_id="key 7")),
    authorization("sub-account-int", with_authz(sub_account_id=7)),
    authorization("unknown-field", with_authz(quantity=10)),
    authorization("account-300kb", with_authz(account_id=BIG)),
    # --- POST /v1/usage: quantity is an integer 1..1,000,000,000, ids as above ---
    usage("quantity-numeric-string", with_usage(quantity="10")),
    usage("quantity-float-integral", with_usage(quantity=10.0)),
    usage("quantity-float", with_usage(quantity=10.5)),
    usage("quantity-exponent", json.dumps(USAGE_OK).replace('"quantity": 10', '"quantity": 1e3')),
    usage("quantity-zero", with_usage(quantity=0)),
    usage("quantity-negative", with_usage(quantity=-1)),
    usage("quantity-over-max", with_usage(quantity=1_000_000_001)),
    usage("quantity-10e30", with_usage(quantity=10**30)),
    usage("quantity-true", with_usage(quantity=True)),
    usage("quantity-false", with_usage(quantity=False)),
    usage("quantity-null", with_usage(quantity=None)),
    usage("quantity-object", with_usage(quantity={"value": 10})),
    usage("quantity-missing", without(USAGE_OK, "quantity")),
    usage("request-id-missing", without(USAGE_OK, "request_id")),
    usage("account-missing", without(USAGE_OK, "account_id")),
    usage("request-id-empty", with_usage(request_id="")),
    usage("request-id-129-chars", with_usage(request_id="r" * 129)),
    usage("request-id-hash", with_usage(request_id="r#1")),
    usage("request-id-leading-space", with_usage(request_id=" r1")),
    usage("request-id-unicode", with_usage(request_id="r\u00e9q-1")),
    usage("request-id-nul", with_usage(request_id="r\u00001")),
    usage("request-id-int", with_usage(request_id=1)),
    usage("model-hash", with_usage(model_id="hunyuan#turbo")),
    usage("account-space", with_usage(account_id="acct 1")),
    usage("unknown-field-misspelt", {**without(USAGE_OK, "quantity"), "quantiy": 10}),
    usage("unknown-field-extra", with_usage(charge="0")),
    usage("request-id-300kb", with_usage(request_id=BIG)),
    usage("huge-unknown-field", with_usage(note=BIG)),
    # --- POST /v1/holds: estimate as quantity, ttl_seconds 30..3600, ids as above ---
    holding("estimate-missing", without(HOLD_OK, "estimate")),
    holding("estimate-zero", with_hold(estimate=0)),
    holding("estimate-negative", with_hold(estimate=-5)),
    holding("estimate-over-max", with_hold(estimate=1_000_000_001)),
    holding("estimate-string", with_hold(estimate="100")),
    holding("estimate-float", with_hold(estimate=100.0)),
    holding("estimate-true", with_hold(estimate=True)),
    holding("estimate-null", with_hold(estimate=None)),
    holding("estimate-huge-digits", json.dumps(HOLD_OK).replace('"estimate": 100', f'"estimate": {HUGE}')),
    holding("ttl-29", with_hold(ttl_seconds=29)),
    holding("ttl-3601", with_hold(ttl_seconds=3601)),
    holding("ttl-string", with_hold(ttl_seconds="600")),
    holding("ttl-float", with_hold(ttl_seconds=600.5)),
    holding("ttl-zero", with_hold(ttl_seconds=0)),
    holding("request-id-missing", without(HOLD_OK, "request_id")),
    holding("request-id-hash", with_hold(request_id="h#1")),
    holding("request-id-129-chars", with_hold(request_id="h" * 129)),
    holding("request-id-300kb", with_hold(request_id=BIG)),
    holding("model-missing", without(HOLD_OK, "model_id")),
    holding("account-empty", with_hold(account_id="")),
    holding("sub-account-space", with_hold(sub_account_id="key 7")),
    holding("quantity-instead-of-estimate", {**without(HOLD_OK, "estimate"), "quantity": 100}),
    holding("unknown-field", with_hold(held=100)),
    holding("array-body", json.dumps([HOLD_OK])),
    holding("truncated", '{"account_id": ', MALFORMED),
    holding("form-body", FORM_BODY, UNSUPPORTED, content_type="application/x-www-form-urlencoded"),
    # --- POST /v1/usage/batch: the envelope (a bad record is a result: test_bad_records_...) ---
    batch("records-missing", {}),
    batch("records-empty", {"records": []}),
    batch("records-101", {"records": [with_usage(request_id=f"r{n}") for n in range(101)]}),
    batch("records-null", {"records": None}),
    batch("records-object", {"records": USAGE_OK}),
    # (a record that is not a usage body, a number or a 5,000-digit quantity included, is a result in
    # its place: test_bad_records_in_a_batch_are_refused_in_place_and_write_nothing)
    batch("unknown-field", {"records": [USAGE_OK], "atomic": True}),
    batch("array-body", json.dumps([{"records": [USAGE_OK]}])),
    batch("nested-33", '{"records": [' + nested(31) + "]}"),
    batch("record-nested-33", '{"records": [' + json.dumps(USAGE_OK)[:-1] + ', "note": ' + nested(31) + "}]}"),
    batch("truncated", '{"records": [', MALFORMED),
    batch("form-body", FORM_BODY, UNSUPPORTED, content_type="application/x-www-form-urlencoded"),
    # --- DELETE /v1/holds/{request_id}: the id rules apply to the path ---
    release("request-id-bang", "h!1"),
    release("request-id-129-chars", "h" * 129),
    release("request-id-leading-dot", ".h1"),
    release("request-id-unicode", "h\u00e9"),
    # API Gateway hands the path decoded: characters no id has must still reach the route (they
    # were a 404 "no such route": Powertools matched a path segment with \w and a few symbols).
    release("request-id-nul", "h\u00001"),
    release("request-id-control", "h\u00071"),
    release("request-id-snowman", "h\u2603"),
    release("request-id-emoji", "h\U0001f600"),
    release("request-id-copyright", "h\u00a9"),
    release("request-id-quote", 'h"1'),
    release("request-id-backslash", "h\\1"),
    release("request-id-replacement-char", "h\ufffd"),
    # --- GET /v1/usage query parameters ---
    listing("limit-zero", {"limit": "0"}),
    listing("limit-101", {"limit": "101"}),
    listing("limit-word", {"limit": "abc"}),
    listing("limit-float", {"limit": "1.5"}),
    listing("limit-negative", {"limit": "-1"}),
    listing("limit-empty", {"limit": ""}),
    listing("limit-repeated", {"limit": "10,20"}),
    listing("limit-huge", {"limit": str(10**30)}),
    listing("cursor-garbage", {"cursor": "!!!not-a-cursor!!!"}),
    listing("cursor-1025-chars", {"cursor": "A" * 1025}),
    listing("cursor-of-another-account", {"cursor": usage_cursor_of("acct-2")}),
    listing("cursor-truncated", {"cursor": usage_cursor_of("acct-1")[:-6]}),
    listing("cursor-of-another-shard-count", {"cursor": usage_cursor_of("acct-1", shards=4)}),
    listing("cursor-not-base64-json", {"cursor": "garbage"}),
    listing("cursor-wrong-shape", {"cursor": cursor_of({"order": "x", "request_id": "y"})}),
    listing("cursor-mismatched-parts", {"cursor": cursor_of(["2026-03-01T08:00:00.000Z#r1", "r2"])}),
    listing("cursor-empty-parts", {"cursor": cursor_of(["", ""])}),
    listing("cursor-non-utf8", {"cursor": base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode()}),
    listing("model-hash", {"model_id": "hunyuan#turbo"}),
    listing("model-129-chars", {"model_id": "m" * 129}),
    listing("model-space", {"model_id": "hunyuan turbo"}),
    listing("model-empty", {"model_id": ""}),
    # --- a JWT sub that is not an id: it could not be recorded for attribution, 401 ---
    claims("sub-with-pipe", CLAIMS_OK, UNAUTHENTICATED, sub="auth0|5f0c2a"),
    claims("sub-with-space", CLAIMS_OK, UNAUTHENTICATED, sub="user 1"),
    claims("sub-empty", CLAIMS_OK, UNAUTHENTICATED, sub=""),
    claims("sub-129-chars", CLAIMS_OK, UNAUTHENTICATED, sub="u" * 129),
    claims("sub-trailing-newline", CLAIMS_OK, UNAUTHENTICATED, sub="user-1\n"),
    claims("sub-leading-dot", CLAIMS_OK, UNAUTHENTICATED, sub=".user-1"),
    claims("sub-number", CLAIMS_OK, UNAUTHENTICATED, sub=42),
    postpaid("sub-with-hash", POSTPAID_OK, UNAUTHENTICATED, sub="user#1"),
    # --- an account's alert thresholds (R20): 1..5 distinct integers 1..99 ---
    alerts("empty-list", {"balance_low_percent": []}),
    alerts("six", {"balance_low_percent": [10, 20, 30, 40, 50, 60]}),
    alerts("duplicates", {"balance_low_percent": [80, 80]}),
    alerts("zero", {"balance_low_percent": [0]}),
    alerts("hundred", {"balance_low_percent": [100]}),
    alerts("negative", {"balance_low_percent": [-5]}),
    alerts("float", {"balance_low_percent": [50.0]}),
    alerts("fraction", {"balance_low_percent": [50.5]}),
    alerts("numeric-string", {"balance_low_percent": ["50"]}),
    alerts("boolean", {"balance_low_percent": [True]}),
    alerts("null-item", {"balance_low_percent": [None]}),
    alerts("nested-list", {"balance_low_percent": [[50]]}),
    alerts("not-a-list", {"balance_low_percent": 50}),
    alerts("null", {"balance_low_percent": None}),
    alerts("missing-field", {}),
    alerts("unknown-field", ALERTS_OK | {"account_id": "other"}),
    alerts("misspelt-field", {"balance_low_percents": [50]}),
    alerts("huge-integer", '{"balance_low_percent": [' + HUGE + "]}"),
    alerts("repeated-field", repeated(ALERTS_OK, "balance_low_percent", [10]), MALFORMED),
    alerts("truncated", '{"balance_low_percent": [50', MALFORMED),
    alerts("json-array", "[" + json.dumps(ALERTS_OK) + "]"),
    alerts("no-body", None),
    alerts("form", "balance_low_percent=50", UNSUPPORTED, content_type="application/x-www-form-urlencoded"),
    alerts("sub-with-space", ALERTS_OK, UNAUTHENTICATED, sub="user 1"),
    # --- reversals (R17): a reason 1..500 characters, not only blanks ---
    reversal("missing-reason", without(REVERSAL_OK, "reason")),
    reversal("empty-reason", REVERSAL_OK | {"reason": ""}),
    reversal("blank-reason", REVERSAL_OK | {"reason": "   "}),
    reversal("long-reason", REVERSAL_OK | {"reason": "x" * 501}),
    reversal("number-reason", REVERSAL_OK | {"reason": 42}),
    reversal("missing-request-id", without(REVERSAL_OK, "request_id")),
    reversal("request-id-with-hash", REVERSAL_OK | {"request_id": "r#1"}),
    reversal("unknown-field", REVERSAL_OK | {"account_id": "acct-1"}),
    reversal("repeated-reason", repeated(REVERSAL_OK, "reason", "another"), MALFORMED),
    reversal("unknown-request-id", REVERSAL_OK | {"request_id": "never-metered"}, (404, "usage_not_found")),
    # --- operator actions (R18): actor 1..200, reason 1..500, a real instant with its offset ---
    extension("missing-actor", without(EXTENSION_OK, "actor")),
    extension("empty-actor", EXTENSION_OK | {"actor": ""}),
    extension("long-actor", EXTENSION_OK | {"actor": "x" * 201}),
    extension("empty-reason", EXTENSION_OK | {"reason": ""}),
    extension("long-reason", EXTENSION_OK | {"reason": "x" * 501}),
    extension("missing-expires-at", without(EXTENSION_OK, "expires_at")),
    extension("words-expires-at", EXTENSION_OK | {"expires_at": "tomorrow"}),
    extension("no-offset", EXTENSION_OK | {"expires_at": "2026-08-01T00:00:00"}),
    extension("no-such-day", EXTENSION_OK | {"expires_at": "2026-02-30T00:00:00Z"}),
    extension("number-expires-at", EXTENSION_OK | {"expires_at": 1785542400}),
    extension("action-id-with-space", EXTENSION_OK | {"action_id": "act 1"}),
    extension("unknown-field", EXTENSION_OK | {"quota": 5}),
    extension("unknown-model", EXTENSION_OK | {"model_id": "no-such-model"}, (404, "unknown_model")),
    extension("no-grant", EXTENSION_OK, (404, "grant_not_found")),
    voiding("missing-action-id", without(VOID_OK, "action_id")),
    voiding("blank-actor", VOID_OK | {"actor": "  "}),
    voiding("expires-at-given", EXTENSION_OK),
    voiding("no-grant", VOID_OK, (404, "grant_not_found")),
    # --- a grant's ledger (R19): limit 1..100, an opaque cursor ---
    grant_ledger("limit-zero", {"limit": "0"}),
    grant_ledger("limit-too-big", {"limit": "101"}),
    grant_ledger("cursor-not-issued", {"cursor": "not-a-cursor"}),
    grant_ledger("admin-missing-account", {"model_id": LANG_90}, "/v1/admin/grants/ledger"),
    grant_ledger("admin-bad-model", {"account_id": "acct-1", "model_id": "m#1"}, "/v1/admin/grants/ledger"),
]


def item_count(dynamodb: Any) -> int:
    count = 0
    kwargs: dict[str, Any] = {"TableName": TABLE_NAME, "Select": "COUNT", "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**kwargs)
        count += int(page["Count"])
        if "LastEvaluatedKey" not in page:
            return count
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def is_gateway(case: Case) -> bool:
    return (case.method, case.path) in GATEWAY_PATHS or case.path.startswith(RELEASE_PREFIX)


def send(case: Case) -> Reply:
    if case.content_type is None and case.raw_bytes is None:
        if (case.method, case.path) in OPERATOR_PATHS:
            return gateway(case.method, case.path, case.body, query=case.query, principal=OPERATOR_ROLE_ARN)
        if is_gateway(case):
            return gateway(case.method, case.path, case.body)
        return console(case.method, case.path, body=case.body, query=case.query, sub=case.sub)
    return send_raw(case)


def send_raw(case: Case) -> Reply:
    """What tests.support.api cannot say: another Content-Type or none, or a body that is not text."""
    import claim_handler
    import consume_handler
    from infra.local.events import GATEWAY_ROLE_ARN, LocalLambdaContext, http_event

    body = case.body if isinstance(case.body, str) or case.body is None else json.dumps(case.body)
    if case.raw_bytes is not None:
        body = base64.b64encode(case.raw_bytes).decode()
    content_type = "application/json" if case.content_type is None else case.content_type
    headers = {"Content-Type": content_type} if content_type else {}
    if is_gateway(case):
        event = http_event(case.method, case.path, body=body, headers=headers, iam_principal=GATEWAY_ROLE_ARN)
        handler, name = consume_handler.lambda_handler, "consume"
    else:
        claims = {"iss": "https://issuer.example", "aud": "console", "root_account_id": "acct-1", "sub": case.sub}
        event = http_event(case.method, case.path, body=body, headers=headers, jwt_claims=claims)
        handler, name = claim_handler.lambda_handler, "claim"
    if not content_type:
        event["headers"].pop("content-type", None)  # http_event defaults it
    event["isBase64Encoded"] = case.raw_bytes is not None
    raw = handler(event, LocalLambdaContext(name))
    text = raw.get("body") or ""
    got = {key.lower(): value for key, value in (raw.get("headers") or {}).items()}
    return Reply(raw["statusCode"], got, json.loads(text) if text else None)


class ContractDeviation(AssertionError):
    """The request was refused safely (4xx problem, nothing written) but not with the contract's status."""


def corpus_params() -> list[Any]:
    return [pytest.param(case, id=case.id) for case in CORPUS]


def test_the_corpus_is_large_enough() -> None:
    """docs quote this number: keep it at 60 or more, and every id readable and distinct."""
    ids = [case.id for case in CORPUS]
    assert len(set(ids)) == len(ids)
    assert len(CORPUS) >= 60
    routes = {(case.method, RELEASE_PREFIX + "{request_id}" if case.path.startswith(RELEASE_PREFIX) else case.path)
              for case in CORPUS}  # fmt: skip
    console_routes = {("PUT", "/v1/account/postpaid"), ("POST", "/v1/trials/claims"), ("PUT", "/v1/account/alerts"),
                      ("GET", "/v1/usage"), ("GET", f"/v1/trials/{LANG_90}/ledger")}  # fmt: skip
    assert routes == GATEWAY_PATHS | OPERATOR_PATHS | console_routes | {("DELETE", "/v1/holds/{request_id}")}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/v1/account/postpaid", POSTPAID_OK),
        ("PUT", "/v1/account/alerts", ALERTS_OK),
        ("POST", "/v1/trials/claims", CLAIMS_OK),
        ("POST", "/v1/authorizations", AUTHZ_OK),
        ("POST", "/v1/usage", USAGE_OK),
        ("POST", "/v1/usage/batch", {"records": [USAGE_OK]}),
        ("POST", "/v1/holds", HOLD_OK),
    ],
    ids=["postpaid", "alerts", "claims", "authz", "usage", "batch", "hold"],
)
def test_the_unbroken_bodies_are_accepted_and_write(
    method: str, path: str, body: dict[str, Any], dynamodb: Any, handlers: Ledger
) -> None:
    """The control: the corpus breaks these bodies, and each of these, unbroken, changes the ledger."""
    console("POST", "/v1/account/activation")
    before = item_count(dynamodb)
    reply = send(Case("control", method, path, (200, ""), body))
    assert reply.status == 200, reply.body
    if path == "/v1/account/postpaid":  # updates the account item in place
        assert handlers.account("acct-1").postpaid_enabled is True
    elif path == "/v1/account/alerts":  # so does this one
        assert handlers.account("acct-1").alerts == Alerts((50, 90), AlertsSource.ACCOUNT)
    else:
        assert item_count(dynamodb) > before


@pytest.mark.parametrize("case", corpus_params())
def test_bad_input_is_refused_and_writes_nothing(case: Case, dynamodb: Any, handlers: Ledger) -> None:
    console("POST", "/v1/account/activation")
    before = item_count(dynamodb)
    reply = send(case)
    assert 400 <= reply.status < 500, (reply.status, reply.body)
    assert reply.headers["content-type"] == PROBLEM_JSON
    assert isinstance(reply.body, dict)
    assert {"type", "title", "status", "detail", "code"} <= reply.body.keys()
    assert reply.body["status"] == reply.status
    assert reply.body["type"] == problem_type(reply.body["code"])
    text = json.dumps(reply.body, ensure_ascii=False)
    for leak in LEAKS:
        assert leak not in text, f"{leak!r} leaked into {text[:500]}"
    assert BIG not in text, "the problem echoes a 300 KB input back"
    assert item_count(dynamodb) == before
    assert handlers.account("acct-1").postpaid_enabled is False
    assert handlers.account("acct-1").alerts == Alerts((80, 95), AlertsSource.DEFAULT)
    assert handlers.grants("acct-1") == []
    if (reply.status, reply.code) != case.expected:
        raise ContractDeviation(f"expected {case.expected}, got {(reply.status, reply.code)}: {reply.body}")
    if reply.status == 422:
        assert reply.body["errors"], "a 422 names the offending fields"


def bad_usage_records() -> list[str]:
    """Every usage body of the corpus that is a 422 on its own and an object (as JSON text: some
    hold integers of 5,000 digits), then records that are not objects at all."""
    texts = [case.body if isinstance(case.body, str) else json.dumps(case.body) for case in CORPUS
             if case.path == "/v1/usage" and case.expected == INVALID and case.content_type is None
             and case.body is not None and (case.body.startswith("{") if isinstance(case.body, str)
                                            else isinstance(case.body, dict))]  # fmt: skip
    return [*texts, "5", '"r1"', "null", "true", "[" + json.dumps(USAGE_OK) + "]", "[]"]


def test_bad_records_in_a_batch_are_refused_in_place_and_write_nothing(dynamodb: Any, handlers: Ledger) -> None:
    """Every bad usage body of the corpus as a record of one batch, numbers past any range and
    records that are not objects included: each answered with its own validation_error (its
    request_id when that is an id), nothing written, nothing leaked. The deep-nesting cases are
    the exception: a body past the guard's depth refuses the whole batch (batch-record-nested-33)."""
    records = [text for text in bad_usage_records() if "[[[[" not in text]
    assert len(records) >= 35
    assert any(HUGE in text for text in records)
    assert any(str(10**30) in text for text in records)
    before = item_count(dynamodb)
    reply = send(batch("bad-records", '{"records": [' + ", ".join(records) + "]}", (200, "")))
    assert reply.status == 200, reply.body
    results = reply.body["results"]
    assert [(r["status"], r["code"]) for r in results] == [(422, "validation_error")] * len(records)
    parsed = [json.loads(text) if HUGE not in text else {"request_id": "r1"} for text in records]
    expected_ids = [r.get("request_id") if isinstance(r, dict) and r.get("request_id") == "r1" else None
                    for r in parsed]  # fmt: skip
    assert [r["request_id"] for r in results] == expected_ids
    out_of_range = [r["detail"] for r, text in zip(results, records, strict=True) if HUGE in text]
    assert out_of_range
    assert all("out of range: 5000 digits" in detail for detail in out_of_range), out_of_range
    text = json.dumps(reply.body, ensure_ascii=False)
    assert not any(leak in text for leak in LEAKS)
    assert BIG not in text, "a refused record echoes a 300 KB input back"
    assert item_count(dynamodb) == before
