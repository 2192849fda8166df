"""Console routes through the claim function, with JWT authorizer events."""

from datetime import timedelta

import pytest

from tests.support import CAMPAIGN_CLOSE, IMAGE, LANG_30, LANG_90, LANG_90_B, MILLION, NO_TRIAL
from tests.support.api import console
from trial_ledger import Ledger, SwitchableClock

pytestmark = pytest.mark.usefixtures("handlers")


def test_account_before_and_after_activation() -> None:
    reply = console("GET", "/v1/account")
    assert (reply.status, reply.body) == (
        200,
        {
            "account_id": "acct-1", "activated_at": None, "postpaid_enabled": False,
            "alerts": {"balance_low_percent": [80, 95], "source": "default"},
        },
    )  # fmt: skip
    activated = console("POST", "/v1/account/activation")
    assert activated.body["activated_at"] == "2026-03-01T08:00:00.000Z"
    assert console("POST", "/v1/account/activation").body == activated.body


def test_postpaid_needs_activation() -> None:
    reply = console("PUT", "/v1/account/postpaid", body={"enabled": True})
    assert (reply.status, reply.code) == (403, "account_not_activated")
    assert reply.headers["content-type"] == "application/problem+json"
    console("POST", "/v1/account/activation")
    reply = console("PUT", "/v1/account/postpaid", body={"enabled": True})
    assert (reply.status, reply.body["postpaid_enabled"]) == (200, True)


@pytest.mark.parametrize("body", [{"enabled": "true"}, {"enabled": 1}, {}, {"enabled": True, "extra": 1}])
def test_postpaid_body_is_strict(body: dict[str, object]) -> None:
    console("POST", "/v1/account/activation")
    reply = console("PUT", "/v1/account/postpaid", body=body)
    assert (reply.status, reply.code) == (422, "validation_error")
    assert reply.body["errors"]
    assert console("GET", "/v1/account").body["postpaid_enabled"] is False


def test_alert_thresholds_need_activation_and_answer_the_account() -> None:
    """R20: PUT /v1/account/alerts, 403 before activation (writing nothing), then the account."""
    reply = console("PUT", "/v1/account/alerts", body={"balance_low_percent": [50]})
    assert (reply.status, reply.code) == (403, "account_not_activated")
    assert console("GET", "/v1/account").body["alerts"] == {"balance_low_percent": [80, 95], "source": "default"}
    console("POST", "/v1/account/activation")
    reply = console("PUT", "/v1/account/alerts", body={"balance_low_percent": [90, 50, 75]})
    assert reply.status == 200
    assert reply.body["alerts"] == {"balance_low_percent": [50, 75, 90], "source": "account"}
    assert reply.body == console("GET", "/v1/account").body


@pytest.mark.parametrize(
    "body",
    [
        {"balance_low_percent": []},
        {"balance_low_percent": [10, 20, 30, 40, 50, 60]},
        {"balance_low_percent": [80, 80]},
        {"balance_low_percent": [0]},
        {"balance_low_percent": [100]},
        {"balance_low_percent": [50.0]},
        {"balance_low_percent": ["50"]},
        {"balance_low_percent": [True]},
        {"balance_low_percent": 50},
        {"balance_low_percent": None},
        {},
        {"balance_low_percent": [50], "account_id": "other"},
    ],
)
def test_alert_thresholds_body_is_strict_and_writes_nothing(body: dict[str, object]) -> None:
    console("POST", "/v1/account/activation")
    reply = console("PUT", "/v1/account/alerts", body=body)
    assert (reply.status, reply.code) == (422, "validation_error")
    assert reply.body["errors"]
    assert console("GET", "/v1/account").body["alerts"]["source"] == "default"


def test_alert_thresholds_reach_the_accounts_grants(handlers: Ledger) -> None:
    console("POST", "/v1/account/activation")
    console("POST", "/v1/trials/claims", body={"models": [LANG_90]})
    console("PUT", "/v1/account/alerts", body={"balance_low_percent": [60]})
    console("POST", "/v1/trials/claims", body={"models": [IMAGE]})
    _, grants = handlers._context.store.read_whole_account("acct-1")
    assert {grant.model_id: grant.alert_thresholds for grant in grants} == {LANG_90: (60,), IMAGE: (60,)}


def test_gallery_lists_catalog_with_claimability() -> None:
    console("POST", "/v1/account/activation")
    console("POST", "/v1/trials/claims", body={"models": [LANG_90]})
    models = {model["model_id"]: model for model in console("GET", "/v1/models").body["models"]}
    assert models[LANG_90]["claim"] == {"claimable": False, "reason": "already_claimed"}
    assert models[LANG_90_B]["claim"] == {"claimable": True, "reason": None}
    assert models[NO_TRIAL]["trial"] is None
    assert models[NO_TRIAL]["claim"]["reason"] == "not_eligible"
    assert models[IMAGE]["unit"] == "images"
    assert models[IMAGE]["price"] == {"currency": "CNY", "unit_price": "0.2"}
    assert models[LANG_30]["trial"] == {"quota": MILLION, "validity_days": 30}


def test_claims_before_activation_are_forbidden() -> None:
    reply = console("POST", "/v1/trials/claims", body={"models": [LANG_90]})
    assert (reply.status, reply.code) == (403, "account_not_activated")
    assert console("GET", "/v1/trials").body == {"grants": []}


def test_claims_report_each_model_in_order() -> None:
    console("POST", "/v1/account/activation")
    reply = console("POST", "/v1/trials/claims", body={"models": [LANG_90, "nope", NO_TRIAL, LANG_90]})
    assert (reply.status, reply.code) == (422, "validation_error")  # duplicates
    reply = console("POST", "/v1/trials/claims", body={"models": [LANG_90, "nope", NO_TRIAL]})
    assert reply.status == 200
    results = reply.body["results"]
    assert [(r["model_id"], r["outcome"]) for r in results] == [
        (LANG_90, "claimed"),
        ("nope", "unknown_model"),
        (NO_TRIAL, "not_eligible"),
    ]
    assert results[0]["grant"] == {
        "model_id": LANG_90,
        "unit": "tokens",
        "quota": MILLION,
        "used": 0,
        "remaining": MILLION,
        "expired": 0,
        "held": 0,
        "status": "active",
        "claim_method": "manual",
        "claimed_at": "2026-03-01T08:00:00.000Z",
        "expires_at": "2026-05-30T08:00:00.000Z",
    }
    again = console("POST", "/v1/trials/claims", body={"models": [LANG_90]}).body["results"][0]
    assert (again["outcome"], again["grant"]) == ("already_claimed", results[0]["grant"])


@pytest.mark.parametrize(
    "body",
    [{"models": []}, {"models": [f"m{i}" for i in range(51)]}, {"models": "hunyuan-turbo"}, {"models": [1]},
     {"models": ["bad#id"]}, {}, [], {"models": [LANG_90], "account_id": "someone-else"}],
)  # fmt: skip
def test_claim_body_is_validated(body: object) -> None:
    console("POST", "/v1/account/activation")
    reply = console("POST", "/v1/trials/claims", body=body)
    assert (reply.status, reply.code) == (422, "validation_error")
    assert console("GET", "/v1/trials").body == {"grants": []}


def test_campaign_ended_outcome(clock: SwitchableClock) -> None:
    console("POST", "/v1/account/activation")
    clock.freeze(CAMPAIGN_CLOSE)
    reply = console("POST", "/v1/trials/claims", body={"models": [LANG_90]})
    assert reply.body["results"] == [{"model_id": LANG_90, "outcome": "campaign_ended", "grant": None}]


def test_grants_show_effective_state(clock: SwitchableClock) -> None:
    console("POST", "/v1/account/activation")
    console("POST", "/v1/trials/claims", body={"models": [LANG_30, LANG_90]})
    clock.advance(timedelta(days=30))
    grants = console("GET", "/v1/trials").body["grants"]
    assert [(g["model_id"], g["status"], g["remaining"], g["expired"]) for g in grants] == [
        (LANG_30, "expired", 0, MILLION),
        (LANG_90, "active", MILLION, 0),
    ]


def test_the_body_never_chooses_the_account() -> None:
    console("POST", "/v1/account/activation", account="victim")
    reply = console("PUT", "/v1/account/postpaid", account="attacker", body={"enabled": True, "account_id": "victim"})
    assert reply.status == 422
    console("POST", "/v1/account/activation", account="attacker")
    console("PUT", "/v1/account/postpaid", account="attacker", body={"enabled": True})
    assert console("GET", "/v1/account", account="victim").body["postpaid_enabled"] is False


@pytest.mark.parametrize("path", ["/v1/account", "/v1/trials", "/v1/models", "/v1/usage"])
def test_no_account_claim_is_unauthenticated(path: str) -> None:
    reply = console("GET", path, account=None)
    assert (reply.status, reply.code) == (401, "unauthenticated")


def test_alert_thresholds_without_identity_are_unauthenticated() -> None:
    reply = console("PUT", "/v1/account/alerts", account=None, body={"balance_low_percent": [50]})
    assert (reply.status, reply.code) == (401, "unauthenticated")


def test_usage_listing_pages_newest_first(handlers: Ledger, clock: SwitchableClock) -> None:
    for index in range(5):
        handlers.record_usage("acct-1", LANG_90 if index % 2 else IMAGE, 1, f"r{index}", sub_account_id="k")
        clock.advance(timedelta(seconds=1))
    first = console("GET", "/v1/usage", query={"limit": "2"})
    assert first.status == 200
    assert [item["request_id"] for item in first.body["items"]] == ["r4", "r3"]
    assert first.body["items"][0]["charge"] == {"currency": "CNY", "amount": "0"}
    assert first.body["items"][0]["sub_account_id"] == "k"
    second = console("GET", "/v1/usage", query={"limit": "2", "cursor": first.body["next_cursor"]})
    assert [item["request_id"] for item in second.body["items"]] == ["r2", "r1"]
    only_images = console("GET", "/v1/usage", query={"model_id": IMAGE})
    assert [item["request_id"] for item in only_images.body["items"]] == ["r4", "r2", "r0"]
    assert only_images.body["next_cursor"] is None


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"limit": "1.5"},
                                   {"cursor": "A" * 1025}, {"model_id": "bad#model"}])  # fmt: skip
def test_usage_listing_query_is_validated(query: dict[str, str]) -> None:
    reply = console("GET", "/v1/usage", query=query)
    assert (reply.status, reply.code) == (422, "validation_error")


def test_a_cursor_the_listing_did_not_issue_is_400_invalid_cursor(handlers: Ledger, clock: SwitchableClock) -> None:
    for index in range(3):
        handlers.record_usage("acct-1", LANG_90, 1, f"r{index}")
        clock.advance(timedelta(seconds=1))
    issued = console("GET", "/v1/usage", query={"limit": "1"}).body["next_cursor"]
    for query in ({"cursor": "garbage"}, {"cursor": issued[:-3]}, {"cursor": issued, "model_id": IMAGE}):
        reply = console("GET", "/v1/usage", query=query)
        assert (reply.status, reply.code) == (400, "invalid_cursor"), query
    other = console("GET", "/v1/usage", query={"cursor": issued}, account="someone-else")
    assert (other.status, other.code) == (400, "invalid_cursor")


def test_unknown_route_is_a_problem() -> None:
    reply = console("GET", "/v1/nothing-here")
    assert (reply.status, reply.code) == (404, "not_found")


def test_malformed_json() -> None:
    console("POST", "/v1/account/activation")
    reply = console("POST", "/v1/trials/claims", body='{"models": [')
    assert (reply.status, reply.code) == (400, "malformed_json")


@pytest.mark.parametrize("sub", ["auth0|5f0c2a", "user 1", "", "u" * 129, "user-1\n", "-user", 42])
def test_a_sub_that_is_not_an_id_is_unauthenticated(sub: object) -> None:
    """sub is recorded for attribution (claimed_by); a value the ledger cannot record is refused,
    as a body's invalid sub_account_id is, rather than silently dropped."""
    console("POST", "/v1/account/activation")
    reply = console("POST", "/v1/trials/claims", sub=sub, body={"models": [LANG_90]})
    assert (reply.status, reply.code) == (401, "unauthenticated")
    assert "sub" in reply.body["detail"]
    assert console("GET", "/v1/trials").body == {"grants": []}


def test_a_token_without_sub_is_still_served() -> None:
    console("POST", "/v1/account/activation")
    reply = console("POST", "/v1/trials/claims", sub=None, body={"models": [LANG_90]})
    assert reply.body["results"][0]["outcome"] == "claimed"
