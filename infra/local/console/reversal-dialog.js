// "Reverse usage" (R17): a modal <dialog> that asks why, then reverses one usage record with
// POST /v1/usage/reversals, as the inference gateway would. A refusal shows its detail inside the
// dialog, which stays open; a reversal closes it and says what it gave back.

import { api } from "./api.js";
import { act, byId, keepFocusInside, showProblem } from "./dom.js";
import { formatCount, formatInstant, formatMoney, formatQuantity } from "./format.js";

function reversedStep(reversal) {
  const replay = reversal.replayed ? " (already reversed: the first reversal's answer)" : "";
  return (
    `Reversed ${reversal.request_id} at ${formatInstant(reversal.reversed_at)}${replay}: ` +
    `${formatCount(reversal.free_returned)} free units returned to the grant, ` +
    `${formatCount(reversal.free_expired)} recorded as expired, ${formatMoney(reversal.billable_credited)} credited.`
  );
}

export function setupReversalDialog({ onReversed }) {
  const dialog = byId("reversal-dialog");
  const reason = byId("reversal-reason");
  const problem = byId("reversal-problem");
  const submit = byId("reversal-submit");
  let record = null;
  let opener = null;

  byId("reversal-cancel").addEventListener("click", () => dialog.close());
  keepFocusInside(dialog);
  dialog.addEventListener("close", () => {
    if (opener?.isConnected) opener.focus();
  });

  byId("reversal-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = record;
    act(submit, problem, async () => {
      const reversal = await api.reverseUsage(chosen.request_id, reason.value);
      opener = null; // its row is drawn again, reversed: onReversed says where focus goes
      dialog.close();
      onReversed(reversedStep(reversal));
    });
  });

  return {
    /** `model`: the catalog's `{name, unit}` of the usage's model. */
    open(usage, model, button) {
      record = usage;
      opener = button;
      byId("reversal-summary").textContent =
        `${usage.request_id}: ${formatQuantity(usage.quantity, model.unit)} of ${model.name} recorded ` +
        `${formatInstant(usage.recorded_at)}, ${formatCount(usage.free)} free, ${formatMoney(usage.charge)} charged.`;
      reason.value = "";
      showProblem(problem, null);
      dialog.showModal();
    },
  };
}
