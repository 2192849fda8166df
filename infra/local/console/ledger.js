// A grant's ledger (R19), opened from its item in My free quota: every entry that changed the
// grant's balances, oldest first, with the change and the balances after it, a page at a time
// (GET /v1/trials/{model_id}/ledger, following next_cursor). An open ledger stays open, and is
// read again, when the page reloads after a change.

import { api, currentAccount } from "./api.js";
import { act, h, showProblem } from "./dom.js";
import { formatChange, formatCount, formatInstant } from "./format.js";

const PAGE_SIZE = 20;
const BALANCES = ["used", "remaining", "expired"];
const opened = new Set(); // `${account} ${model_id}` of the ledgers open

const text = (value) => (value === null || value === undefined ? "—" : value);
const number = (value, format) => h("td", { className: "number" }, format(value));

function entryRow(entry) {
  return h(
    "tr",
    { dataset: { kind: entry.kind } },
    h("td", { className: "number" }, formatCount(entry.sequence)),
    h("td", {}, entry.kind),
    h("td", {}, formatInstant(entry.at)),
    h("td", { className: "mono" }, text(entry.request_id ?? entry.action_id)),
    BALANCES.map((name) => number(entry.delta[name], formatChange)),
    BALANCES.map((name) => number(entry[name], formatCount)),
    h("td", {}, text(entry.actor)),
    h("td", { className: "reason" }, text(entry.reason)),
  );
}

function table(name, body) {
  const column = (label, attributes = {}) => h("th", { scope: "col", ...attributes }, label);
  return h(
    "div",
    { className: "table-scroll" },
    h(
      "table",
      { className: "ledger-table" },
      h("caption", { className: "visually-hidden" }, `Ledger of ${name}, oldest first`),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["#", "Kind", "At (UTC)", "Request or action id"].map((label) => column(label, { rowspan: 2 })),
          column("Change", { colspan: 3, scope: "colgroup", className: "number" }),
          column("Balances after", { colspan: 3, scope: "colgroup", className: "number" }),
          ["Actor", "Reason"].map((label) => column(label, { rowspan: 2 })),
        ),
        h("tr", {}, [...BALANCES, ...BALANCES].map((label) => column(label, { className: "number" }))),
      ),
      body,
    ),
  );
}

function ledgerRegion(grant, name) {
  const body = h("tbody", {});
  const status = h("p", { className: "ledger-status", "aria-live": "polite" });
  const more = h("button", { type: "button", hidden: true }, "More entries");
  const problem = h("p", { className: "problem", role: "alert", hidden: true });
  const region = h(
    "div",
    { className: "ledger", id: `ledger-${grant.model_id}`, hidden: true },
    table(name, body),
    h("div", { className: "pager" }, status, more),
    problem,
  );
  let cursor = null;

  async function loadPage(first) {
    const page = await api.ledger(grant.model_id, PAGE_SIZE, first ? null : cursor);
    if (first) body.replaceChildren();
    body.append(...page.entries.map(entryRow));
    cursor = page.next_cursor;
    more.hidden = cursor === null;
    const shown = body.rows.length;
    status.textContent = `${formatCount(shown)} ${shown === 1 ? "entry" : "entries"}${cursor ? ", more to read" : ""}.`;
  }
  more.addEventListener("click", () => act(more, problem, () => loadPage(false)));

  const load = () => {
    showProblem(problem, null);
    return loadPage(true).catch((error) => showProblem(problem, error));
  };
  return { region, load };
}

/** The grant's "Ledger" button and the region it opens, to go in the grant's item; `loaded`
 * settles once an open ledger has been read. */
export function grantLedger(grant, name) {
  const key = `${currentAccount()} ${grant.model_id}`;
  const { region, load } = ledgerRegion(grant, name);
  const toggle = h("button", { type: "button", className: "ledger-toggle", "aria-controls": region.id }, "Ledger");
  const show = (open) => {
    toggle.setAttribute("aria-expanded", String(open));
    region.hidden = !open;
    return open ? load() : Promise.resolve();
  };
  toggle.addEventListener("click", () => {
    const open = !opened.has(key);
    if (open) opened.add(key);
    else opened.delete(key);
    show(open);
  });
  return { toggle, region, loaded: show(opened.has(key)) };
}
