// Usage history, newest first, a page at a time: the API pages forward with next_cursor, so the
// cursors of the pages seen are kept to go back.

import { api } from "./api.js";
import { act, byId, h, showProblem } from "./dom.js";
import { formatCount, formatInstant, formatMoney } from "./format.js";

const number = (value) => h("td", { className: "number" }, formatCount(value));

function row(record, names) {
  return h(
    "tr",
    {},
    h("td", {}, formatInstant(record.recorded_at)),
    h("td", {}, names.get(record.model_id) ?? record.model_id),
    h("td", { className: "mono request-id", title: record.request_id }, record.request_id),
    h("td", {}, record.sub_account_id ?? "—"),
    number(record.quantity),
    number(record.free),
    number(record.billable),
    number(record.unbilled_overage),
    h("td", { className: "number" }, formatMoney(record.charge)),
  );
}

function setEnabled(button, enabled) {
  button.setAttribute("aria-disabled", String(!enabled));
}

export function setupUsage({ models }) {
  const problem = byId("usage-problem");
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
    const rows = items.map((record) => row(record, names));
    if (rows.length === 0) rows.push(h("tr", {}, h("td", { colspan: 9, className: "empty" }, "No usage recorded yet.")));
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
