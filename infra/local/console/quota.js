// My free quota: one bar per grant (used, held, available, expired), its validity, its status,
// the "expiring soon" and "low balance" marks of docs/events.md, and its ledger (ledger.js).

import { byId, h } from "./dom.js";
import { DAY_MS, daysUntil, formatCount, formatInstant, formatQuantity, plural } from "./format.js";
import { grantLedger } from "./ledger.js";

const EXPIRING_SOON_WINDOW_MS = 7 * DAY_MS; // TrialExpiringSoon's default window
const LOW_BALANCE_PERCENT = 80; // TrialBalanceLow's first threshold

/** The marks of an active grant; an exhausted or expired grant's status says more than they would. */
export function marksOf(grant, nowMs) {
  if (grant.status !== "active") return [];
  const marks = [];
  if (grant.remaining > 0 && Date.parse(grant.expires_at) - nowMs <= EXPIRING_SOON_WINDOW_MS) marks.push("expiring soon");
  if (grant.used * 100 >= grant.quota * LOW_BALANCE_PERCENT) marks.push("low balance");
  return marks;
}

// Live holds (docs/contract.md section 6) are part of `remaining`: grants carry them as `held`.
function shares(grant) {
  const held = grant.held ?? 0;
  return { used: grant.used, held, available: grant.remaining - held, expired: grant.expired };
}

function bar(grant) {
  const parts = shares(grant);
  const label = Object.entries(parts)
    .map(([name, quantity]) => `${name} ${formatCount(quantity)}`)
    .join(", ");
  const segments = Object.entries(parts)
    .filter(([, quantity]) => quantity > 0)
    .map(([name, quantity]) => {
      const segment = h("span", { className: `segment ${name}` });
      segment.style.width = `${(quantity / grant.quota) * 100}%`;
      return segment;
    });
  return h("div", { className: "bar", role: "img", "aria-label": `${label} of ${formatQuantity(grant.quota, grant.unit)}` }, segments);
}

function figures(grant) {
  const { used, held, expired } = shares(grant);
  const items = [`Used ${formatCount(used)}`, `Held ${formatCount(held)}`, `Remaining ${formatCount(grant.remaining)}`];
  if (expired > 0) items.push(`Expired ${formatCount(expired)}`);
  return `${items.join(" · ")} of ${formatQuantity(grant.quota, grant.unit)}`;
}

function validity(grant, nowMs) {
  if (grant.status === "expired") return `Expired on ${formatInstant(grant.expires_at)}`;
  if (grant.status === "voided") return `Voided by an operator; it was valid until ${formatInstant(grant.expires_at)}`;
  return `Expires in ${plural(daysUntil(grant.expires_at, nowMs), "day")}, on ${formatInstant(grant.expires_at)}`;
}

function grantItem(grant, name, nowMs, loads) {
  const titleId = `grant-${grant.model_id}`;
  const method = grant.claim_method === "auto" ? "automatically on first use" : "from the gallery";
  const ledger = grantLedger(grant, name);
  loads.push(ledger.loaded);
  return h(
    "li",
    { className: `grant ${grant.status}`, "aria-labelledby": titleId },
    h(
      "div",
      { className: "grant-head" },
      h("h3", { id: titleId }, name),
      h("span", { className: `badge ${grant.status}` }, grant.status),
      marksOf(grant, nowMs).map((mark) => h("span", { className: "badge mark" }, mark)),
      ledger.toggle,
    ),
    bar(grant),
    h("p", { className: "figures" }, figures(grant)),
    h("p", { className: "validity" }, `${validity(grant, nowMs)} · claimed ${method} on ${formatInstant(grant.claimed_at)}`),
    ledger.region,
  );
}

/** `grants` null: not known (the account could not be read), so nothing is shown. Settles once
 * the open ledgers have been read. */
export function renderQuota(grants, models, nowMs) {
  const list = byId("grants");
  if (grants === null) {
    list.replaceChildren();
    return;
  }
  const names = new Map(models.map((model) => [model.model_id, model.name]));
  if (grants.length === 0) {
    list.replaceChildren(
      h("li", { className: "empty" }, "No free trial yet: claim one from the Model Gallery, or invoke a model to claim its trial automatically."),
    );
    return;
  }
  const loads = [];
  list.replaceChildren(...grants.map((grant) => grantItem(grant, names.get(grant.model_id) ?? grant.model_id, nowMs, loads)));
  return Promise.all(loads);
}
