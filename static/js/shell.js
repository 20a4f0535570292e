// Shell behaviour shared by every page (see docs/ui-conventions.md):
// - connectivity: a banner when the browser is offline or the server cannot be reached (the
//   /healthz probe fails), probing again with backoff; `payflow:offline` / `payflow:online`
//   events tell the live sections to pause and resume;
// - the chaos banner, kept current for every user while chaos is on;
// - htmx requests: writes show pending until the server answers, are never re-sent, and any
//   failure (error status, timeout, no connection) leaves a message naming what happened.

const body = document.body;
const offlineBanner = document.getElementById("offline-banner");
const offlineText = offlineBanner && offlineBanner.querySelector("[data-offline-text]");
const HEALTH_URL = body.dataset.healthUrl || "/healthz";
const CHAOS_BANNER_URL = body.dataset.chaosBannerUrl || "";

const PROBE_EVERY_MS = 15000;
const PROBE_TIMEOUT_MS = 4000;
const MAX_PROBE_BACKOFF_MS = 30000;
const FAILURES_BEFORE_UNREACHABLE = 2;
const CHAOS_BANNER_EVERY_MS = 5000;
const WRITE_VERBS = new Set(["post", "put", "patch", "delete"]);

// --- connectivity ---------------------------------------------------------------------------

const connectivity = { browserOffline: !navigator.onLine, serverUnreachable: false, failures: 0, retryAt: 0 };
let probeTimer = null;
let probing = false;

function isOffline() {
  return connectivity.browserOffline || connectivity.serverUnreachable;
}

function renderConnectivity() {
  const offline = isOffline();
  body.classList.toggle("is-offline", offline);
  body.dataset.connectivity = connectivity.browserOffline ? "offline" : connectivity.serverUnreachable ? "unreachable" : "online";
  if (!offlineBanner) return;
  offlineBanner.hidden = !offline;
  const checkNow = offlineBanner.querySelector("[data-offline-retry]");
  if (checkNow) checkNow.hidden = connectivity.browserOffline; // nothing to check until "online"
  if (!offline || !offlineText) return;
  if (connectivity.browserOffline) {
    offlineText.textContent = "You are offline. The data on screen stays but may be out of date; refreshes resume when the network returns. Actions are not sent while offline.";
  } else {
    const seconds = Math.max(1, Math.round((connectivity.retryAt - Date.now()) / 1000));
    offlineText.textContent = `The server cannot be reached. The data on screen may be out of date; checking again in ${seconds} s. Actions are not sent until it answers.`;
  }
}

function setConnectivity(change) {
  const wasOffline = isOffline();
  Object.assign(connectivity, change);
  const nowOffline = isOffline();
  renderConnectivity();
  if (wasOffline !== nowOffline) {
    document.dispatchEvent(new CustomEvent(nowOffline ? "payflow:offline" : "payflow:online"));
    if (!nowOffline) refreshChaosBanner();
  }
}

function scheduleProbe() {
  clearTimeout(probeTimer);
  let delay = PROBE_EVERY_MS;
  if (connectivity.failures > 0) {
    // Confirm a first failure quickly, then back off (with jitter) while the server is away.
    const backoff = Math.min(MAX_PROBE_BACKOFF_MS, 2000 * 2 ** (connectivity.failures - 1));
    delay = backoff + Math.random() * 0.2 * backoff;
  }
  connectivity.retryAt = Date.now() + delay;
  probeTimer = setTimeout(probe, delay);
}

async function probe() {
  if (probing) return;
  if (connectivity.browserOffline) { clearTimeout(probeTimer); return; } // the "online" event wakes us
  probing = true;
  const controller = new AbortController();
  const timeout = setTimeout(() => controller.abort(), PROBE_TIMEOUT_MS);
  let answered = false;
  try {
    const response = await fetch(HEALTH_URL, { cache: "no-store", credentials: "same-origin", signal: controller.signal });
    answered = response.ok;
  } catch (err) {
    answered = false;
  } finally {
    clearTimeout(timeout);
    probing = false;
  }
  const failures = answered ? 0 : connectivity.failures + 1;
  connectivity.failures = failures;
  scheduleProbe();
  setConnectivity({ serverUnreachable: failures >= FAILURES_BEFORE_UNREACHABLE });
}

window.addEventListener("offline", () => setConnectivity({ browserOffline: true }));
window.addEventListener("online", () => {
  connectivity.failures = 0;
  setConnectivity({ browserOffline: false });
  probe();
});
// A section or action that failed at the network level asks for a check now.
document.addEventListener("payflow:network-error", () => { if (!probing) probe(); });
if (offlineBanner) {
  offlineBanner.querySelector("[data-offline-retry]")?.addEventListener("click", () => {
    connectivity.failures = Math.min(connectivity.failures, FAILURES_BEFORE_UNREACHABLE);
    probe();
  });
}
setInterval(() => { if (connectivity.serverUnreachable) renderConnectivity(); }, 1000);
renderConnectivity();
scheduleProbe();

// --- the chaos banner -------------------------------------------------------------------------

let chaosBannerTimer = null;

async function refreshChaosBanner() {
  clearTimeout(chaosBannerTimer);
  if (!CHAOS_BANNER_URL) return;
  if (!isOffline() && document.visibilityState !== "hidden") {
    try {
      const response = await fetch(CHAOS_BANNER_URL, { headers: { "HX-Request": "true" }, credentials: "same-origin", cache: "no-store" });
      if (response.status === 404) return; // chaos was disabled on this deployment: stop asking
      const current = document.getElementById("chaos-banner");
      if (response.ok && current && !response.redirected) {
        const html = (await response.text()).trim();
        if (html) current.outerHTML = html;
      }
    } catch (err) {
      // The connectivity probe reports unreachability; the banner simply keeps its last state.
    }
  }
  chaosBannerTimer = setTimeout(refreshChaosBanner, CHAOS_BANNER_EVERY_MS);
}

document.addEventListener("chaos:changed", () => refreshChaosBanner());
document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") refreshChaosBanner(); });
if (CHAOS_BANNER_URL) chaosBannerTimer = setTimeout(refreshChaosBanner, CHAOS_BANNER_EVERY_MS);

// --- htmx requests: pending, errors, never re-sent ----------------------------------------------

function verbOf(detail) {
  return ((detail.requestConfig && detail.requestConfig.verb) || "get").toLowerCase();
}

function anchorFor(elt) {
  return (elt.closest && elt.closest("form")) || elt;
}

function clearActionError(elt) {
  const anchor = anchorFor(elt);
  const next = anchor.nextElementSibling;
  if (next && next.hasAttribute("data-action-error")) next.remove();
}

function showActionError(elt, message, retry) {
  const anchor = anchorFor(elt);
  if (!anchor.isConnected) return;
  clearActionError(elt);
  const box = document.createElement("div");
  box.className = "action-error banner banner-danger";
  box.setAttribute("role", "alert");
  box.setAttribute("data-action-error", "");
  const text = document.createElement("span");
  text.textContent = message;
  box.append(text);
  if (retry) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button";
    button.textContent = "Retry";
    button.addEventListener("click", () => { box.remove(); retry(); });
    box.append(" ", button);
  }
  anchor.after(box);
}

function pendingElements(elt) {
  if (elt.tagName === "FORM") return [...elt.querySelectorAll("button:not([type=button]), input[type=submit]")];
  return [elt];
}

function markPending(elt, pending) {
  for (const node of pendingElements(elt)) {
    if (pending) {
      node.setAttribute("aria-busy", "true");
      node.classList.add("is-pending");
      if (!node.disabled) { node.disabled = true; node.dataset.pendingDisabled = "true"; }
    } else {
      node.removeAttribute("aria-busy");
      node.classList.remove("is-pending");
      if (node.dataset.pendingDisabled) { node.disabled = false; delete node.dataset.pendingDisabled; }
    }
  }
}

function failureMessage(detail, kind) {
  const write = WRITE_VERBS.has(verbOf(detail));
  const xhr = detail.xhr;
  const injected = xhr && xhr.getResponseHeader && xhr.getResponseHeader("X-Chaos-Injected");
  const cause = kind === "timeout"
    ? "no answer within 8 s"
    : kind === "network"
      ? "the server could not be reached"
      : `the server answered ${xhr.status}${injected ? " (a failure injected by chaos)" : ""}`;
  if (!write) return `Could not load this: ${cause}. What is shown may be out of date.`;
  if (xhr && xhr.status === 403) return "You do not have the role for this action; nothing was changed.";
  if (kind === "timeout" || kind === "network") {
    return `The action's outcome is unknown: ${cause}. It was not sent again. Reload to see the current state before trying again.`;
  }
  return `The action failed: ${cause}. It was not sent again; check the current state before trying again.`;
}

function retryFor(detail) {
  if (WRITE_VERBS.has(verbOf(detail))) return null; // a write is never re-sent for the user
  const path = (detail.pathInfo && detail.pathInfo.finalRequestPath) || detail.requestConfig.path;
  return () => window.htmx.ajax("GET", path, { source: detail.elt, target: detail.target });
}

body.addEventListener("htmx:beforeRequest", (event) => {
  const detail = event.detail;
  clearActionError(detail.elt);
  if (!WRITE_VERBS.has(verbOf(detail))) return;
  if (isOffline()) {
    event.preventDefault();
    showActionError(detail.elt, "You are offline, so this action was not sent. Try again when the connection is back.");
    return;
  }
  markPending(detail.elt, true);
});

body.addEventListener("htmx:afterRequest", (event) => markPending(event.detail.elt, false));

body.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  if (status === 409 || status === 422) return; // swapped in: the server's answer explains it
  showActionError(event.detail.elt, failureMessage(event.detail, "status"), retryFor(event.detail));
});

body.addEventListener("htmx:timeout", (event) => {
  showActionError(event.detail.elt, failureMessage(event.detail, "timeout"), retryFor(event.detail));
});

body.addEventListener("htmx:sendError", (event) => {
  showActionError(event.detail.elt, failureMessage(event.detail, "network"), retryFor(event.detail));
  document.dispatchEvent(new CustomEvent("payflow:network-error"));
});

window.payflowShell = { isOffline, probe, connectivity };

export { isOffline, probe, showActionError };
