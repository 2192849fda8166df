// Numbers and instants in the page's language (its <html lang>), so that the figures read the
// same way as the words around them. Instants are shown in UTC, the API's time zone (docs/contract.md R12).

const LOCALE = document.documentElement.lang || "en";
const integers = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const instants = new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });
const dates = new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeZone: "UTC" });

export const DAY_MS = 24 * 60 * 60 * 1000;

export const formatCount = (count) => integers.format(count);

const changes = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0, signDisplay: "exceptZero" });

/** A change of a balance: "+1,834", "-1,834", "0". */
export const formatChange = (change) => changes.format(change);

/** "1,000,000 tokens", "1 image": the catalog's units are plural nouns. */
export function formatQuantity(count, unit) {
  const noun = count === 1 && unit.endsWith("s") ? unit.slice(0, -1) : unit;
  return `${integers.format(count)} ${noun}`;
}

/** Money stays the exact decimal string the API sends (docs/contract.md R10): never a float. */
export const formatMoney = ({ currency, amount }) => `${currency} ${amount}`;

const fractionOf = (amount) => amount.split(".")[1] ?? "";

/** The exact sum of charges in one currency, written as the API writes amounts: in whole units of
 * the finest fraction (BigInt), no trailing zeros, "0" for nothing. */
export function sumMoney(charges) {
  const scale = Math.max(0, ...charges.map(({ amount }) => fractionOf(amount).length));
  const units = charges.reduce(
    (total, { amount }) => total + BigInt(amount.split(".")[0] + fractionOf(amount).padEnd(scale, "0")),
    0n,
  );
  const digits = units.toString().padStart(scale + 1, "0");
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, "");
  const whole = digits.slice(0, digits.length - scale);
  return { currency: charges[0].currency, amount: fraction ? `${whole}.${fraction}` : whole };
}

export function formatUnitPrice({ currency, unit_price: unitPrice }, unit) {
  return `${currency} ${unitPrice} per ${unit.endsWith("s") ? unit.slice(0, -1) : unit}`;
}

export const formatInstant = (iso) => `${instants.format(new Date(iso))} UTC`;
export const formatDate = (iso) => dates.format(new Date(iso));

/** Whole days left, counting a started day as one: "expires in 1 day" until the very instant. */
export const daysUntil = (iso, nowMs) => Math.ceil((Date.parse(iso) - nowMs) / DAY_MS);

export const plural = (count, noun) => `${formatCount(count)} ${noun}${count === 1 ? "" : "s"}`;
