// The console's start: every section renders from one reload of the API, made after every change.
// Actions do not wait for that reload: their control is free again as soon as their own request
// has answered, and the newest reload is the one that renders.

import { setupAccount } from "./account.js";
import { api } from "./api.js";
import { setupClaimDialog } from "./claim-dialog.js";
import { setupDeveloper } from "./developer.js";
import { showProblem } from "./dom.js";
import { renderGallery } from "./gallery.js";
import { renderQuota } from "./quota.js";
import { setupUsage } from "./usage.js";

let catalog = [];
const models = () => catalog;
let clockMs = null; // the test clock's now at the last reload
const now = () => clockMs ?? Date.now();
let latestRefresh = 0;

const account = setupAccount({ onIdentityChange: refresh, onChange: refresh });
setupClaimDialog({ models, onClaimed: refresh });
const usage = setupUsage({ models, now, onChange: refresh });
const developer = setupDeveloper({ models, onChange: refresh });

/** A section's part of the refresh: its own error shows in its own alert. */
async function load(problemId, request) {
  const problem = document.getElementById(problemId);
  try {
    const answer = await request();
    showProblem(problem, null);
    return answer;
  } catch (error) {
    showProblem(problem, error);
    return null;
  }
}

// The page is aria-busy while it reloads. The account is read first: when it fails (no such
// identity), every console route would fail the same way, and one message in the account bar
// says it once.
async function refresh() {
  const generation = ++latestRefresh;
  document.body.setAttribute("aria-busy", "true");
  try {
    await reload(generation);
  } finally {
    if (generation === latestRefresh) document.body.removeAttribute("aria-busy");
  }
}

async function reload(generation) {
  const isLatest = () => generation === latestRefresh; // an older refresh that ends late must not render
  const [accountAnswer, clock] = await Promise.all([load("account-problem", api.account), load("clock-problem", api.clock)]);
  if (!isLatest()) return;
  clockMs = clock ? Date.parse(clock.now) : null;
  if (clock) developer.renderClock(clock);
  developer.loadEvents();
  account.render(accountAnswer);
  if (accountAnswer === null) {
    catalog = [];
    renderGallery([]);
    renderQuota(null);
    usage.clear();
    return;
  }
  const [gallery, trials] = await Promise.all([load("gallery-problem", api.models), load("quota-problem", api.grants)]);
  if (!isLatest()) return;
  catalog = gallery?.models ?? [];
  renderGallery(catalog);
  developer.renderModels();
  await Promise.all([renderQuota(trials?.grants ?? [], catalog, now()), usage.reload()]);
}

refresh();
