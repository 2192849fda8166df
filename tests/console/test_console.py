"""The local console (`make run` at ``/``) in a real Chromium, driven as a person would: Debian's
chromium, launched by Playwright (``make browser`` installs it; Playwright's own download cannot
reach its host from these machines).

One local stack serves the whole module; each test is its own root account, and starts from the
test clock frozen at 2026-12-01T08:00Z. The screenshots in docs/ are taken here, of fixed accounts
at fixed instants."""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Locator, Page, Request, Route, expect, sync_playwright

from tests.support.local_stack import ROOT, Answer, LocalStack, running_stack
from tests.support.screenshots import NOISE_PIXELS, differing_pixels, save_screenshot

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
START = "2026-12-01T08:00:00Z"
GALLERY_PNG, CLAIM_DIALOG_PNG, QUOTA_PNG, LEDGER_PNG, REVERSAL_PNG, OPERATOR_PNG = (
    ROOT / "docs" / f"console-{name}.png"
    for name in ("gallery", "claim-dialog", "quota", "ledger", "reversal", "operator")
)
EVENT_PATIENCE_SECONDS = 60
"""How long to wait for an event to reach the local bus: generous for a loaded machine; never asserted."""
# A ceiling for Playwright's auto-waiting on a machine shared with other test runs, not a pace.
expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with running_stack() as stack:
        yield stack


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, stack: LocalStack) -> Iterator[Page]:
    assert stack.call("PUT", "/_local/clock", {"now": START}).status == 200
    context = browser.new_context(
        base_url=stack.url, locale="en-US", timezone_id="UTC", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    script_errors: list[Exception] = []

    def record(error: Exception) -> None:  # Playwright tags its handlers: a builtin method cannot be one
        script_errors.append(error)

    page.on("pageerror", record)
    yield page
    context.close()
    assert script_errors == []


def open_console(page: Page, account: str) -> None:
    """The console of ``account``, once its reload has rendered: the account bar shows the account
    before its grants are read, and a click on the page loaded before (another account's grants)
    would be lost to the render that replaces them."""
    page.goto("/")
    page.get_by_label("Root account").fill(account)
    page.get_by_label("Root account").press("Enter")
    expect(page.locator("#account-status")).to_contain_text(f"Root account {account}")
    settled(page)


def settled(page: Page) -> Page:
    """The page once its last reload has rendered (a screenshot must not catch one half done)."""
    expect(page.locator("body")).not_to_have_attribute("aria-busy", "true")
    return page


def grant(page: Page, model_name: str) -> Locator:
    return page.locator("#grants").get_by_role("listitem").filter(has=page.get_by_role("heading", name=model_name))


def card(page: Page, model_name: str) -> Locator:
    return page.locator("#model-cards").get_by_role("listitem").filter(has=page.get_by_role("heading", name=model_name))


def invoke(page: Page, model_name: str, quantity: int) -> None:
    page.get_by_label("Model", exact=True).select_option(label=model_name)
    page.get_by_label("Quantity").fill(str(quantity))
    page.get_by_role("button", name="Send invocation").click()


def activate_and_claim(stack: LocalStack, account: str, *models: str) -> None:
    assert stack.console("POST", "/v1/account/activation", account).status == 200
    claimed = stack.console("POST", "/v1/trials/claims", account, {"models": list(models)})
    assert [result["outcome"] for result in claimed.body["results"]] == ["claimed"] * len(models)


def use(stack: LocalStack, account: str, model: str, quantity: int, request_id: str) -> None:
    body = {"account_id": account, "model_id": model, "quantity": quantity, "request_id": request_id}
    assert stack.gateway("/v1/usage", body).status == 200


class _AssetLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.paths += [value for name, value in attrs if name in ("src", "href") and value]


def fetch(stack: LocalStack, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(stack.url + path, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def test_the_console_is_served_with_its_types_and_a_strict_policy_and_nothing_else(stack: LocalStack) -> None:
    status, headers, body = fetch(stack, "GET", "/")
    assert (status, headers["content-type"]) == (200, "text/html; charset=utf-8")
    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert headers["x-content-type-options"] == "nosniff"
    links = _AssetLinks()
    links.feed(body.decode())
    modules = [path.name for path in (ROOT / "infra" / "local" / "console").glob("*.js")]
    expected_types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    for path in links.paths + [f"/console/{name}" for name in modules]:
        status, headers, _ = fetch(stack, "GET", path)
        assert (status, headers["content-type"].split(";")[0]) == (200, expected_types[Path(path).suffix]), path
        assert headers["content-security-policy"] == policy
    for method, path in [("GET", "/console/missing.js"), ("GET", "/console/../console.py"), ("POST", "/"),
                         ("GET", "/index.html"), ("HEAD", "/")]:  # fmt: skip
        status, headers, _ = fetch(stack, method, path)
        assert (status, headers["content-type"]) == (404, "application/problem+json"), (method, path)


def test_claiming_two_models_through_the_dialog_shows_their_bars(page: Page, browser: Browser) -> None:
    open_console(page, "100001")
    page.get_by_role("button", name="Activate TokenHub").click()
    expect(page.locator("#account-status")).to_contain_text("TokenHub activated on Dec 1, 2026, 8:00 AM UTC")
    expect(card(page, "Hunyuan Turbo").locator("dt")).to_have_text(["Free quota", "Validity", "Price", "Unit"])
    expect(card(page, "Hunyuan Turbo").locator("dd")).to_have_text(
        ["1,000,000 tokens", "90 days", "CNY 0.0000024 per token", "tokens"]
    )
    expect(card(page, "Hunyuan Turbo")).to_contain_text("Free trial ready to claim")
    expect(card(page, "DeepSeek R1 Pro")).to_contain_text("No free trial for this model")
    save_screenshot(browser, settled(page).locator("#gallery").screenshot(animations="disabled"), GALLERY_PNG)

    page.get_by_role("button", name="New User Free Trial").click()
    dialog = page.get_by_role("dialog", name="New User Free Trial")
    expect(dialog.get_by_role("checkbox")).to_have_count(4)
    expect(dialog.get_by_role("checkbox", name="DeepSeek R1 Pro")).to_have_count(0)
    dialog.get_by_role("checkbox", name="Hunyuan Turbo").check()
    dialog.get_by_role("checkbox", name="Hunyuan Image").check()
    save_screenshot(browser, settled(page).screenshot(animations="disabled"), CLAIM_DIALOG_PNG)
    dialog.get_by_role("button", name="Claim Now").click()

    outcomes = dialog.get_by_role("listitem")
    expect(outcomes).to_have_text(
        [re.compile(r"Hunyuan Image\s*Claimed: 50 images until Mar 1, 2027"),
         re.compile(r"Hunyuan Turbo\s*Claimed: 1,000,000 tokens until Mar 1, 2027")]
    )  # fmt: skip
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()

    expect(grant(page, "Hunyuan Turbo").get_by_role("img")).to_have_accessible_name(
        "used 0, held 0, available 1,000,000, expired 0 of 1,000,000 tokens"
    )
    expect(grant(page, "Hunyuan Image").get_by_role("img")).to_have_accessible_name(
        "used 0, held 0, available 50, expired 0 of 50 images"
    )
    expect(grant(page, "Hunyuan Image")).to_contain_text("Expires in 90 days, on Mar 1, 2027, 8:00 AM UTC")
    expect(grant(page, "Hunyuan Image").locator(".badge")).to_have_text(["active"])
    expect(card(page, "Hunyuan Turbo")).to_contain_text("Already claimed")

    page.reload()  # the account is remembered
    expect(page.get_by_label("Root account")).to_have_value("100001")
    expect(page.locator("#grants").get_by_role("listitem")).to_have_count(2)


def test_the_claim_dialog_keeps_focus_inside_and_closes_on_escape(page: Page, stack: LocalStack) -> None:
    assert stack.console("POST", "/v1/account/activation", "console-dialog").status == 200
    open_console(page, "console-dialog")
    opener = page.get_by_role("button", name="New User Free Trial")
    expect(card(page, "DeepSeek V3")).to_contain_text("Free trial ready to claim")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="New User Free Trial")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("checkbox", name="DeepSeek V3")).to_be_focused()
    page.keyboard.press("Space")
    expect(dialog.get_by_role("checkbox", name="DeepSeek V3")).to_be_checked()

    focus_in_dialog = "document.activeElement.closest('dialog') !== null"
    for key in ["Tab"] * 8 + ["Shift+Tab"] * 8:
        page.keyboard.press(key)
        assert page.evaluate(focus_in_dialog), key

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    assert stack.console("GET", "/v1/trials", "console-dialog").body == {"grants": []}


def test_invocations_until_the_image_trial_is_exhausted_mark_it_exhausted(page: Page) -> None:
    open_console(page, "console-exhaust")
    steps = page.locator("#invoke-steps")
    invoke(page, "Hunyuan Image", 20)  # the first use claims the trial itself: no activation needed
    expect(steps).to_contain_text("the free trial was claimed automatically")
    expect(steps).to_contain_text("30 images free left")
    invoke(page, "Hunyuan Image", 20)
    expect(steps).to_contain_text("10 images free left")
    expect(grant(page, "Hunyuan Image").locator(".badge")).to_have_text(["active", "low balance"])

    invoke(page, "Hunyuan Image", 20)
    expect(steps).to_contain_text("Recorded 20 images: 10 free, 0 billable (CNY 0), 10 unbilled overage")
    image = grant(page, "Hunyuan Image")
    expect(image.locator(".badge")).to_have_text(["exhausted"])
    expect(image).to_contain_text("Used 50 · Held 0 · Remaining 0 of 50 images")

    invoke(page, "Hunyuan Image", 1)
    expect(page.locator("#invoke-problem")).to_have_text(
        "free quota exhausted for model 'hunyuan-image'; enable postpaid to continue"
    )


def test_turning_postpaid_on_bills_what_the_free_quota_does_not_cover(page: Page, stack: LocalStack) -> None:
    activate_and_claim(stack, "console-postpaid", "hunyuan-image")
    use(stack, "console-postpaid", "hunyuan-image", 50, "all-of-it")
    open_console(page, "console-postpaid")
    switch = page.get_by_role("switch", name="Postpaid")
    expect(switch).not_to_be_checked()
    expect(page.locator("#postpaid")).to_contain_text("billed at the model's unit price instead of being refused")

    switch.focus()
    page.keyboard.press("Space")
    expect(switch).to_be_checked()
    expect(page.locator("#postpaid-state")).to_have_text("on")
    invoke(page, "Hunyuan Image", 4)
    expect(page.locator("#invoke-steps")).to_contain_text("Authorized from postpaid")
    expect(page.locator("#invoke-steps")).to_contain_text("Recorded 4 images: 0 free, 4 billable (CNY 0.8)")
    expect(page.locator("#usage-rows tr").first).to_contain_text("CNY 0.8")
    assert stack.console("GET", "/v1/account", "console-postpaid").body["postpaid_enabled"] is True


def test_the_account_sets_its_balance_alert_thresholds(page: Page, stack: LocalStack) -> None:
    """R20 in the console: the account section shows the thresholds that stand and sets its own."""
    assert stack.console("POST", "/v1/account/activation", "console-alerts").status == 200
    open_console(page, "console-alerts")
    current = page.locator("#alerts-current")
    expect(current).to_have_text("Now: 80%, 95% (the service's default).")
    field = page.get_by_label("Low-balance thresholds (%)")
    field.fill("95, 50")
    field.press("Enter")
    expect(current).to_have_text("Now: 50%, 95% (set for this account).")
    alerts = stack.console("GET", "/v1/account", "console-alerts").body["alerts"]
    assert alerts == {"balance_low_percent": [50, 95], "source": "account"}

    field.fill("50, 50")
    page.get_by_role("button", name="Save thresholds").click()
    expect(page.locator("#alerts-problem")).to_contain_text("distinct")
    expect(current).to_have_text("Now: 50%, 95% (set for this account).")


def test_jumping_past_validity_and_running_expiry_shows_the_grant_expired(page: Page, stack: LocalStack) -> None:
    activate_and_claim(stack, "console-expiry", "hunyuan-lite-30d")
    use(stack, "console-expiry", "hunyuan-lite-30d", 1000, "before-expiry")
    open_console(page, "console-expiry")
    lite = grant(page, "Hunyuan Lite (30-day trial)")
    expect(lite).to_contain_text("Expires in 30 days, on Dec 31, 2026, 8:00 AM UTC")

    page.get_by_label("Jump by days").fill("31")
    page.get_by_role("button", name="Jump").click()
    expect(page.locator("#clock-now")).to_have_text("Now: Jan 1, 2027, 8:00 AM UTC (frozen)")
    expect(lite.locator(".badge")).to_have_text(["expired"])
    expect(lite).to_contain_text("Expired on Dec 31, 2026, 8:00 AM UTC")
    expect(lite).to_contain_text("Used 1,000 · Held 0 · Remaining 0 · Expired 999,000 of 1,000,000 tokens")

    page.get_by_role("button", name="Run nightly expiry").click()
    expect(page.locator("#expiry-result")).to_have_text(
        re.compile(r"As of Jan 1, 2027, 8:00 AM UTC: \d+ grants? expired, [\d,]+ units in all; the run is complete\.")
    )
    view = stack.console("GET", "/v1/trials", "console-expiry").body["grants"][0]
    assert (view["status"], view["expired"]) == ("expired", 999_000)

    page.get_by_role("button", name="Back to real time").click()
    expect(page.locator("#clock-now")).to_contain_text("(real time)")
    page.get_by_label("Freeze at (ISO-8601)").fill(START)
    page.get_by_role("button", name="Freeze").click()
    expect(page.locator("#clock-now")).to_have_text("Now: Dec 1, 2026, 8:00 AM UTC (frozen)")


def test_api_errors_are_shown_as_their_detail(page: Page, stack: LocalStack) -> None:
    refused = stack.console("GET", "/v1/account", "not an id!")
    page.goto("/")
    page.get_by_label("Root account").fill("not an id!")
    page.get_by_role("button", name="Use account").click()
    expect(page.locator("#account-problem")).to_have_text(refused.body["detail"])
    expect(page.locator("#grants").get_by_role("listitem")).to_have_count(0)

    open_console(page, "console-errors")
    page.get_by_role("switch", name="Postpaid").click()
    forbidden = stack.console("PUT", "/v1/account/postpaid", "console-errors", {"enabled": True})
    assert (forbidden.status, forbidden.body["code"]) == (403, "account_not_activated")
    expect(page.locator("#postpaid-problem")).to_have_text(forbidden.body["detail"])
    expect(page.get_by_role("switch", name="Postpaid")).not_to_be_checked()

    page.get_by_role("button", name="Activate TokenHub").click()
    expect(page.locator("#account-status")).to_contain_text("TokenHub activated")
    expect(page.locator("#account-problem")).to_be_hidden()


def test_the_quota_page_marks_low_balance_and_expiring_soon(page: Page, stack: LocalStack, browser: Browser) -> None:
    activate_and_claim(stack, "100002", "deepseek-v3", "hunyuan-image", "hunyuan-lite-30d", "hunyuan-turbo")
    use(stack, "100002", "deepseek-v3", 1_000_000, "quota-1")
    use(stack, "100002", "hunyuan-image", 42, "quota-2")
    use(stack, "100002", "hunyuan-turbo", 1834, "quota-3")
    assert stack.call("PUT", "/_local/clock", {"now": "2026-12-25T08:00:00Z"}).status == 200
    open_console(page, "100002")

    expect(grant(page, "Hunyuan Lite (30-day trial)").locator(".badge")).to_have_text(["active", "expiring soon"])
    expect(grant(page, "Hunyuan Lite (30-day trial)")).to_contain_text("Expires in 6 days, on Dec 31, 2026")
    expect(grant(page, "Hunyuan Image").locator(".badge")).to_have_text(["active", "low balance"])
    expect(grant(page, "Hunyuan Turbo").locator(".badge")).to_have_text(["active"])
    expect(grant(page, "Hunyuan Turbo")).to_contain_text("Used 1,834 · Held 0 · Remaining 998,166 of 1,000,000 tokens")
    expect(grant(page, "DeepSeek V3").locator(".badge")).to_have_text(["exhausted"])
    save_screenshot(browser, settled(page).locator("#quota").screenshot(animations="disabled"), QUOTA_PNG)


def test_usage_history_pages_with_the_cursor(page: Page, stack: LocalStack) -> None:
    for number in range(1, 8):
        use(stack, "console-usage", "hunyuan-turbo", 1000 * number, f"page-req-{number}")
    open_console(page, "console-usage")
    page.get_by_label("Per page").select_option("5")
    request_ids = page.locator("#usage-rows td.request-id")
    expect(request_ids).to_have_text([f"page-req-{number}" for number in range(7, 2, -1)])
    expect(page.locator("#usage-rows tr").first).to_contain_text("7,000")
    older, newer = page.get_by_role("button", name="Older"), page.get_by_role("button", name="Newer")
    expect(newer).to_be_disabled()

    older.click()
    expect(request_ids).to_have_text(["page-req-2", "page-req-1"])
    expect(page.locator("#usage-page")).to_have_text("Page 2")
    expect(older).to_be_disabled()

    newer.click()
    expect(request_ids).to_have_text([f"page-req-{number}" for number in range(7, 2, -1)])


def test_a_hold_is_settled_by_its_usage_and_another_released(page: Page, stack: LocalStack) -> None:
    open_console(page, "console-holds")
    steps, turbo = page.locator("#invoke-steps"), grant(page, "Hunyuan Turbo")
    page.get_by_label("Mode", exact=True).select_option(label="Hold, then settle")
    page.get_by_label("Hold estimate").fill("4000")
    invoke(page, "Hunyuan Turbo", 3120)
    expect(steps).to_contain_text("Held 4,000 tokens from free quota for console-")
    expect(steps).to_contain_text("996,000 tokens free available to others, until Dec 1, 2026, 8:15 AM UTC")
    expect(steps).to_contain_text("Recorded 3,120 tokens: 3,120 free, 0 billable (CNY 0), 0 unbilled overage")
    expect(turbo).to_contain_text("Used 3,120 · Held 0 · Remaining 996,880 of 1,000,000 tokens")
    expect(page.locator("#usage-rows tr").first).to_contain_text("3,120")
    settled_id = page.get_by_label("Hold request id").input_value()
    assert stack.gateway("/v1/usage", {"account_id": "console-holds", "model_id": "hunyuan-turbo", "quantity": 3120,
                                       "request_id": settled_id}).body["replayed"] is True  # fmt: skip

    page.get_by_label("Mode", exact=True).select_option(label="Hold only (release it below)")
    page.get_by_label("Hold estimate").fill("5000")
    invoke(page, "Hunyuan Turbo", 1)
    expect(steps).to_contain_text("Held 5,000 tokens from free quota")
    expect(turbo.get_by_role("img")).to_have_accessible_name(
        "used 3,120, held 5,000, available 991,880, expired 0 of 1,000,000 tokens"
    )
    expect(page.get_by_label("Hold request id")).not_to_have_value(settled_id)
    page.get_by_role("button", name="Release").click()
    expect(steps).to_have_text([re.compile(r"^Hold console-[0-9a-f-]+: released\.$")])
    expect(turbo).to_contain_text("Used 3,120 · Held 0 · Remaining 996,880 of 1,000,000 tokens")

    page.get_by_label("Hold request id").fill(settled_id)
    page.get_by_label("Hold request id").press("Enter")
    expect(steps).to_have_text([f"Hold {settled_id}: settled."])


def test_a_hold_refused_shows_the_problem_detail(page: Page, stack: LocalStack) -> None:
    open_console(page, "console-held")
    page.get_by_label("Mode", exact=True).select_option(label="Hold only (release it below)")
    page.get_by_label("Hold estimate").fill("50")
    invoke(page, "Hunyuan Image", 1)
    expect(grant(page, "Hunyuan Image")).to_contain_text("Used 0 · Held 50 · Remaining 50 of 50 images")
    refused = stack.gateway("/v1/holds", {"account_id": "console-held", "model_id": "hunyuan-image",
                                          "request_id": "held-elsewhere", "estimate": 1})  # fmt: skip
    assert (refused.status, refused.body["code"]) == (402, "free_quota_held")
    invoke(page, "Hunyuan Image", 1)
    expect(page.locator("#invoke-problem")).to_have_text(refused.body["detail"])
    page.get_by_label("Hold request id").fill("never-held")
    page.get_by_role("button", name="Release").click()
    missing = stack.call("DELETE", "/v1/holds/never-held")
    assert (missing.status, missing.body["code"]) == (404, "hold_not_found")
    expect(page.locator("#invoke-problem")).to_have_text(missing.body["detail"])


def record_batch(page: Page, model_name: str, quantity: int, records: int) -> list[str]:
    """Sends a batch through the console; returns the request ids of its one POST /v1/usage/batch."""
    page.get_by_label("Mode", exact=True).select_option(label="Record a batch")
    page.get_by_label("Records").fill(str(records))
    sent: list[Request] = []

    def keep(request: Request) -> None:  # Playwright tags its handlers: a builtin method cannot be one
        sent.append(request)

    page.on("request", keep)
    with page.expect_response("**/v1/usage/batch"):
        invoke(page, model_name, quantity)
    posts = [post for post in sent if post.method == "POST"]
    assert [urlparse(post.url).path for post in posts] == ["/v1/usage/batch"]  # no authorization, no single usage
    body = posts[0].post_data_json
    assert body is not None
    return [record["request_id"] for record in body["records"]]


def test_a_batch_is_one_request_and_shows_in_the_quota_and_the_usage(page: Page, stack: LocalStack) -> None:
    activate_and_claim(stack, "console-batch", "hunyuan-turbo")
    open_console(page, "console-batch")
    expect(page.get_by_label("Records")).to_be_hidden()  # in the batch mode only
    request_ids = record_batch(page, "Hunyuan Turbo", 1000, 10)
    expect(page.get_by_label("Hold estimate")).to_be_hidden()
    expect(page.locator("#invoke-steps > li")).to_have_text(
        ["Recorded a batch of 10 records of 1,000 tokens: 10,000 free, 0 billable (CNY 0), 0 unbilled overage; "
         "990,000 tokens free left."]
    )  # fmt: skip
    prefix = request_ids[0].removesuffix("-1")
    assert re.fullmatch(r"console-[0-9a-f-]{36}", prefix)
    assert request_ids == [f"{prefix}-{number}" for number in range(1, 11)]
    expect(grant(page, "Hunyuan Turbo")).to_contain_text("Used 10,000 · Held 0 · Remaining 990,000 of 1,000,000 tokens")
    # One instant (the clock is frozen): the request id breaks the tie, newest first.
    expect(page.locator("#usage-rows td.request-id")).to_have_text(sorted(request_ids, reverse=True))
    expect(page.locator("#usage-rows tr").first).to_contain_text("1,000")


def test_a_batch_uses_the_free_quota_first_across_its_records(page: Page) -> None:
    open_console(page, "console-batch-image")
    record_batch(page, "Hunyuan Image", 10, 6)  # the first record claims the trial itself
    expect(page.locator("#invoke-steps > li")).to_have_text(
        ["Recorded a batch of 6 records of 10 images: 50 free, 0 billable (CNY 0), 10 unbilled overage; "
         "0 images free left; the free trial was claimed automatically."]
    )  # fmt: skip
    image = grant(page, "Hunyuan Image")
    expect(image.locator(".badge")).to_have_text(["exhausted"])
    expect(image).to_contain_text("Used 50 · Held 0 · Remaining 0 of 50 images")
    expect(page.locator("#usage-rows tr")).to_have_count(6)


def test_a_refused_record_of_a_batch_shows_its_detail_and_the_charges_add_up_exactly(
    page: Page, stack: LocalStack
) -> None:
    def unknown_second_model(route: Route) -> None:  # the console only offers the catalog's models
        body = route.request.post_data_json
        assert body is not None
        body["records"][1]["model_id"] = "no-such-model"
        route.continue_(post_data=json.dumps(body))

    unknown = {"account_id": "console-batch-refused", "model_id": "no-such-model", "quantity": 1, "request_id": "r"}
    refused = stack.gateway("/v1/usage", unknown)
    assert (refused.status, refused.body["code"]) == (404, "unknown_model")
    activate_and_claim(stack, "console-batch-refused", "hunyuan-image")
    assert stack.console("PUT", "/v1/account/postpaid", "console-batch-refused", {"enabled": True}).status == 200
    use(stack, "console-batch-refused", "hunyuan-image", 49, "all-but-one")
    open_console(page, "console-batch-refused")
    page.route("**/v1/usage/batch", unknown_second_model)
    request_ids = record_batch(page, "Hunyuan Image", 1, 5)
    expect(page.locator("#invoke-steps > li")).to_have_text(
        ["Recorded 4 of a batch of 5 records of 1 image: 1 free, 3 billable (CNY 0.6), 0 unbilled overage; "
         "0 images free left.",  # 3 times CNY 0.2 in floating point would be 0.6000000000000001
         f"Record {request_ids[1]}: {refused.body['detail']}"]
    )  # fmt: skip
    expect(grant(page, "Hunyuan Image")).to_contain_text("Used 50 · Held 0 · Remaining 0 of 50 images")


def await_events(stack: LocalStack, account: str, detail_type: str) -> None:
    """Events reach the local bus a moment after their change: wait for them here, then refresh."""
    deadline = time.monotonic() + EVENT_PATIENCE_SECONDS
    while time.monotonic() < deadline:
        events = stack.call("GET", f"/_local/events?detail_type={detail_type}").body["events"]
        if any(event["detail"]["account_id"] == account for event in events):
            return
        time.sleep(0.2)


def test_the_event_feed_shows_the_accounts_events_newest_first(page: Page, stack: LocalStack) -> None:
    assert stack.console("POST", "/v1/account/activation", "console-events").status == 200
    assert stack.console("PUT", "/v1/account/postpaid", "console-events", {"enabled": True}).status == 200
    open_console(page, "console-events")
    feed, status = page.locator("#events > li"), page.locator("#events-status")
    expect(status).to_have_text("0 events for account console-events.")
    invoke(page, "Hunyuan Image", 53)  # claims the trial itself, then 3 images beyond its 50 are billed
    expect(page.locator("#invoke-steps")).to_contain_text("Recorded 53 images: 50 free, 3 billable (CNY 0.6)")
    await_events(stack, "console-events", "UsageBillable")
    await_events(stack, "console-events", "TrialClaimed")
    page.get_by_role("button", name="Refresh").click()
    expect(feed.locator(".event-type")).to_contain_text(["UsageBillable", "TrialClaimed"])
    claimed = feed.filter(has_text="TrialClaimed")
    expect(claimed).to_contain_text("account console-events · hunyuan-image")
    expect(claimed).to_contain_text("claimed automatically, 50 images until Mar 1, 2027, 8:00 AM UTC")
    expect(claimed).to_contain_text("Dec 1, 2026, 8:00 AM UTC")
    billable = feed.filter(has_text="UsageBillable")
    expect(billable).to_contain_text(re.compile(r"request console-[0-9a-f-]+: 53 used, 3 billable, CNY 0\.6"))
    expect(feed.last.locator(".event-type")).to_have_text("TrialClaimed")  # the oldest, last

    page.get_by_label("Detail-type").select_option("UsageBillable")
    expect(feed).to_have_count(1)
    expect(status).to_have_text("1 UsageBillable event for account console-events, newest first:")
    page.get_by_label("Root account").fill("console-no-events")  # the filter stays; the account changes
    page.get_by_label("Root account").press("Enter")
    expect(status).to_have_text("0 UsageBillable events for account console-no-events.")


def shown(problem: dict[str, Any]) -> str:
    """A problem as the console shows it (api.js): its detail, then a 422's fields at fault."""
    fields = "; ".join(f"{error['field']}: {error['message']}" for error in problem.get("errors", []))
    return f"{problem['detail']} ({fields})" if fields else str(problem["detail"])


def operator(stack: LocalStack, route: str, body: dict[str, Any]) -> Answer:
    return stack.call("POST", f"/v1/admin/grants/{route}", body, headers={"X-Principal": "operator"})


def open_ledger(page: Page, model_name: str) -> Locator:
    """Opens a grant's ledger from My free quota; returns its rows."""
    grant(page, model_name).get_by_role("button", name="Ledger").click()
    expect(grant(page, model_name).get_by_role("button", name="Ledger")).to_have_attribute("aria-expanded", "true")
    return grant(page, model_name).locator(".ledger tbody tr")


def save_panel_screenshot(browser: Browser, page: Page, panel: Locator, path: Path) -> None:
    """A section of the developer panel, which scrolls on its own: scrolled to its top, with no
    control focused or hovered, so that the picture is the same from run to run."""
    page.evaluate("document.activeElement.blur()")
    page.mouse.move(0, 0)
    panel.evaluate("section => section.scrollIntoView({block: 'start'})")
    settled(page)
    save_screenshot(browser, panel.screenshot(animations="disabled"), path)


def send_operator_action(page: Page, action: str, reason: str, action_id: str | None = None) -> None:
    """Fills the operator form's action, reason and (if given) action id, and sends it."""
    page.get_by_label("Operator action", exact=True).select_option(label=action)
    page.get_by_label("Reason for the action").fill(reason)
    if action_id is not None:
        page.get_by_label("Action id").fill(action_id)
    page.get_by_role("button", name="Send operator action").click()


CLAIMED = "Dec 1, 2026, 8:00 AM UTC"


def test_a_grants_ledger_shows_its_entries_and_balances(page: Page, stack: LocalStack, browser: Browser) -> None:
    activate_and_claim(stack, "100003", "hunyuan-turbo")
    use(stack, "100003", "hunyuan-turbo", 1834, "req-5f0c2a")
    use(stack, "100003", "hunyuan-turbo", 5000, "req-5f0c2b")
    open_console(page, "100003")
    entries = open_ledger(page, "Hunyuan Turbo")
    expect(entries).to_have_count(3)
    expect(entries.nth(0).locator("td")).to_have_text(
        ["1", "claim", CLAIMED, "—", "0", "+1,000,000", "0", "0", "1,000,000", "0", "—", "—"]
    )
    expect(entries.nth(1).locator("td")).to_have_text(
        ["2", "usage", CLAIMED, "req-5f0c2a", "+1,834", "-1,834", "0", "1,834", "998,166", "0", "—", "—"]
    )
    expect(entries.nth(2).locator("td")).to_have_text(
        ["3", "usage", CLAIMED, "req-5f0c2b", "+5,000", "-5,000", "0", "6,834", "993,166", "0", "—", "—"]
    )
    expect(grant(page, "Hunyuan Turbo").locator(".ledger-status")).to_have_text("3 entries.")
    save_screenshot(browser, settled(page).locator("#quota").screenshot(animations="disabled"), LEDGER_PNG)

    invoke(page, "Hunyuan Turbo", 166)  # the open ledger is read again after a change
    expect(entries).to_have_count(4)
    expect(entries.nth(3)).to_contain_text("7,000")
    grant(page, "Hunyuan Turbo").get_by_role("button", name="Ledger").click()
    expect(grant(page, "Hunyuan Turbo").locator(".ledger")).to_be_hidden()


def test_a_long_ledger_pages_with_the_cursor(page: Page, stack: LocalStack) -> None:
    activate_and_claim(stack, "console-ledger-pages", "hunyuan-image")
    for number in range(1, 22):
        use(stack, "console-ledger-pages", "hunyuan-image", 1, f"image-{number}")
    open_console(page, "console-ledger-pages")
    entries, image = open_ledger(page, "Hunyuan Image"), grant(page, "Hunyuan Image")
    expect(entries).to_have_count(20)  # the console's page of the ledger
    expect(image.locator(".ledger-status")).to_have_text("20 entries, more to read.")
    image.get_by_role("button", name="More entries").click()
    expect(entries).to_have_count(22)
    expect(entries.locator("td:first-child")).to_have_text([str(number) for number in range(1, 23)])
    expect(entries.last.locator("td")).to_have_text(
        ["22", "usage", CLAIMED, "image-21", "+1", "-1", "0", "21", "29", "0", "—", "—"]
    )
    expect(image.locator(".ledger-status")).to_have_text("22 entries.")
    expect(image.get_by_role("button", name="More entries")).to_be_hidden()


def test_a_usage_is_reversed_from_the_history(page: Page, stack: LocalStack, browser: Browser) -> None:
    assert stack.call("PUT", "/_local/clock", {"now": "2026-11-23T08:00:00Z"}).status == 200
    activate_and_claim(stack, "100004", "hunyuan-turbo")
    use(stack, "100004", "hunyuan-turbo", 1000, "req-7a0100")  # 8 days ago: past the window
    assert stack.call("PUT", "/_local/clock", {"now": START}).status == 200
    use(stack, "100004", "hunyuan-turbo", 1834, "req-7a0101")
    use(stack, "100004", "hunyuan-turbo", 2000, "req-7a0102")
    open_console(page, "100004")
    rows = page.locator("#usage-rows tr")
    expect(rows.locator("td.request-id")).to_have_text(["req-7a0102", "req-7a0101", "req-7a0100"])
    expect(rows.nth(2).locator("td").last).to_have_text("window closed")
    expect(rows.nth(2).get_by_role("button")).to_have_count(0)

    rows.nth(1).get_by_role("button", name="Reverse").click()
    dialog = page.get_by_role("dialog", name="Reverse usage")
    expect(dialog).to_contain_text("req-7a0101: 1,834 tokens of Hunyuan Turbo recorded Dec 1, 2026, 8:00 AM UTC")
    blank = stack.gateway("/v1/usage/reversals", {"request_id": "req-7a0101", "reason": "   "})
    assert (blank.status, blank.body["code"]) == (422, "validation_error")
    dialog.get_by_label("Reason for the reversal").fill("   ")
    dialog.get_by_role("button", name="Reverse").click()
    expect(dialog.get_by_role("alert")).to_have_text(shown(blank.body))

    dialog.get_by_label("Reason for the reversal").fill("the call failed after metering")
    with page.expect_request("**/v1/usage/reversals") as sent:
        dialog.get_by_role("button", name="Reverse").click()
    assert sent.value.headers["x-principal"] == "gateway"
    expect(dialog).to_be_hidden()
    expect(page.locator("#usage-status")).to_have_text(
        f"Reversed req-7a0101 at {CLAIMED}: 1,834 free units returned to the grant, 0 recorded as expired, "
        "CNY 0 credited."
    )
    expect(rows.nth(1).locator("td").last).to_have_text(f"reversed at {CLAIMED}")
    expect(rows.nth(0).get_by_role("button", name="Reverse")).to_be_visible()
    expect(grant(page, "Hunyuan Turbo")).to_contain_text("Used 3,000 · Held 0 · Remaining 997,000 of 1,000,000 tokens")
    save_screenshot(browser, settled(page).locator("#usage").screenshot(animations="disabled"), REVERSAL_PNG)
    listed = stack.console("GET", "/v1/usage", "100004").body["items"]
    assert [record["reversed_at"] for record in listed] == [None, "2026-12-01T08:00:00.000Z", None]

    entries = open_ledger(page, "Hunyuan Turbo")
    expect(entries).to_have_count(5)
    expect(entries.last.locator("td")).to_have_text(
        ["5", "reversal", CLAIMED, "req-7a0101", "-1,834", "+1,834", "0", "3,000", "997,000", "0", "—",
         "the call failed after metering"]
    )  # fmt: skip


def test_an_operator_extends_then_voids_a_grant(page: Page, stack: LocalStack, browser: Browser) -> None:
    activate_and_claim(stack, "console-operator", "hunyuan-turbo")
    use(stack, "console-operator", "hunyuan-turbo", 1000, "before-void")
    open_console(page, "console-operator")
    panel = page.get_by_role("region", name="Operator actions")
    result, problem = page.locator("#operator-result"), page.locator("#operator-problem")
    generated = page.get_by_label("Action id").input_value()
    assert re.fullmatch(r"console-action-[0-9a-f-]{36}", generated)

    page.get_by_label("Operator action", exact=True).select_option(label="Extend the grant")
    page.get_by_label("Grant of model").select_option(label="Hunyuan Turbo")
    page.get_by_label("New expires_at (ISO-8601)").fill("2027-03-01T08:00:00Z")  # not later than it is
    page.get_by_label("Reason for the action").fill("outage, ticket 4712")
    grant_of = {"account_id": "console-operator", "model_id": "hunyuan-turbo", "actor": "support:local"}
    body = grant_of | {"action_id": "refused", "expires_at": "2027-03-01T08:00:00Z", "reason": "outage, ticket 4712"}
    refused = operator(stack, "extension", body)
    assert (refused.status, refused.body["code"]) == (422, "validation_error")
    with page.expect_request("**/v1/admin/grants/extension") as sent:
        page.get_by_role("button", name="Send operator action").click()
    assert sent.value.headers["x-principal"] == "operator"
    expect(problem).to_have_text(shown(refused.body))
    expect(page.get_by_label("Action id")).not_to_have_value(generated)  # answered: a new key

    page.get_by_label("New expires_at (ISO-8601)").fill("2027-04-01T08:00:00Z")
    send_operator_action(page, "Extend the grant", "outage, ticket 4712", "act-9f2")
    expect(result).to_have_text(
        "Extended hunyuan-turbo of account console-operator: expires Apr 1, 2027, 8:00 AM UTC, "
        "was Mar 1, 2027, 8:00 AM UTC; ledger entry 3, action act-9f2."
    )
    expect(problem).to_be_hidden()
    expect(grant(page, "Hunyuan Turbo")).to_contain_text("Expires in 121 days, on Apr 1, 2027, 8:00 AM UTC")

    page.get_by_label("Operator action", exact=True).select_option(label="Void the grant")
    expect(page.get_by_label("New expires_at (ISO-8601)")).to_be_hidden()
    page.get_by_label("Reason for the action").fill("abuse, ticket 4711")
    page.get_by_label("Action id").fill("act-9f1")
    save_panel_screenshot(browser, page, panel, OPERATOR_PNG)
    page.get_by_role("button", name="Send operator action").click()
    expect(result).to_have_text(
        "Voided hunyuan-turbo of account console-operator: 999,000 units expired; ledger entry 4, action act-9f1."
    )
    turbo = grant(page, "Hunyuan Turbo")
    expect(turbo.locator(".badge")).to_have_text(["voided"])
    expect(turbo).to_contain_text("Voided by an operator; it was valid until Apr 1, 2027, 8:00 AM UTC")
    expect(turbo).to_contain_text("Used 1,000 · Held 0 · Remaining 0 · Expired 999,000 of 1,000,000 tokens")
    entries = open_ledger(page, "Hunyuan Turbo")
    expect(entries.locator("td:nth-child(2)")).to_have_text(["claim", "usage", "extension", "void"])
    expect(entries.nth(2).locator("td")).to_have_text(
        ["3", "extension", CLAIMED, "act-9f2", "0", "0", "0", "1,000", "999,000", "0", "support:local",
         "outage, ticket 4712"]
    )  # fmt: skip
    expect(entries.nth(3).locator("td")).to_have_text(
        ["4", "void", CLAIMED, "act-9f1", "0", "-999,000", "+999,000", "1,000", "0", "999,000", "support:local",
         "abuse, ticket 4711"]
    )  # fmt: skip

    send_operator_action(page, "Void the grant", "again")
    again = operator(stack, "void", grant_of | {"action_id": "act-9f3", "reason": "again"})
    assert (again.status, again.body["code"]) == (409, "grant_not_voidable")
    expect(problem).to_have_text(again.body["detail"])
    voided = stack.gateway("/v1/authorizations", {"account_id": "console-operator", "model_id": "hunyuan-turbo"})
    assert (voided.status, voided.body["code"]) == (402, "free_quota_voided")
    invoke(page, "Hunyuan Turbo", 1)
    expect(page.locator("#invoke-problem")).to_have_text(voided.body["detail"])


def test_a_screenshot_is_rewritten_only_when_it_changed_visually(browser: Browser) -> None:
    gallery, quota = GALLERY_PNG.read_bytes(), QUOTA_PNG.read_bytes()
    assert differing_pixels(browser, gallery, gallery) == 0
    assert differing_pixels(browser, gallery, quota) > NOISE_PIXELS
