"""Operator routes (R18, R21) through the consume function: only the operators' principals; each
action once per action_id; the support view and a grant's ledger."""

from __future__ import annotations

from typing import Any

import pytest

from infra.local.events import GATEWAY_ROLE_ARN, OPERATOR_ROLE_ARN, STRANGER_ROLE_ARN
from tests.support import LANG_90, MILLION
from tests.support.api import console, gateway
from trial_ledger import Ledger

pytestmark = pytest.mark.usefixtures("handlers")


def operator(
    method: str, path: str, body: Any = None, principal: str = OPERATOR_ROLE_ARN, query: dict[str, str] | None = None
) -> Any:
    return gateway(method, path, body, principal=principal, query=query)


def void_body(action_id: str = "act-1", **extra: Any) -> dict[str, Any]:
    return {"action_id": action_id, "account_id": "acct-1", "model_id": LANG_90, "actor": "support:alice",
            "reason": "abuse, ticket 4711"} | extra  # fmt: skip


def test_an_extension_then_a_void_each_once() -> None:
    gateway("POST", "/v1/usage", {"account_id": "acct-1", "model_id": LANG_90, "quantity": 100, "request_id": "r1"})
    body = void_body("act-ext", expires_at="2026-08-01T00:00:00+08:00")
    extended = operator("POST", "/v1/admin/grants/extension", body)
    assert extended.status == 200, extended.body
    assert (extended.body["kind"], extended.body["expires_at"], extended.body["sequence"]) == (
        "extension", "2026-07-31T16:00:00.000Z", 3)  # fmt: skip
    assert operator("POST", "/v1/admin/grants/extension", body).body == extended.body | {"replayed": True}
    other = operator("POST", "/v1/admin/grants/extension", body | {"reason": "another"})
    assert (other.status, other.code) == (409, "request_id_conflict")
    voided = operator("POST", "/v1/admin/grants/void", void_body())
    assert (voided.status, voided.body["expired_quantity"], voided.body["sequence"]) == (200, MILLION - 100, 4)
    again = operator("POST", "/v1/admin/grants/void", void_body("act-2"))
    assert (again.status, again.code) == (409, "grant_not_voidable")
    late = operator("POST", "/v1/admin/grants/extension", body | {"action_id": "act-3"})
    assert (late.status, late.code) == (409, "grant_not_extendable")
    refused = gateway("POST", "/v1/authorizations", {"account_id": "acct-1", "model_id": LANG_90})
    assert (refused.status, refused.code) == (402, "free_quota_voided")
    [grant] = console("GET", "/v1/trials").body["grants"]
    assert (grant["status"], grant["remaining"], grant["expired"]) == ("voided", 0, MILLION - 100)
    page = operator("GET", "/v1/admin/grants/ledger", query={"account_id": "acct-1", "model_id": LANG_90})
    kinds = [(entry["kind"], entry["action_id"], entry["actor"]) for entry in page.body["entries"]]
    assert kinds == [("claim", None, None), ("usage", None, None), ("extension", "act-ext", "support:alice"),
                     ("void", "act-1", "support:alice")]  # fmt: skip
    assert page.body == console("GET", f"/v1/trials/{LANG_90}/ledger").body


def test_the_support_view() -> None:
    gateway("POST", "/v1/usage", {"account_id": "acct-1", "model_id": LANG_90, "quantity": 7, "request_id": "r1"})
    view = operator("GET", "/v1/admin/accounts/acct-1")
    assert view.status == 200, view.body
    assert view.body["account"]["account_id"] == "acct-1"
    assert [grant["model_id"] for grant in view.body["grants"]] == [LANG_90]
    assert [record["request_id"] for record in view.body["usage"]] == ["r1"]


def test_only_the_operators_principals(ledger: Ledger) -> None:
    for principal in (GATEWAY_ROLE_ARN, STRANGER_ROLE_ARN):
        for method, path, body in (("POST", "/v1/admin/grants/void", void_body()),
                                   ("GET", "/v1/admin/accounts/acct-1", None)):  # fmt: skip
            reply = operator(method, path, body, principal=principal)
            assert (reply.status, reply.code) == (403, "forbidden_principal"), (principal, path)
    reply = gateway("POST", "/v1/usage", {"account_id": "acct-1", "model_id": LANG_90, "quantity": 1,
                                          "request_id": "r1"}, principal=OPERATOR_ROLE_ARN)  # fmt: skip
    assert (reply.status, reply.code) == (403, "forbidden_principal")
    assert ledger.grants("acct-1") == []


def test_bad_operator_input_writes_nothing(ledger: Ledger) -> None:
    gateway("POST", "/v1/usage", {"account_id": "acct-1", "model_id": LANG_90, "quantity": 1, "request_id": "r1"})
    bad = [void_body(actor=""), void_body(actor="x" * 201), void_body(reason=""), void_body(reason="x" * 501),
           void_body(action_id="bad id"), {k: v for k, v in void_body().items() if k != "actor"}]  # fmt: skip
    for body in bad:
        reply = operator("POST", "/v1/admin/grants/void", body)
        assert (reply.status, reply.code) == (422, "validation_error"), body
    for expires_at in ("2026-01-01T00:00:00Z", "2028-01-01T00:00:00Z", "tomorrow", "2026-08-01T00:00:00"):
        reply = operator("POST", "/v1/admin/grants/extension", void_body(expires_at=expires_at))
        assert (reply.status, reply.code) == (422, "validation_error"), expires_at
    missing = operator("POST", "/v1/admin/grants/void", void_body(account_id="nobody"))
    assert (missing.status, missing.code) == (404, "grant_not_found")
    unknown = operator("POST", "/v1/admin/grants/void", void_body(model_id="nope"))
    assert (unknown.status, unknown.code) == (404, "unknown_model")
    assert ledger.grants("acct-1")[0].status.value == "active"
