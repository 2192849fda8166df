// Test invocations as the inference gateway makes them: authorize then record usage, or take a
// hold and settle it with the usage of the same request_id (docs/contract.md section 6), and release a hold;
// or record a batch of usages in one request (docs/contract.md section 7).

import { api } from "./api.js";
import { act, byId, h } from "./dom.js";
import { formatCount, formatInstant, formatMoney, formatQuantity, plural, sumMoney } from "./format.js";

function usageStep(usage, unit) {
  return (
    `Recorded ${formatQuantity(usage.quantity, unit)}: ${formatCount(usage.free)} free, ` +
    `${formatCount(usage.billable)} billable (${formatMoney(usage.charge)}), ` +
    `${formatCount(usage.unbilled_overage)} unbilled overage; ${formatQuantity(usage.free_remaining, unit)} free left.`
  );
}

function holdStep(hold, unit) {
  if (hold.source === "postpaid") {
    return `No free units to hold for ${hold.request_id} (held ${formatCount(hold.held)}): the call goes to postpaid.`;
  }
  return (
    `Held ${formatQuantity(hold.held, unit)} from free quota for ${hold.request_id}, ` +
    `${formatQuantity(hold.free_available, unit)} free available to others, until ${formatInstant(hold.expires_at)}` +
    (hold.auto_claimed ? "; the free trial was claimed automatically." : ".")
  );
}

/** A refused record of a batch is a problem in its place: `{request_id, status, code, detail}`. */
const isRefused = (result) => typeof result.code === "string";

function batchStep(recorded, records, quantity, unit) {
  const total = (field) => recorded.reduce((sum, usage) => sum + usage[field], 0);
  const batch = `a batch of ${plural(records, "record")} of ${formatQuantity(quantity, unit)}`;
  return (
    `Recorded ${recorded.length === records ? batch : `${formatCount(recorded.length)} of ${batch}`}: ` +
    `${formatCount(total("free"))} free, ${formatCount(total("billable"))} billable ` +
    `(${formatMoney(sumMoney(recorded.map((usage) => usage.charge)))}), ` +
    `${formatCount(total("unbilled_overage"))} unbilled overage; ` +
    `${formatQuantity(recorded[recorded.length - 1].free_remaining, unit)} free left` +
    (recorded.some((usage) => usage.auto_claimed) ? "; the free trial was claimed automatically." : ".")
  );
}

async function authorizeThenRecord({ model, quantity, requestId, step }) {
  const admission = await api.authorize(model.model_id);
  const source = admission.source === "free" ? "free quota" : "postpaid";
  step(
    `Authorized from ${source}, ${formatQuantity(admission.free_remaining, model.unit)} free left` +
      (admission.auto_claimed ? "; the free trial was claimed automatically." : "."),
  );
  step(usageStep(await api.recordUsage(model.model_id, quantity, requestId), model.unit));
}

async function holdThenSettle({ model, quantity, estimate, requestId, step, held }) {
  step(holdStep(await api.hold(model.model_id, estimate, requestId), model.unit));
  held(requestId);
  step(usageStep(await api.recordUsage(model.model_id, quantity, requestId), model.unit));
}

async function holdOnly({ model, estimate, requestId, step, held }) {
  step(holdStep(await api.hold(model.model_id, estimate, requestId), model.unit));
  held(requestId);
  step("The hold stays live until it is released, settled by a usage of its request id, or times out.");
}

async function recordBatch({ model, quantity, records, requestId, step }) {
  const requestIds = Array.from({ length: records }, (_, index) => `${requestId}-${index + 1}`);
  const { results } = await api.recordUsageBatch(model.model_id, quantity, requestIds);
  const recorded = results.filter((result) => !isRefused(result));
  step(
    recorded.length
      ? batchStep(recorded, records, quantity, model.unit)
      : `Recorded none of a batch of ${plural(records, "record")}.`,
  );
  for (const refused of results.filter(isRefused)) step(`Record ${refused.request_id}: ${refused.detail}`);
}

// Each mode shows the fields it reads beyond the model and quantity; the others are hidden.
const MODES = [
  { id: "authorize-then-record", label: "Authorize, then record usage", run: authorizeThenRecord, fields: [] },
  { id: "hold-then-settle", label: "Hold, then settle", run: holdThenSettle, fields: ["estimate"] },
  { id: "hold-only", label: "Hold only (release it below)", run: holdOnly, fields: ["estimate"] },
  { id: "record-batch", label: "Record a batch", run: recordBatch, fields: ["records"] },
];
const MODE_FIELDS = ["estimate", "records"];

export function setupInvocation({ models, onChange }) {
  const modelSelect = byId("invoke-model");
  const modeSelect = byId("invoke-mode");
  const releaseId = byId("release-id");
  const steps = byId("invoke-steps");
  const step = (text) => steps.append(h("li", {}, text));
  const held = (requestId) => {
    releaseId.value = requestId;
  };

  modeSelect.replaceChildren(...MODES.map((mode) => h("option", { value: mode.id }, mode.label)));
  const modeChosen = () => MODES.find((candidate) => candidate.id === modeSelect.value);
  const showFields = () => {
    for (const name of MODE_FIELDS) {
      const shown = modeChosen().fields.includes(name);
      byId(`invoke-${name}-field`).hidden = !shown;
      byId(`invoke-${name}`).disabled = !shown; // and out of the form's validation
    }
  };
  modeSelect.addEventListener("change", showFields);
  showFields();

  byId("invoke-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const model = models().find((candidate) => candidate.model_id === modelSelect.value);
    const quantity = Number(byId("invoke-quantity").value);
    const estimate = Number(byId("invoke-estimate").value);
    const records = Number(byId("invoke-records").value);
    const mode = modeChosen();
    act(event.submitter ?? event.target, byId("invoke-problem"), async () => {
      steps.replaceChildren();
      if (!model) throw new Error("Choose a model: the catalog has not loaded.");
      try {
        const requestId = `console-${crypto.randomUUID()}`;
        await mode.run({ model, quantity, estimate, records, requestId, step, held });
      } finally {
        onChange();
      }
    });
  });

  byId("release-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const requestId = releaseId.value.trim();
    act(event.submitter ?? event.target, byId("invoke-problem"), async () => {
      steps.replaceChildren();
      try {
        const answer = await api.releaseHold(requestId);
        step(`Hold ${answer.request_id}: ${answer.status}.`);
      } finally {
        onChange();
      }
    });
  });

  return {
    renderModels() {
      const chosen = modelSelect.value;
      modelSelect.replaceChildren(...models().map((model) => h("option", { value: model.model_id }, model.name)));
      if (models().some((model) => model.model_id === chosen)) modelSelect.value = chosen;
    },
  };
}
