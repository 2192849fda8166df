// The Model Gallery: the catalog as cards, with whether this account can still claim each trial.

import { byId, h } from "./dom.js";
import { formatQuantity, formatUnitPrice, plural } from "./format.js";

const WHY_NOT_CLAIMABLE = {
  already_claimed: "Already claimed",
  not_eligible: "No free trial for this model",
  campaign_ended: "The free-trial campaign has ended",
  account_not_activated: "Activate TokenHub to claim",
};

export const whyNotClaimable = (reason) => WHY_NOT_CLAIMABLE[reason] ?? reason;

export function describeTrial(model) {
  if (!model.trial) return "No free trial";
  return `${formatQuantity(model.trial.quota, model.unit)} for ${plural(model.trial.validity_days, "day")}`;
}

const term = (name, value) => h("div", {}, h("dt", {}, name), h("dd", {}, value));

function card(model) {
  const titleId = `card-${model.model_id}`;
  const { claimable, reason } = model.claim;
  return h(
    "li",
    { className: "card", "aria-labelledby": titleId },
    h("span", { className: `capability ${model.capability}` }, model.capability),
    h("h3", { id: titleId }, model.name),
    h("p", { className: "model-id" }, model.model_id),
    h(
      "dl",
      {},
      term("Free quota", model.trial ? formatQuantity(model.trial.quota, model.unit) : "None"),
      model.trial && term("Validity", plural(model.trial.validity_days, "day")),
      term("Price", formatUnitPrice(model.price, model.unit)),
      term("Unit", model.unit),
    ),
    h(
      "p",
      { className: `claim-state ${claimable ? "claimable" : "not-claimable"}` },
      claimable ? "Free trial ready to claim" : whyNotClaimable(reason),
    ),
  );
}

export function renderGallery(models) {
  byId("model-cards").replaceChildren(...models.map(card));
}
