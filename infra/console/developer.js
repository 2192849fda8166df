// The developer panel: the shared test clock, the nightly expiry run, test invocations as the
// inference gateway makes them, and the feed of ledger events.

import { api, ApiError } from "./api.js";
import { act, byId, h } from "./dom.js";
import { DAY_MS, formatCount, formatInstant, formatMoney, formatQuantity, plural } from "./format.js";

/** How the gateway meters one invocation. "Hold then settle" (SPEC section 6: POST /v1/holds,
 * then the usage with the hold's request_id settles it) joins this list when holds exist. */
const INVOCATION_MODES = [{ id: "authorize-then-record", label: "Authorize, then record usage", run: authorizeThenRecord }];

async function authorizeThenRecord({ model, quantity, requestId, step }) {
  const admission = await api.authorize(model.model_id);
  const source = admission.source === "free" ? "free quota" : "postpaid";
  step(
    `Authorized from ${source}, ${formatQuantity(admission.free_remaining, model.unit)} free left` +
      (admission.auto_claimed ? "; the free trial was claimed automatically." : "."),
  );
  const usage = await api.recordUsage(model.model_id, quantity, requestId);
  step(
    `Recorded ${formatQuantity(usage.quantity, model.unit)}: ${formatCount(usage.free)} free, ` +
      `${formatCount(usage.billable)} billable (${formatMoney(usage.charge)}), ` +
      `${formatCount(usage.unbilled_overage)} unbilled overage; ${formatQuantity(usage.free_remaining, model.unit)} free left.`,
  );
}

const EVENTS_NOT_BUILT =
  "The live feed of ledger events is not built yet: it appears here once the local stack serves /_local/events.";

export function setupDeveloper({ models, onChange }) {
  const clockProblem = byId("clock-problem");
  const freezeAt = byId("freeze-at");
  const modelSelect = byId("invoke-model");
  const modeSelect = byId("invoke-mode");
  let clock = null;

  modeSelect.replaceChildren(...INVOCATION_MODES.map((mode) => h("option", { value: mode.id }, mode.label)));

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

  byId("invoke-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const steps = byId("invoke-steps");
    const model = models().find((candidate) => candidate.model_id === modelSelect.value);
    const quantity = Number(byId("invoke-quantity").value);
    const mode = INVOCATION_MODES.find((candidate) => candidate.id === modeSelect.value);
    const step = (text) => steps.append(h("li", {}, text));
    act(event.submitter ?? event.target, byId("invoke-problem"), async () => {
      steps.replaceChildren();
      if (!model) throw new Error("Choose a model: the catalog has not loaded.");
      try {
        await mode.run({ model, quantity, requestId: `console-${crypto.randomUUID()}`, step });
      } finally {
        onChange();
      }
    });
  });

  function renderModels() {
    const chosen = modelSelect.value;
    modelSelect.replaceChildren(...models().map((model) => h("option", { value: model.model_id }, model.name)));
    if (models().some((model) => model.model_id === chosen)) modelSelect.value = chosen;
  }

  function renderClock(current) {
    clock = current;
    const mode = current.frozen ? "frozen" : "real time";
    byId("clock-now").textContent = `Now: ${formatInstant(current.now)} (${mode})`;
    if (!freezeAt.value) freezeAt.value = current.now;
  }

  async function loadEvents() {
    const status = byId("events-status");
    try {
      const { events } = await api.events();
      status.textContent = `${plural(events.length, "event")}; the latest 20, newest first:`;
      byId("events").replaceChildren(
        ...events
          .slice(-20)
          .reverse()
          .map((event) => h("li", {}, `${formatInstant(event.time)} · ${event.detail_type} · ${event.detail.model_id ?? ""}`)),
      );
    } catch (error) {
      status.textContent = error instanceof ApiError && error.status === 404 ? EVENTS_NOT_BUILT : error.message;
    }
  }

  return { renderModels, renderClock, loadEvents };
}
