// The developer panel's operator mode (R18): extend or void the current account's grant of a
// model, as TokenHub's operator tool would, on the /v1/admin/grants/ routes with the operator's
// principal. Each action carries a generated action_id, its idempotency key: a new one once the
// API has answered, the same one again when nothing came back, so that a resend repeats the action.

import { api, ApiError, currentAccount } from "./api.js";
import { act, byId, h } from "./dom.js";
import { formatCount, formatInstant } from "./format.js";

const newActionId = () => `console-action-${crypto.randomUUID()}`;

const ANSWERS = {
  extension: (action) =>
    `Extended ${action.model_id} of account ${action.account_id}: expires ${formatInstant(action.expires_at)}, ` +
    `was ${formatInstant(action.previous_expires_at)}`,
  void: (action) =>
    `Voided ${action.model_id} of account ${action.account_id}: ${formatCount(action.expired_quantity)} units expired`,
};

function answered(action) {
  return (
    `${ANSWERS[action.kind](action)}; ledger entry ${formatCount(action.sequence)}, action ${action.action_id}` +
    (action.replayed ? " (replayed: the first answer to this action id)." : ".")
  );
}

export function setupOperator({ models, onChange }) {
  const actionSelect = byId("operator-action");
  const modelSelect = byId("operator-model");
  const expires = byId("operator-expires");
  const actionId = byId("operator-action-id");
  const result = byId("operator-result");
  actionId.value = newActionId();

  const showFields = () => {
    const extending = actionSelect.value === "extension";
    byId("operator-expires-field").hidden = !extending;
    expires.disabled = !extending; // and out of the form's validation
  };
  actionSelect.addEventListener("change", showFields);
  showFields();

  byId("operator-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const kind = actionSelect.value;
    const fields = {
      action_id: actionId.value.trim(),
      account_id: currentAccount(),
      model_id: modelSelect.value,
      actor: byId("operator-actor").value,
      reason: byId("operator-reason").value,
    };
    if (kind === "extension") fields.expires_at = expires.value.trim();
    act(event.submitter ?? event.target, byId("operator-problem"), async () => {
      result.textContent = "";
      try {
        const action = await (kind === "extension" ? api.extendGrant(fields) : api.voidGrant(fields));
        result.textContent = answered(action);
        actionId.value = newActionId();
      } catch (error) {
        if (error instanceof ApiError && error.status > 0) actionId.value = newActionId();
        throw error;
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
