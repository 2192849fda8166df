// The feed of ledger events (docs/events.md) from the local bus, GET /_local/events: the current
// account's, newest first, optionally one detail-type. Reloaded after every action and on demand;
// events reach the bus a moment after their change, so "Refresh" picks up late ones.

import { api, currentAccount } from "./api.js";
import { act, byId, h, showProblem } from "./dom.js";
import { formatCount, formatInstant, formatMoney, formatQuantity, plural } from "./format.js";

const SHOWN = 20;

const DETAILS = {
  TrialClaimed: (d) =>
    `claimed ${d.claim_method === "auto" ? "automatically" : "manually"}, ` +
    `${formatQuantity(d.quota, d.unit)} until ${formatInstant(d.expires_at)}`,
  TrialBalanceLow: (d) =>
    `${formatCount(d.threshold_percent)}% used: ${formatCount(d.used)} used, ${formatCount(d.remaining)} remaining of ${formatCount(d.quota)}`,
  TrialExhausted: (d) => `${formatCount(d.used)} used of ${formatCount(d.quota)}`,
  TrialExpiringSoon: (d) => `${formatCount(d.remaining)} remaining, expires ${formatInstant(d.expires_at)}`,
  TrialExpired: (d) =>
    `${formatCount(d.expired_quantity)} expired, ${formatCount(d.used)} used of ${formatCount(d.quota)}`,
  UsageReversed: (d) =>
    `request ${d.request_id} reversed (${d.reason}): ${formatCount(d.free_returned)} free returned, ` +
    `${formatCount(d.free_expired)} expired, ${formatMoney(d.charge)} credited`,
  TrialExtended: (d) =>
    `extended by ${d.actor} (${d.reason}) to ${formatInstant(d.expires_at)}, was ${formatInstant(d.previous_expires_at)}`,
  TrialVoided: (d) =>
    `voided by ${d.actor} (${d.reason}): ${formatCount(d.expired_quantity)} expired, ${formatCount(d.used)} used of ${formatCount(d.quota)}`,
  UsageBillable: (d) =>
    `request ${d.request_id}${d.sub_account_id ? ` (sub-account ${d.sub_account_id})` : ""}: ` +
    `${formatCount(d.quantity)} used, ${formatCount(d.billable)} billable, ${formatMoney(d.charge)}`,
};

function eventItem(event) {
  const detail = event.detail;
  const describe = DETAILS[event.detail_type];
  return h(
    "li",
    { className: "event", dataset: { detailType: event.detail_type } },
    h("span", { className: "event-type" }, event.detail_type),
    h("span", { className: "event-meta" }, `${formatInstant(event.time)} · account ${detail.account_id} · ${detail.model_id}`),
    describe ? h("span", { className: "event-detail" }, describe(detail)) : null,
  );
}

export function setupEvents() {
  const status = byId("events-status");
  const list = byId("events");
  const problem = byId("events-problem");
  const typeSelect = byId("events-type");
  let latest = 0;

  async function load() {
    const request = ++latest;
    const detailType = typeSelect.value;
    const account = currentAccount();
    const { events } = await api.events(detailType);
    if (request !== latest) return; // a newer load (another filter, another account) renders
    const mine = events.filter((event) => event.detail?.account_id === account).reverse();
    const kind = detailType ? `${detailType} ` : "";
    status.textContent =
      `${plural(mine.length, `${kind}event`)} for account ${account}` +
      (mine.length > SHOWN ? `; the latest ${formatCount(SHOWN)}, newest first:` : mine.length ? ", newest first:" : ".");
    list.replaceChildren(...mine.slice(0, SHOWN).map(eventItem));
  }

  /** The reload after an action: its error shows in the feed's own alert. */
  async function reload() {
    showProblem(problem, null);
    try {
      await load();
    } catch (error) {
      status.textContent = "";
      list.replaceChildren();
      showProblem(problem, error);
    }
  }

  const refresh = byId("events-refresh");
  refresh.addEventListener("click", () => act(refresh, problem, reload));
  typeSelect.addEventListener("change", reload);

  return { reload };
}
