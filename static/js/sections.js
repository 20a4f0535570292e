// Live sections: every data section of every page refreshes itself and is honest about its state.
//
// Markup (see docs/ui-conventions.md):
//   <section class="live-section" data-section="payments-table" data-label="payments"
//            data-refresh-url="/payments?partial=table" data-refresh-every="10" data-stale-after="30"
//            data-updated-at="2026-11-24T10:00:00Z">
//     ... <span class="freshness" data-freshness></span> ...
//     <div class="section-body" data-section-body> server-rendered partial </div>
//   </section>
// States (data-state on the section): loading (first load only), ok, error, degraded; the class
// is-stale marks data older than data-stale-after seconds (or kept after a failed refresh).
// - loading: a placeholder only while the body is empty; later refreshes keep the data visible.
// - error: a failed refresh keeps the last data, marks it stale, says what failed, offers Retry.
// - degraded: after DEGRADE_AFTER failures in a row (or a first load that failed) the body is
//   replaced by a short notice; the rest of the page keeps working and refreshes keep trying.
// - offline: refreshes pause while the browser is offline or the server is unreachable
//   (shell.js), and resume with a staggered refresh when it is back.
// A server-rendered section may start as data-state="degraded" with its notice in the body.

const REQUEST_TIMEOUT_MS = 8000;
const DEGRADE_AFTER = 3;
const MAX_BACKOFF_MS = 60000;

function secondsSince(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : Math.max(0, Math.round((Date.now() - t) / 1000));
}

function describeAge(seconds) {
  if (seconds === null) return "not loaded yet";
  if (seconds < 60) return `updated ${seconds} s ago`;
  if (seconds < 3600) return `updated ${Math.floor(seconds / 60)} min ago`;
  return `updated ${Math.floor(seconds / 3600)} h ago`;
}

function offline() {
  return !navigator.onLine || Boolean(window.payflowShell && window.payflowShell.isOffline());
}

class LiveSection {
  constructor(el) {
    this.el = el;
    this.url = el.dataset.refreshUrl || "";
    this.every = Number(el.dataset.refreshEvery || 0) * 1000;
    this.staleAfter = Number(el.dataset.staleAfter || 30);
    this.label = el.dataset.label || el.dataset.section || "this section";
    this.failures = 0;
    this.timer = null;
    this.inFlight = null;
    this.body = el.querySelector("[data-section-body]");
    this.errorBox = this.ensureErrorBox();
    if (!el.dataset.state) el.dataset.state = this.body && this.body.children.length ? "ok" : "loading";
    if (el.dataset.state === "degraded") this.failures = DEGRADE_AFTER; // the server said so
    if (el.dataset.state === "loading" && this.url) this.refresh();
    else this.schedule();
    this.tick();
  }

  ensureErrorBox() {
    let box = this.el.querySelector("[data-section-error]");
    if (!box) {
      box = document.createElement("div");
      box.className = "section-error banner banner-danger";
      box.setAttribute("data-section-error", "");
      box.setAttribute("role", "alert");
      box.hidden = true;
      box.innerHTML = '<span data-error-text></span> <button type="button" class="button" data-retry>Retry</button>';
      const retry = box.querySelector("[data-retry]");
      retry.setAttribute("aria-label", `Retry loading ${this.label}`);
      if (this.body) this.body.before(box);
      else this.el.append(box);
    }
    box.querySelector("[data-retry]").addEventListener("click", () => this.refresh({ manual: true }));
    return box;
  }

  schedule() {
    clearTimeout(this.timer);
    if (!this.every || !this.url || !this.el.isConnected) return;
    const backoff = this.failures ? Math.min(MAX_BACKOFF_MS, this.every * 2 ** this.failures) : this.every;
    const jitter = Math.random() * 0.2 * backoff;
    this.timer = setTimeout(() => this.refresh(), backoff + jitter);
  }

  async refresh({ manual = false } = {}) {
    if (!this.url || this.inFlight) return;
    if (!this.el.isConnected) { this.destroy(); return; }
    if (offline() && !manual) { this.schedule(); return; }
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    this.inFlight = controller;
    this.el.setAttribute("aria-busy", "true");
    try {
      let response;
      try {
        response = await fetch(this.url, {
          headers: { "HX-Request": "true", "X-Requested-With": "live-section" },
          credentials: "same-origin",
          cache: "no-store",
          signal: controller.signal,
        });
      } catch (err) {
        if (err.name !== "AbortError") {
          document.dispatchEvent(new CustomEvent("payflow:network-error"));
          throw new Error("the server could not be reached");
        }
        throw err;
      }
      if (response.redirected && new URL(response.url).pathname.startsWith("/login")) {
        throw new Error("your session has ended; log in again");
      }
      if (!response.ok) {
        const injected = response.headers.get("X-Chaos-Injected") ? " (a failure injected by chaos)" : "";
        throw new Error(`the server answered ${response.status}${response.statusText ? " " + response.statusText : ""}${injected}`);
      }
      const html = await response.text();
      this.body.innerHTML = html;
      if (window.htmx) window.htmx.process(this.body);
      this.el.dataset.updatedAt = response.headers.get("X-Data-Updated-At") || new Date().toISOString();
      this.failures = 0;
      this.setState("ok");
      this.el.dispatchEvent(new CustomEvent("section:refreshed", { bubbles: true }));
      mount(this.body);
    } catch (err) {
      this.failures += 1;
      const reason = err.name === "AbortError" ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : err.message;
      this.fail(reason);
    } finally {
      clearTimeout(timeout);
      this.inFlight = null;
      this.el.removeAttribute("aria-busy");
      this.schedule();
    }
  }

  fail(reason) {
    const text = this.errorBox.querySelector("[data-error-text]");
    const hadData = this.el.dataset.state !== "loading";
    if (this.failures >= DEGRADE_AFTER || !hadData) {
      text.textContent = `${this.label.charAt(0).toUpperCase() + this.label.slice(1)} unavailable: ${reason}. ${hadData ? "The last data is hidden while this section is unavailable; " : ""}the rest of the page still works, and PayFlow keeps retrying.`;
      this.setState("degraded");
    } else {
      text.textContent = `Could not refresh ${this.label}: ${reason}. Showing the last data, which may be out of date.`;
      this.setState("error");
    }
    this.errorBox.hidden = false;
    this.el.dispatchEvent(new CustomEvent("section:failed", { bubbles: true, detail: { reason } }));
  }

  setState(state) {
    this.el.dataset.state = state;
    if (state === "ok") this.errorBox.hidden = true;
    if (this.body) this.body.hidden = state === "degraded";
    this.tick();
  }

  tick() {
    const age = secondsSince(this.el.dataset.updatedAt);
    const stale = age !== null && age > this.staleAfter;
    this.el.classList.toggle("is-stale", stale || this.el.dataset.state === "error");
    for (const node of this.el.querySelectorAll("[data-freshness]")) {
      if (node.closest(".live-section") !== this.el) continue; // a nested section speaks for itself
      const kept = this.el.dataset.state === "error" ? " — last data kept after a failed refresh" : "";
      node.textContent = describeAge(age) + (stale ? " — data may be out of date" : "") + kept;
      node.classList.toggle("is-stale", stale || Boolean(kept));
    }
  }

  destroy() {
    clearTimeout(this.timer);
    sections.delete(this.el);
  }
}

const sections = new Map();

function mount(root = document) {
  const found = root.matches && root.matches(".live-section") ? [root] : [];
  for (const el of [...found, ...root.querySelectorAll(".live-section")]) {
    if (!sections.has(el)) sections.set(el, new LiveSection(el));
  }
}

function forEachSection(callback) {
  for (const [el, section] of sections) {
    if (el.isConnected) callback(section);
    else section.destroy();
  }
}

// Refresh every section now, staggered so a returning server is not hit all at once.
function refreshAll({ manual = false, staggerMs = 250 } = {}) {
  let index = 0;
  forEachSection((section) => {
    setTimeout(() => section.refresh({ manual }), index * staggerMs);
    index += 1;
  });
}

setInterval(() => forEachSection((section) => section.tick()), 1000);
document.addEventListener("payflow:online", () => refreshAll());
document.addEventListener("DOMContentLoaded", () => mount());
document.addEventListener("htmx:afterSettle", (event) => mount(event.target));
if (document.readyState !== "loading") mount();

window.payflowSections = { refreshAll, sections, mount };

export { LiveSection, mount, refreshAll, sections };
