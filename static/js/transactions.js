// Transactions page: the live feed over WebSocket (SSE when WebSockets are unavailable).
//
// Honest about loss: the server tells us what it dropped (`dropped`), what is beyond its replay
// window (`gap`); we count what we drop ourselves while paused. On reconnect we resume from the
// last id we saw, so missed events are filled in from the server's table. Money, times and
// status tones come from format.js, so live rows read exactly like the server-rendered ones.

import { formatMoney, formatTime, parseMinimum, statusLabel, timeTitle, toneOf } from "./format.js";

const root = document.getElementById("tx-stream");

const BACKOFF_BASE_S = 1;
const BACKOFF_CAP_S = 30;
const RATE_WINDOW_MS = 5000;
const SILENCE_LIMIT_MS = 45000; // heartbeats come every 15 s; three missed means a dead link
const CLOSE_NO_RETRY = { 4400: "invalid filter", 4401: "not logged in", 4403: "not allowed" };
const DEGRADED_QUIET_MS = 30000; // no drop for this long: back to "Live", the banner clears
const STATUS_RE = /^[a-z][a-z0-9_]{0,31}$/;
const CURRENCY_RE = /^[A-Z]{3}$/;

function kindLabel(kind) {
  return kind.charAt(0).toUpperCase() + kind.slice(1);
}

class TransactionsFeed {
  constructor(el) {
    this.el = el;
    this.rows = el.querySelector("[data-rows]");
    this.statusText = el.querySelector("[data-status]");
    this.announcer = el.querySelector("[data-announce]");
    this.pauseButton = el.querySelector("[data-pause]");
    this.freshness = el.querySelector("[data-freshness]");
    this.warning = el.querySelector("[data-backpressure]");
    this.gapNotice = el.querySelector("[data-gap]");
    this.rowCap = Number(el.dataset.rowCap || 200);
    this.pauseCap = Number(el.dataset.pauseCap || 1000);
    this.lastId = Number(el.dataset.lastId || 0);
    this.query = el.dataset.query || "";
    this.counts = { received: 0, "dropped-server": 0, "dropped-client": 0, buffered: 0 };
    this.arrivals = [];
    this.paused = false;
    this.pauseBuffer = [];
    this.attempt = 0;
    this.socket = null;
    this.lastMessageAt = 0;
    this.lastEventAt = 0;
    this.retryTimer = null;
    this.countdownTimer = null;
    this.closedForGood = false;
    this.lastDropAt = 0;
    this.missed = []; // [first_id, last_id] ranges the server dropped, to load on request
    this.resumeFrom = null;
    this.loadMissedButton = el.querySelector("[data-load-missed]");
    this.streamError = el.querySelector("[data-stream-error]");
    this.loadMissedButton?.addEventListener("click", () => this.loadMissed());
    el.querySelector("[data-tx-filters]")?.addEventListener("submit", (event) => this.checkFilters(event));

    this.pauseButton.addEventListener("click", () => this.togglePause());
    window.addEventListener("offline", () => this.goOffline());
    window.addEventListener("online", () => this.reconnectNow());
    setInterval(() => this.tick(), 1000);
    if (navigator.onLine) this.connect();
    else this.goOffline();
  }

  setState(state, text) {
    // Announce state changes only, not every second of a countdown.
    if (this.el.dataset.state !== state) this.announcer.textContent = text;
    this.el.dataset.state = state;
    if (this.statusText.textContent !== text) this.statusText.textContent = text;
  }

  // Live, but say so honestly: paused by you, or the server is dropping events for this page.
  setLive() {
    if (this.paused) return this.setState("paused", `Paused: ${this.pauseBuffer.length} new events held`);
    if (this.lastDropAt && Date.now() - this.lastDropAt < DEGRADED_QUIET_MS) {
      return this.setState("degraded", "Degraded: the server is dropping events for this page");
    }
    return this.setState("live", "Live");
  }

  // Live once the server has subscribed this connection: its first heartbeat says so. The
  // socket's open only means the handshake is done, and an event committed before the
  // subscription is not sent to a client that asked for live events only.
  subscribed() {
    this.attempt = 0;
    this.setLive();
  }

  connected() {
    return ["live", "paused", "degraded"].includes(this.el.dataset.state);
  }

  streamUrl(kind) {
    const params = new URLSearchParams(this.query);
    params.delete("since");
    if (this.resumeFrom !== null) params.set("since", String(this.resumeFrom));
    else if (this.lastId) params.set("since", String(this.lastId));
    const path = kind === "ws" ? this.el.dataset.wsUrl : this.el.dataset.sseUrl;
    if (kind === "sse") return `${path}?${params}`;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}${path}?${params}`;
  }

  connect() {
    clearTimeout(this.retryTimer);
    clearInterval(this.countdownTimer);
    if (this.closedForGood) return;
    this.setState("connecting", this.attempt ? "Reconnecting…" : "Connecting…");
    if (!("WebSocket" in window)) return this.connectSse();
    const socket = new WebSocket(this.streamUrl("ws"));
    this.socket = socket;
    let subscribed = false;
    socket.addEventListener("open", () => {
      if (this.socket === socket) this.lastMessageAt = Date.now();
    });
    socket.addEventListener("message", (message) => {
      if (this.socket !== socket) return;
      const data = JSON.parse(message.data);
      if (!subscribed && data.type === "heartbeat") {
        subscribed = true;
        this.subscribed();
      }
      this.handle(data);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (CLOSE_NO_RETRY[event.code]) {
        this.closedForGood = true;
        this.setState("offline", `Stopped: ${CLOSE_NO_RETRY[event.code]}. Reload the page to try again.`);
        return;
      }
      this.scheduleReconnect();
    });
  }

  connectSse() {
    const source = new EventSource(this.streamUrl("sse"));
    this.socket = source;
    let subscribed = false;
    source.addEventListener("heartbeat", () => {
      if (subscribed) return;
      subscribed = true;
      this.subscribed();
    });
    for (const type of ["events", "dropped", "gap", "heartbeat", "closing"]) {
      source.addEventListener(type, (message) => this.handle(JSON.parse(message.data)));
    }
    source.onerror = () => {
      source.close();
      this.socket = null;
      this.scheduleReconnect();
    };
  }

  scheduleReconnect() {
    if (!navigator.onLine) return this.goOffline();
    this.attempt += 1;
    const ceiling = Math.min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (this.attempt - 1));
    const delayS = Math.max(1, Math.round(ceiling * (0.5 + Math.random() * 0.5)));
    let remaining = delayS;
    const show = () => this.setState("reconnecting", `Reconnecting in ${remaining} s`);
    show();
    this.countdownTimer = setInterval(() => {
      remaining = Math.max(0, remaining - 1);
      show();
    }, 1000);
    this.retryTimer = setTimeout(() => this.connect(), delayS * 1000);
  }

  reconnectNow() {
    if (this.socket || this.closedForGood) return;
    this.attempt = 0;
    this.connect();
  }

  goOffline() {
    clearTimeout(this.retryTimer);
    clearInterval(this.countdownTimer);
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.close();
    }
    this.setState("offline", "Offline: waiting for the network");
  }

  handle(message) {
    this.lastMessageAt = Date.now();
    switch (message.type) {
      case "events":
        return this.receive(message.events);
      case "dropped":
        this.bump("dropped-server", message.count);
        this.lastDropAt = Date.now();
        this.missed.push([message.first_id, message.last_id]);
        if (this.connected()) this.setLive();
        return this.showDrops();
      case "gap":
        this.gapNotice.hidden = false;
        this.gapNotice.textContent = `Events ${message.from_id}–${message.to_id} are older than the replay window and were not replayed; the table continues from the newest.`;
        return;
      case "heartbeat":
        if (message.last_id > this.lastId) this.lastId = message.last_id;
        return;
      case "closing":
        // Everything up to last_id was sent, reported dropped or filtered out: resume after it.
        if (message.last_id > this.lastId) this.lastId = message.last_id;
        this.warn(message.message || "the server closed the stream.");
        return;
      case "error":
        this.streamError.hidden = false;
        this.streamError.textContent = message.message || "The server closed the stream; reconnecting.";
        return;
      default:
        return;
    }
  }

  receive(events) {
    const back = events.filter((event) => event.id <= this.lastId && this.takeMissed(event.id));
    if (back.length) this.renderBack(back);
    if (this.loadingMissed && events.length) {
      const newest = events[events.length - 1].id;
      this.missed = this.missed.filter(([, last]) => last > newest);
      if (!this.missed.length) {
        this.loadingMissed = false;
        this.showDrops();
      }
    }
    const fresh = events.filter((event) => event.id > this.lastId);
    if (!fresh.length) return;
    this.lastId = fresh[fresh.length - 1].id;
    this.el.dataset.lastId = String(this.lastId);
    this.bump("received", fresh.length);
    const now = Date.now();
    this.lastEventAt = now;
    this.freshness.textContent = "last event 0 s ago";
    this.freshness.classList.remove("is-stale");
    for (let i = 0; i < fresh.length; i += 1) this.arrivals.push(now);
    if (this.paused) {
      this.pauseBuffer.push(...fresh);
      const overflow = this.pauseBuffer.length - this.pauseCap;
      if (overflow > 0) {
        this.pauseBuffer.splice(0, overflow);
        this.bump("dropped-client", overflow);
      }
      this.setCount("buffered", this.pauseBuffer.length);
      return;
    }
    this.render(fresh);
  }

  render(events) {
    this.rows.querySelector("tr[data-empty]")?.remove();
    const fragment = document.createDocumentFragment();
    const newest = events.slice(-this.rowCap).reverse();
    for (const event of newest) fragment.appendChild(this.row(event));
    this.rows.prepend(fragment);
    while (this.rows.rows.length > this.rowCap) this.rows.deleteRow(-1);
  }

  row(event) {
    const tr = document.createElement("tr");
    tr.dataset.id = String(event.id);
    tr.className = "tx-new";
    const idCell = document.createElement("td");
    idCell.className = "num";
    idCell.dataset.label = "Id";
    const link = document.createElement("a");
    link.href = `/transactions/events/${event.id}`;
    link.textContent = String(event.id);
    idCell.appendChild(link);
    tr.appendChild(idCell);

    const timeCell = document.createElement("td");
    timeCell.dataset.label = "Time";
    const time = document.createElement("time");
    time.dataset.time = "";
    time.dataset.style = "time";
    time.setAttribute("datetime", event.created_at);
    time.title = timeTitle(event.created_at);
    time.textContent = formatTime(event.created_at, undefined, "time");
    timeCell.appendChild(time);
    tr.appendChild(timeCell);

    for (const [label, text] of [
      ["Kind", kindLabel(event.kind)],
      ["Merchant", event.merchant],
    ]) {
      const td = document.createElement("td");
      td.dataset.label = label;
      td.textContent = text;
      tr.appendChild(td);
    }
    const amountCell = document.createElement("td");
    amountCell.className = "num";
    amountCell.dataset.label = "Amount";
    const money = document.createElement("span");
    money.className = "money";
    money.dataset.money = String(event.amount);
    money.dataset.currency = event.currency;
    money.textContent = formatMoney(event.amount, event.currency);
    amountCell.appendChild(money);
    tr.appendChild(amountCell);

    const statusCell = document.createElement("td");
    statusCell.dataset.label = "Status";
    const badge = document.createElement("span");
    const tone = toneOf(event.status);
    badge.className = `badge badge-${tone}`;
    badge.dataset.status = event.status;
    badge.dataset.tone = tone;
    badge.textContent = statusLabel(event.status);
    statusCell.appendChild(badge);
    tr.appendChild(statusCell);
    return tr;
  }

  takeMissed(id) {
    const range = this.missed.find(([first, last]) => first <= id && id <= last);
    if (!range || this.rows.querySelector(`tr[data-id="${id}"]`)) return false;
    return true;
  }

  // Missed events loaded back go where their id puts them, not on top.
  renderBack(events) {
    this.rows.querySelector("tr[data-empty]")?.remove();
    for (const event of events) {
      const row = this.row(event);
      const after = [...this.rows.rows].find((tr) => Number(tr.dataset.id) < event.id);
      if (after) this.rows.insertBefore(row, after);
      else this.rows.appendChild(row);
    }
    while (this.rows.rows.length > this.rowCap) this.rows.deleteRow(-1);
    this.bump("received", events.length);
    this.loaded = (this.loaded || 0) + events.length;
    this.showDrops();
  }

  showDrops() {
    const total = this.counts["dropped-server"];
    if (!total) return;
    const [first, last] = this.missed[this.missed.length - 1] || [0, 0];
    const loaded = this.loaded ? ` ${this.loaded} loaded back.` : "";
    this.warn(
      `the server dropped ${total.toLocaleString()} events for this page since it opened (latest ids ${first}–${last}) because it fell behind the feed. They are still in the transactions table.${loaded}`,
    );
    if (this.loadMissedButton) this.loadMissedButton.hidden = !this.missed.length;
  }

  // Replay from just before the oldest dropped event through the server's existing resume.
  loadMissed() {
    if (!this.missed.length) return;
    this.resumeFrom = Math.min(...this.missed.map(([first]) => first)) - 1;
    this.loadingMissed = true;
    this.loadMissedButton.hidden = true;
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close();
    this.attempt = 0;
    this.connect();
    this.resumeFrom = null;
  }

  // Inline filter check: every bad field named at once, and the feed keeps running.
  checkFilters(event) {
    const form = event.target;
    const problems = [];
    const statuses = form.status.value.split(",").map((v) => v.trim().toLowerCase()).filter(Boolean);
    const badStatus = statuses.filter((v) => !STATUS_RE.test(v));
    if (badStatus.length) problems.push(`status: ${badStatus.join(", ")} is not a status name`);
    const currencies = form.currency.value.split(",").map((v) => v.trim().toUpperCase()).filter(Boolean);
    const badCurrency = currencies.filter((v) => !CURRENCY_RE.test(v));
    if (badCurrency.length) problems.push(`currency: ${badCurrency.join(", ")} is not a 3-letter ISO 4217 code`);
    // Typed in major units of the one chosen currency; the stream takes minor units.
    const typed = form.min.value.trim();
    const minor = form.querySelector("[data-min-minor]");
    minor.value = "";
    if (typed) {
      const parsed = parseMinimum(typed, currencies);
      if (parsed.error) problems.push(`min: minimum amount — ${parsed.error.replace(/\.$/, "")}`);
      else minor.value = parsed.minor;
    }
    const box = this.el.querySelector("[data-filter-check]");
    for (const name of ["status", "currency", "min"]) {
      form[name].removeAttribute("aria-invalid");
    }
    if (!problems.length) {
      box.hidden = true;
      // Submit minor units only: the typed text is not part of the feed's filters.
      form.min.disabled = true;
      setTimeout(() => (form.min.disabled = false));
      return;
    }
    event.preventDefault();
    for (const problem of problems) form[problem.split(":")[0]].setAttribute("aria-invalid", "true");
    box.hidden = false;
    const named = problems.map((problem) => problem.replace(/^min: /, ""));
    box.textContent = `Filters not applied (the feed keeps running): ${named.join("; ")}.`;
  }

  togglePause() {
    this.paused = !this.paused;
    this.pauseButton.textContent = this.paused ? "Resume" : "Pause";
    this.pauseButton.setAttribute("aria-pressed", String(this.paused));
    this.el.classList.toggle("is-paused", this.paused);
    if (!this.paused && this.pauseBuffer.length) {
      this.render(this.pauseBuffer);
      this.pauseBuffer = [];
      this.setCount("buffered", 0);
    }
    if (this.connected()) this.setLive();
  }

  warn(text) {
    this.warning.hidden = false;
    this.warning.querySelector("[data-backpressure-text]").textContent = text;
  }

  bump(name, by) {
    this.setCount(name, this.counts[name] + by);
  }

  setCount(name, value) {
    this.counts[name] = value;
    this.el.querySelector(`[data-count="${name}"]`).textContent = value.toLocaleString();
  }

  tick() {
    const now = Date.now();
    while (this.arrivals.length && now - this.arrivals[0] > RATE_WINDOW_MS) this.arrivals.shift();
    const rate = this.arrivals.length / (RATE_WINDOW_MS / 1000);
    this.el.querySelector('[data-count="rate"]').textContent = rate.toFixed(1);
    if (this.lastEventAt) {
      const age = Math.round((now - this.lastEventAt) / 1000);
      this.freshness.textContent = `last event ${age} s ago`;
      this.freshness.classList.toggle("is-stale", age > 30);
    }
    const state = this.el.dataset.state;
    if (this.lastDropAt && now - this.lastDropAt >= DEGRADED_QUIET_MS) {
      this.lastDropAt = 0;
      if (!this.missed.length) this.warning.hidden = true;
      if (state === "degraded") this.setLive();
    }
    if (this.paused && state === "paused") this.setLive();
    if (this.connected() && this.socket && now - this.lastMessageAt > SILENCE_LIMIT_MS) {
      // No heartbeat for too long: the link is dead even if the socket has not noticed.
      const socket = this.socket;
      this.socket = null;
      socket.close();
      this.scheduleReconnect();
    }
  }
}

if (root) window.transactionsFeed = new TransactionsFeed(root);
