// The one money, time and status-tone formatter in the browser: the same rules as
// payflow/formatting.py, from the same tables (the server renders them into the page as the
// JSON script #pf-format). A test runs both on the same values and compares the strings.
//
// Money: minor units, the currency's ISO 4217 exponent, the locale's grouping, the code always
// shown ("1.234,56 USD"), joined by a no-break space. Never Intl's currency symbols.
// Time: the user's display zone, named ("2026-12-01 21:31:20 Europe/Berlin"); relative on hover.

const NBSP = "\u00a0";

let config = null;

export function setConfig(value) {
  config = value;
}

export function getConfig() {
  if (!config && typeof document !== "undefined") {
    const script = document.getElementById("pf-format");
    if (script) config = JSON.parse(script.textContent);
  }
  return (
    config || { locale: "en-US", timeZone: "UTC", locales: { "en-US": { group: ",", decimal: "." } }, exponents: {}, tones: {} }
  );
}

function groupDigits(digits, separator) {
  const head = digits.length % 3 || 3;
  const parts = [digits.slice(0, head)];
  for (let i = head; i < digits.length; i += 3) parts.push(digits.slice(i, i + 3));
  return parts.join(separator);
}

export function formatNumber(minor, exponent, locale) {
  const cfg = getConfig();
  const marks = cfg.locales[locale || cfg.locale] || cfg.locales[cfg.locale] || { group: ",", decimal: "." };
  const value = BigInt(String(minor).trim());
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(exponent + 1, "0");
  const whole = exponent ? digits.slice(0, -exponent) : digits;
  const fraction = exponent ? digits.slice(-exponent) : "";
  let text = groupDigits(whole, marks.group);
  if (fraction) text += marks.decimal + fraction;
  return (negative ? "-" : "") + text;
}

export function formatMoney(minor, currency, locale) {
  const exponent = getConfig().exponents[currency];
  if (exponent === undefined) return `${minor}${NBSP}${currency} (minor units)`;
  return `${formatNumber(minor, exponent, locale)}${NBSP}${currency}`;
}

// A typed major amount ("12.50") to minor units of `currency` ("1250"), exactly: string and
// BigInt arithmetic, never floats. The same rules and words as parse_major_amount in
// payflow/currencies.py. Returns { minor } (a string of digits) or { error }.
const MAX_MAJOR_DIGITS = 15;
const MAJOR_AMOUNT_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

export function parseMajorAmount(text, currency) {
  const typed = String(text ?? "").trim();
  const cleaned = typed.replace(/[,_]/g, "");
  const notANumber = { error: "Enter an amount as a number, for example 12.50." };
  if (!MAJOR_AMOUNT_RE.test(cleaned) || cleaned.length > MAX_MAJOR_DIGITS + 10) return notANumber;
  const negative = cleaned.startsWith("-");
  const [whole, fraction = ""] = cleaned.replace(/^[+-]/, "").split(".");
  if (whole.replace(/^0+/, "").length > MAX_MAJOR_DIGITS) {
    return { error: `Enter at most ${MAX_MAJOR_DIGITS} digits before the decimal point.` };
  }
  const exponent = getConfig().exponents[currency];
  if (exponent === undefined) return { error: `${currency} is not a currency PayFlow knows.` };
  if (/[1-9]/.test(fraction.slice(exponent))) {
    if (exponent === 0) return { error: `${typed} has decimals, but ${currency} has no minor unit.` };
    return { error: `${typed} has more decimals than ${currency} allows (${exponent}).` };
  }
  const minor = BigInt((whole || "0") + fraction.slice(0, exponent).padEnd(exponent, "0"));
  return { minor: (negative ? -minor : minor).toString() };
}

// A minimum typed in major units of its one chosen currency, in minor units: the same rules and
// words as parse_minimum in payflow/currencies.py. Returns { minor } or { error }.
export function parseMinimum(text, currencies) {
  const typed = String(text ?? "").trim();
  const codes = currencies.map((code) => code.trim().toUpperCase()).filter(Boolean);
  if (codes.length !== 1) return { error: `${typed} needs exactly one currency to be read in; choose one.` };
  if (getConfig().exponents[codes[0]] === undefined) {
    return { error: `${codes[0]} is not a currency PayFlow knows.` };
  }
  const parsed = parseMajorAmount(typed, codes[0]);
  if (parsed.error) return parsed;
  if (parsed.minor.startsWith("-")) return { error: `${typed} is below zero; a minimum is 0 or more.` };
  return parsed;
}

const partFormatters = new Map();
function wallClock(date, zone) {
  let fmt = partFormatters.get(zone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    partFormatters.set(zone, fmt);
  }
  const parts = {};
  for (const part of fmt.formatToParts(date)) parts[part.type] = part.value;
  return parts;
}

function knownZone(zone) {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function formatTime(iso, zone, style = "datetime") {
  const date = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  let name = zone || getConfig().timeZone || "UTC";
  if (!knownZone(name)) name = "UTC";
  const p = wallClock(date, name);
  const day = `${p.year}-${p.month}-${p.day}`;
  const clock = `${p.hour}:${p.minute}:${p.second}`;
  if (style === "datetime") return `${day} ${clock} ${name}`;
  if (style === "minutes") return `${day} ${p.hour}:${p.minute}`;
  if (style === "time") return clock;
  if (style === "date") return day;
  throw new Error(`unknown time style ${style}`);
}

const UNITS = [
  ["year", 365 * 86400],
  ["month", 30 * 86400],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

export function formatRelative(iso, now = new Date()) {
  const date = iso instanceof Date ? iso : new Date(iso);
  const seconds = Math.trunc((now.getTime() - date.getTime()) / 1000);
  if (Math.abs(seconds) < 5) return "just now";
  for (const [name, size] of UNITS) {
    const count = Math.floor(Math.abs(seconds) / size);
    if (count >= 1) {
      const phrase = `${count} ${name}${count === 1 ? "" : "s"}`;
      return seconds > 0 ? `${phrase} ago` : `in ${phrase}`;
    }
  }
  return "just now";
}

export function timeTitle(iso, now = new Date()) {
  return `${formatRelative(iso, now)} · ${formatTime(iso, "UTC", "datetime").replace(" UTC", "")} UTC`;
}

export function toneOf(status) {
  return getConfig().tones[String(status || "")] || "muted";
}

export function statusLabel(status) {
  const text = String(status || "").replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1).toLowerCase();
}

export function plural(count, singular, pluralForm) {
  return `${count} ${count === 1 ? singular : pluralForm || `${singular}s`}`;
}

// The display zone defaults to the browser's: tell the server (cookie pf_tz) and, when the
// page was rendered before it knew, rewrite the page's times in that zone with this formatter.
export function adoptBrowserZone() {
  const cfg = getConfig();
  let zone = "UTC";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return;
  }
  document.cookie = `pf_tz=${encodeURIComponent(zone)}; path=/; max-age=31536000; samesite=lax`;
  if (cfg.zoneChosen || cfg.timeZone === zone || !knownZone(zone)) return;
  cfg.timeZone = zone;
  document.querySelectorAll("time[data-time]").forEach((el) => {
    el.textContent = formatTime(el.getAttribute("datetime"), zone, el.dataset.style || "datetime");
  });
  document.querySelectorAll("[data-display-zone]").forEach((el) => {
    el.textContent = zone;
  });
}

// Times rendered by the server carry data-time; their hover title is refreshed when shown so
// "3 minutes ago" is never stale.
if (typeof document !== "undefined") {
  const refresh = (event) => {
    const el = event.target instanceof Element ? event.target.closest("time[data-time]") : null;
    if (el) el.title = timeTitle(el.getAttribute("datetime"));
  };
  document.addEventListener("mouseover", refresh);
  document.addEventListener("focusin", refresh);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", adoptBrowserZone);
  else adoptBrowserZone();
}
