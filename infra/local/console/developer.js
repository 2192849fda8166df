// The developer panel: the shared test clock, the nightly expiry run, test invocations as the
// inference gateway makes them (invocation.js), operator actions (operator.js), and the feed of
// ledger events (events.js).

import { api } from "./api.js";
import { act, byId } from "./dom.js";
import { setupEvents } from "./events.js";
import { DAY_MS, formatCount, formatInstant, plural } from "./format.js";
import { setupInvocation } from "./invocation.js";
import { setupOperator } from "./operator.js";

export function setupDeveloper({ models, onChange }) {
  const clockProblem = byId("clock-problem");
  const freezeAt = byId("freeze-at");
  const invocation = setupInvocation({ models, onChange });
  const operator = setupOperator({ models, onChange });
  const events = setupEvents();
  let clock = null;

  const changeClock = (control, change) =>
    act(control, clockProblem, async () => {
      await change();
      onChange();
    });

  byId("freeze-form").addEventListener("submit", (event) => {
    event.preventDefault();
    changeClock(event.submitter ?? event.target, () => api.freezeClock(freezeAt.value.trim()));
  });
  byId("jump-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const days = Number(byId("jump-days").value);
    const from = clock ? Date.parse(clock.now) : Date.now();
    const target = new Date(from + days * DAY_MS).toISOString();
    changeClock(event.submitter ?? event.target, () => api.freezeClock(target));
  });
  const realTime = byId("real-time");
  realTime.addEventListener("click", () => changeClock(realTime, api.realTime));

  const runExpiry = byId("run-expiry");
  runExpiry.addEventListener("click", () =>
    act(runExpiry, byId("expiry-problem"), async () => {
      const run = await api.runExpiry();
      byId("expiry-result").textContent =
        `As of ${formatInstant(run.as_of)}: ${plural(run.expired_grants, "grant")} expired, ` +
        `${formatCount(run.expired_quantity)} units in all; ` +
        (run.complete ? "the run is complete." : "the run stopped early and continues on its own.");
      onChange();
    }),
  );

  function renderClock(current) {
    clock = current;
    const mode = current.frozen ? "frozen" : "real time";
    byId("clock-now").textContent = `Now: ${formatInstant(current.now)} (${mode})`;
    if (!freezeAt.value) freezeAt.value = current.now;
  }

  const renderModels = () => {
    invocation.renderModels();
    operator.renderModels();
  };
  return { renderModels, renderClock, loadEvents: events.reload };
}
