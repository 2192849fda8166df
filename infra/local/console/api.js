// The console's one way to the API: the local identity headers on console routes (the JWT's
// claims in AWS), X-Principal on gateway and operator routes (their IAM signature in AWS), and
// every error as a readable ApiError.

export class ApiError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.status = status;
  }
}

// A problem's detail is written for people; 422s add the fields at fault. Anything else (API
// Gateway's own 500 body, a server that is gone) gets a sentence, never the raw body.
function errorFrom(status, statusText, body) {
  if (body && typeof body.detail === "string") {
    const fields = Array.isArray(body.errors) ? body.errors.map((error) => `${error.field}: ${error.message}`) : [];
    const message = fields.length ? `${body.detail} (${fields.join("; ")})` : body.detail;
    return new ApiError(message, status);
  }
  const reason = body && typeof body.message === "string" ? body.message : statusText;
  return new ApiError(`The API answered ${status}${reason ? ` ${reason}` : ""}.`, status);
}

const identity = { account: "", subAccount: "" };
const [GATEWAY, OPERATOR] = ["gateway", "operator"];

/** The root account the console acts as (the event feed keeps its events only). */
export const currentAccount = () => identity.account;

export function useIdentity(account, subAccount) {
  identity.account = account.trim();
  identity.subAccount = subAccount.trim();
}

// fetch refuses header values outside printable ASCII before sending anything; say so plainly.
function identityHeaders() {
  const headers = { "X-Account-Id": identity.account };
  if (identity.subAccount) headers["X-Sub-Account-Id"] = identity.subAccount;
  for (const [name, value] of Object.entries(headers)) {
    if (!/^[\x20-\x7e]*$/.test(value)) throw new ApiError(`${name} can only carry printable ASCII characters.`);
  }
  return headers;
}

// `principal` marks an IAM route: "gateway" (the inference gateway's routes) or "operator"
// (/v1/admin/), which the local stack takes in place of the signature; `identified: false` is a
// /_local/ route, which needs neither.
async function request(method, path, { body, identified = true, principal } = {}) {
  const headers = principal ? { "X-Principal": principal } : identified ? identityHeaders() : {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError("The local API did not answer: is `make run` still going?");
  }
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) throw errorFrom(response.status, response.statusText, parsed);
  return parsed;
}

/** The gateway routes name the account in the body, as the inference gateway does. */
function gatewayBody(fields) {
  const body = { account_id: identity.account, ...fields };
  if (identity.subAccount) body.sub_account_id = identity.subAccount;
  return body;
}

export const api = {
  account: () => request("GET", "/v1/account"),
  activate: () => request("POST", "/v1/account/activation"),
  setPostpaid: (enabled) => request("PUT", "/v1/account/postpaid", { body: { enabled } }),
  setAlerts: (percents) => request("PUT", "/v1/account/alerts", { body: { balance_low_percent: percents } }),
  models: () => request("GET", "/v1/models"),
  claim: (modelIds) => request("POST", "/v1/trials/claims", { body: { models: modelIds } }),
  grants: () => request("GET", "/v1/trials"),
  usage: (limit, cursor) => {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set("cursor", cursor);
    return request("GET", `/v1/usage?${query}`);
  },
  ledger: (modelId, limit, cursor) => {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set("cursor", cursor);
    return request("GET", `/v1/trials/${encodeURIComponent(modelId)}/ledger?${query}`);
  },
  authorize: (modelId) => request("POST", "/v1/authorizations", { body: gatewayBody({ model_id: modelId }), principal: GATEWAY }),
  recordUsage: (modelId, quantity, requestId) =>
    request("POST", "/v1/usage", {
      body: gatewayBody({ model_id: modelId, quantity, request_id: requestId }),
      principal: GATEWAY,
    }),
  recordUsageBatch: (modelId, quantity, requestIds) =>
    request("POST", "/v1/usage/batch", {
      body: {
        records: requestIds.map((requestId) => gatewayBody({ model_id: modelId, quantity, request_id: requestId })),
      },
      principal: GATEWAY,
    }),
  hold: (modelId, estimate, requestId) =>
    request("POST", "/v1/holds", {
      body: gatewayBody({ model_id: modelId, estimate, request_id: requestId }),
      principal: GATEWAY,
    }),
  releaseHold: (requestId) =>
    request("DELETE", `/v1/holds/${encodeURIComponent(requestId)}`, { principal: GATEWAY }),
  reverseUsage: (requestId, reason) =>
    request("POST", "/v1/usage/reversals", { body: { request_id: requestId, reason }, principal: GATEWAY }),
  extendGrant: (fields) => request("POST", "/v1/admin/grants/extension", { body: fields, principal: OPERATOR }),
  voidGrant: (fields) => request("POST", "/v1/admin/grants/void", { body: fields, principal: OPERATOR }),
  clock: () => request("GET", "/_local/clock", { identified: false }),
  freezeClock: (now) => request("PUT", "/_local/clock", { body: { now }, identified: false }),
  realTime: () => request("DELETE", "/_local/clock", { identified: false }),
  runExpiry: () => request("POST", "/_local/expiry-runs", { identified: false }),
  events: (detailType) => {
    const query = detailType ? `?${new URLSearchParams({ detail_type: detailType })}` : "";
    return request("GET", `/_local/events${query}`, { identified: false });
  },
};
