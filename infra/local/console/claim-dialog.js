// "New User Free Trial": a modal <dialog> (the page behind it is inert, Tab wraps around inside it,
// Escape closes it) listing the trials this account can claim; "Claim Now" claims the checked
// ones in one request and shows each model's outcome.

import { api } from "./api.js";
import { act, byId, h, keepFocusInside, showProblem } from "./dom.js";
import { formatDate, formatQuantity } from "./format.js";
import { describeTrial } from "./gallery.js";

const OUTCOMES = {
  already_claimed: () => "Already claimed before",
  not_eligible: () => "No free trial for this model",
  unknown_model: () => "Not in the catalog",
  campaign_ended: () => "Not claimed: the free-trial campaign has ended",
  claimed: (grant) => `Claimed: ${formatQuantity(grant.quota, grant.unit)} until ${formatDate(grant.expires_at)}`,
};

export function setupClaimDialog({ models, onClaimed }) {
  const dialog = byId("claim-dialog");
  const opener = byId("open-claim-dialog");
  const choices = byId("claim-choices");
  const options = byId("claim-options");
  const outcomes = byId("claim-outcomes");
  const problem = byId("claim-problem");
  const submit = byId("claim-submit");
  const cancel = byId("claim-cancel");
  let claimed = false;

  function showChoices() {
    claimed = false;
    const claimable = models().filter((model) => model.claim.claimable);
    const needsActivation = models().some((model) => model.claim.reason === "account_not_activated");
    options.replaceChildren(
      ...claimable.map((model) =>
        h(
          "li",
          {},
          h(
            "label",
            {},
            h("input", { type: "checkbox", name: "models", value: model.model_id }),
            h("span", { className: "option-name" }, model.name),
            h("span", { className: "option-trial" }, describeTrial(model)),
          ),
        ),
      ),
    );
    if (claimable.length === 0) {
      const why = needsActivation
        ? "Activate TokenHub first: claiming from the gallery needs it."
        : "This account has no free trial left to claim.";
      options.replaceChildren(h("li", { className: "empty" }, why));
    }
    choices.hidden = false;
    outcomes.hidden = true;
    submit.hidden = claimable.length === 0;
    submit.textContent = "Claim Now";
    cancel.textContent = "Cancel";
    showProblem(problem, null);
  }

  function showOutcomes(results) {
    claimed = true;
    const names = new Map(models().map((model) => [model.model_id, model.name]));
    outcomes.replaceChildren(
      ...results.map((result) =>
        h(
          "li",
          { className: `outcome ${result.outcome}` },
          h("span", { className: "option-name" }, names.get(result.model_id) ?? result.model_id),
          h("span", {}, (OUTCOMES[result.outcome] ?? (() => result.outcome))(result.grant)),
        ),
      ),
    );
    choices.hidden = true;
    outcomes.hidden = false;
    submit.textContent = "Done";
    cancel.textContent = "Close";
    submit.focus();
  }

  opener.addEventListener("click", () => {
    showChoices();
    dialog.showModal();
  });
  cancel.addEventListener("click", () => dialog.close());
  keepFocusInside(dialog);
  dialog.addEventListener("close", () => opener.focus());

  byId("claim-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (claimed) {
      dialog.close();
      return;
    }
    const chosen = [...options.querySelectorAll("input:checked")].map((input) => input.value);
    if (chosen.length === 0) {
      showProblem(problem, new Error("Select at least one model to claim."));
      return;
    }
    act(submit, problem, async () => {
      const { results } = await api.claim(chosen);
      showOutcomes(results);
      onClaimed();
    });
  });
}
