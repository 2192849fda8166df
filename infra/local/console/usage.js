// Usage history, newest first, a page at a time: the API pages forward with next_cursor, so the
// cursors of the pages seen are kept to go back. A record within its reversal window offers
// "Reverse" (reversal-dialog.js); a reversed one says when.

import { api } from "./api.js";
import { act, byId, h, showProblem } from "./dom.js";
import { DAY_MS, formatCount, formatInstant, formatMoney } from "./format.js";
import { setupReversalDialog } from "./reversal-dialog.js";

const number = (value) => h("td", { className: "number" }, formatCount(value));

// ReversalWindowDays' default. The API does not say a deploy's window; where it is shorter, a
// reversal the console offers is refused with reversal_window_closed, whose detail it shows.
const REVERSAL_WINDOW_MS = 7 * DAY_MS;

function reversal(record, nowMs, reverse) {
  if (record.reversed_at) return h("td", { className: "reversed" }, `reversed at ${formatInstant(record.reversed_at)}`);
  const closes = Date.parse(record.recorded_at) + REVERSAL_WINDOW_MS;
  if (nowMs >= closes) return h("td", { className: "window-closed" }, "window closed");
  const label = `Reverse ${record.request_id}`;
  const button = h("button", { type: "button", className: "small", "aria-label": label }, "Reverse");
  button.addEventListener("click", () => reverse(record, button));
  return h("td", {}, button);
}

function row(record, names, nowMs, reverse) {
  return h(
    "tr",
    {},
    h("td", {}, formatInstant(record.recorded_at)),
    h("td", { className: "model" }, names.get(record.model_id) ?? record.model_id),
    h("td", { className: "mono request-id", title: record.request_id }, record.request_id),
    h("td", {}, record.sub_account_id ?? "—"),
    number(record.quantity),
    number(record.free),
    number(record.billable),
    number(record.unbilled_overage),
    h("td", { className: "number" }, formatMoney(record.charge)),
    reversal(record, nowMs, reverse),
  );
}

function setEnabled(button, enabled) {
  button.setAttribute("aria-disabled", String(!enabled));
}

export function setupUsage({ models, now, onChange }) {
  const problem = byId("usage-problem");
  const status = byId("usage-status");
  const dialog = setupReversalDialog({
    onReversed(step) {
      status.textContent = step;
      status.focus();
      onChange();
    },
  });
  const reverse = (record, button) => {
    const model = models().find((candidate) => candidate.model_id === record.model_id);
    dialog.open(record, model ?? { name: record.model_id, unit: "units" }, button);
  };
  const pageSize = byId("usage-page-size");
  const newer = byId("usage-newer");
  const older = byId("usage-older");
  let cursors = [null];
  let page = 0;
  let nextCursor = null;
  let latestRequest = 0;

  async function show(index) {
    const request = ++latestRequest;
    const { items, next_cursor: next } = await api.usage(Number(pageSize.value), cursors[index]);
    if (request !== latestRequest) return; // a newer page (or page size) was asked for meanwhile
    page = index;
    nextCursor = next;
    const names = new Map(models().map((model) => [model.model_id, model.name]));
    const rows = items.map((record) => row(record, names, now(), reverse));
    if (rows.length === 0) rows.push(h("tr", {}, h("td", { colspan: 10, className: "empty" }, "No usage recorded yet.")));
    byId("usage-rows").replaceChildren(...rows);
    byId("usage-page").textContent = `Page ${page + 1}`;
    setEnabled(newer, page > 0);
    setEnabled(older, nextCursor !== null);
  }

  async function reload() {
    cursors = [null];
    showProblem(problem, null);
    try {
      await show(0);
    } catch (error) {
      byId("usage-rows").replaceChildren();
      showProblem(problem, error);
    }
  }

  older.addEventListener("click", () => {
    if (nextCursor === null) return;
    cursors[page + 1] = nextCursor;
    act(older, problem, () => show(page + 1));
  });
  newer.addEventListener("click", () => {
    if (page === 0) return;
    act(newer, problem, () => show(page - 1));
  });
  pageSize.addEventListener("change", reload);

  return { reload, clear: () => byId("usage-rows").replaceChildren() };
}
