// The account bar (who you are, remembered across visits), activation, the postpaid switch and
// the account's balance alert thresholds (R20).

import { api, useIdentity } from "./api.js";
import { act, byId, h } from "./dom.js";
import { formatInstant } from "./format.js";

const STORAGE_KEY = "trial-quota-console.identity";
const DEFAULT_ACCOUNT = "100001"; // the README quickstart's account

function savedIdentity() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "{}");
    return {
      account: typeof saved.account === "string" && saved.account ? saved.account : DEFAULT_ACCOUNT,
      subAccount: typeof saved.subAccount === "string" ? saved.subAccount : "",
    };
  } catch {
    return { account: DEFAULT_ACCOUNT, subAccount: "" };
  }
}

export function setupAccount({ onIdentityChange, onChange }) {
  const accountInput = byId("account-id");
  const subAccountInput = byId("sub-account-id");
  const problem = byId("account-problem");
  const postpaidSwitch = byId("postpaid-switch");
  const postpaidProblem = byId("postpaid-problem");
  const activateButton = h("button", { type: "button", className: "primary" }, "Activate TokenHub");

  const restored = savedIdentity();
  accountInput.value = restored.account;
  subAccountInput.value = restored.subAccount;
  useIdentity(restored.account, restored.subAccount);

  byId("identity-form").addEventListener("submit", (event) => {
    event.preventDefault();
    useIdentity(accountInput.value, subAccountInput.value);
    const identity = { account: accountInput.value.trim(), subAccount: subAccountInput.value.trim() };
    localStorage.setItem(STORAGE_KEY, JSON.stringify(identity));
    onIdentityChange();
  });

  activateButton.addEventListener("click", () =>
    act(activateButton, problem, async () => {
      await api.activate();
      onChange();
    }),
  );

  postpaidSwitch.addEventListener("change", () => {
    if (postpaidSwitch.getAttribute("aria-busy") === "true") {
      postpaidSwitch.checked = !postpaidSwitch.checked; // the switch shows what was last asked for
      return;
    }
    act(postpaidSwitch, postpaidProblem, async () => {
      try {
        await api.setPostpaid(postpaidSwitch.checked);
      } catch (error) {
        postpaidSwitch.checked = !postpaidSwitch.checked;
        throw error;
      }
      onChange();
    });
  });

  const alertsForm = byId("alerts-form");
  const alertsInput = byId("alerts-percent");
  const alertsProblem = byId("alerts-problem");
  alertsForm.addEventListener("submit", (event) => {
    event.preventDefault();
    act(byId("alerts-save"), alertsProblem, async () => {
      // Sent as typed (numbers where they are numbers): the API says what is wrong with the rest.
      const percents = alertsInput.value.split(",").map((part) => part.trim()).filter((part) => part)
        .map((part) => (/^[0-9]+$/.test(part) ? Number(part) : part));
      await api.setAlerts(percents);
      onChange();
    });
  });

  return {
    render(account) {
      const alerts = account?.alerts;
      byId("alerts-current").textContent = alerts
        ? `Now: ${alerts.balance_low_percent.join("%, ")}% (${
            alerts.source === "account" ? "set for this account" : "the service's default"
          }).`
        : "";
      if (alerts && document.activeElement !== alertsInput) alertsInput.value = alerts.balance_low_percent.join(", ");
      const status = byId("account-status");
      postpaidSwitch.checked = account?.postpaid_enabled ?? false;
      const state = byId("postpaid-state");
      state.textContent = postpaidSwitch.checked ? "on" : "off";
      state.className = `badge ${postpaidSwitch.checked ? "active" : "inactive"}`;
      if (account === null) {
        status.replaceChildren();
        return;
      }
      const who = subAccountInput.value.trim()
        ? `Root account ${account.account_id}, as sub-account ${subAccountInput.value.trim()}`
        : `Root account ${account.account_id}`;
      if (account.activated_at) {
        status.replaceChildren(
          h("span", { className: "badge active" }, "Activated"),
          h("span", {}, `${who}: TokenHub activated on ${formatInstant(account.activated_at)}.`),
        );
      } else {
        status.replaceChildren(
          h("span", { className: "badge inactive" }, "Not activated"),
          h(
            "span",
            {},
            `${who}: claiming from the Model Gallery and postpaid billing need TokenHub's activation. ` +
              "A model's first invocation still claims its free trial automatically.",
          ),
          activateButton,
        );
      }
    },
  };
}
