// Live sections: every data section of every page refreshes itself and is honest about its state.
//
// Markup (see docs/ui-conventions.md):
//   <section class="live-section" data-section="payments-table" data-label="payments"
//            data-refresh-url="/payments?partial=table" data-refresh-every="10" data-stale-after="30"
//            data-updated-at="2026-11-24T10:00:00Z">
//     ... <span class="freshness" data-freshness></span> ...
//     <div class="section-body" data-section-body> server-rendered partial </div>
//   </section>
// States (data-state on the section): loading (first load only), ok, stale, error, degraded.
// On a failed refresh the last data stays, marked stale, with a message naming what failed and
// a Retry button. After DEGRADE_AFTER failures in a row the body is replaced by a short notice.

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
    if (el.dataset.state === "loading" && this.url) this.refresh();
    else this.schedule();
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
      this.el.insertBefore(box, this.body || null);
    }
    box.querySelector("[data-retry]").addEventListener("click", () => this.refresh({ manual: true }));
    return box;
  }

  schedule() {
    clearTimeout(this.timer);
    if (!this.every || !this.url) return;
    const backoff = this.failures ? Math.min(MAX_BACKOFF_MS, this.every * 2 ** this.failures) : this.every;
    const jitter = Math.random() * 0.2 * backoff;
    this.timer = setTimeout(() => this.refresh(), backoff + jitter);
  }

  async refresh({ manual = false } = {}) {
    if (!this.url || this.inFlight) return;
    if (!navigator.onLine && !manual) { this.schedule(); return; }
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    this.inFlight = controller;
    this.el.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(this.url, {
        headers: { "HX-Request": "true", "X-Requested-With": "live-section" },
        credentials: "same-origin",
        signal: controller.signal,
      });
      if (response.redirected && new URL(response.url).pathname.startsWith("/login")) {
        throw new Error("your session has ended; log in again");
      }
      if (!response.ok) throw new Error(`the server answered ${response.status}${response.statusText ? " " + response.statusText : ""}`);
      const html = await response.text();
      this.body.innerHTML = html;
      if (window.htmx) window.htmx.process(this.body);
      this.el.dataset.updatedAt = response.headers.get("X-Data-Updated-At") || new Date().toISOString();
      this.failures = 0;
      this.setState("ok");
      this.el.dispatchEvent(new CustomEvent("section:refreshed", { bubbles: true }));
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
      text.textContent = `Could not load ${this.label}: ${reason}. ${hadData ? "The last data is hidden while this section is unavailable; the rest of the page still works." : ""}`;
      this.setState("degraded");
    } else {
      text.textContent = `Could not refresh ${this.label}: ${reason}. Showing the last data, which may be out of date.`;
      this.setState("error");
    }
    this.errorBox.hidden = false;
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
      node.textContent = describeAge(age) + (stale ? " — data may be out of date" : "");
      node.classList.toggle("is-stale", stale);
    }
  }
}

const sections = new Map();

function mount(root = document) {
  for (const el of root.querySelectorAll(".live-section")) {
    if (!sections.has(el)) sections.set(el, new LiveSection(el));
  }
}

setInterval(() => sections.forEach((section) => section.tick()), 1000);
window.addEventListener("online", () => sections.forEach((section) => section.refresh()));
document.addEventListener("DOMContentLoaded", () => mount());
document.addEventListener("htmx:afterSettle", (event) => mount(event.target));
if (document.readyState !== "loading") mount();

export { LiveSection, mount, sections };
