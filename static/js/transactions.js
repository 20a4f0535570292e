// Transactions page: the live feed over WebSocket (SSE when WebSockets are unavailable).
//
// Honest about loss: the server tells us what it dropped (`dropped`), what is beyond its replay
// window (`gap`); we count what we drop ourselves while paused. On reconnect we resume from the
// last id we saw, so missed events are filled in from the server's table. Wire format: SPEC §5.

const root = document.getElementById("tx-stream");

const BACKOFF_BASE_S = 1;
const BACKOFF_CAP_S = 30;
const RATE_WINDOW_MS = 5000;
const SILENCE_LIMIT_MS = 45000; // heartbeats come every 15 s; three missed means a dead link
const CLOSE_NO_RETRY = { 4400: "invalid filter", 4401: "not logged in", 4403: "not allowed" };

const STATUS_BADGES = {
  ok: ["authorized", "captured", "refunded", "paid", "charged", "succeeded", "settled"],
  danger: ["declined", "failed", "returned", "canceled", "reversed"],
  warn: ["requires_action", "partially_settled", "disputed"],
  info: ["pending", "processing", "submitted", "in_transit"],
};

function badgeClass(status) {
  for (const [tone, statuses] of Object.entries(STATUS_BADGES)) {
    if (statuses.includes(status)) return `badge badge-${tone}`;
  }
  return "badge badge-muted";
}

const formatters = new Map();
function formatAmount(minor, currency) {
  let fmt = formatters.get(currency);
  if (!fmt) {
    try {
      fmt = new Intl.NumberFormat(undefined, { style: "currency", currency });
    } catch {
      fmt = null;
    }
    formatters.set(currency, fmt);
  }
  if (!fmt) return `${minor} ${currency}`;
  const digits = fmt.resolvedOptions().maximumFractionDigits;
  return fmt.format(Number(minor) / 10 ** digits);
}

function kindLabel(kind) {
  return kind.charAt(0).toUpperCase() + kind.slice(1);
}

function timeLabel(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString([], { hour12: false });
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

    this.rows.querySelectorAll("tr[data-id]").forEach((row) => this.decorate(row));
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

  streamUrl(kind) {
    const params = new URLSearchParams(this.query);
    params.delete("since");
    if (this.lastId) params.set("since", String(this.lastId));
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
    socket.addEventListener("open", () => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      this.lastMessageAt = Date.now();
      this.setState("live", "Live");
    });
    socket.addEventListener("message", (message) => {
      if (this.socket === socket) this.handle(JSON.parse(message.data));
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
    source.onopen = () => {
      this.attempt = 0;
      this.setState("live", "Live");
    };
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
        return this.warn(
          `the server dropped ${message.count} events (ids ${message.first_id}–${message.last_id}) because this page fell behind the feed.`,
        );
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
        this.warn(message.message || "the server closed the stream.");
        return;
      default:
        return;
    }
  }

  receive(events) {
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
    const cells = [
      String(event.id),
      timeLabel(event.created_at),
      kindLabel(event.kind),
      event.merchant,
      formatAmount(event.amount, event.currency),
    ];
    cells.forEach((text, index) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (index === 0 || index === 4) td.className = "num";
      tr.appendChild(td);
    });
    const statusCell = document.createElement("td");
    const badge = document.createElement("span");
    badge.className = badgeClass(event.status);
    badge.textContent = event.status;
    statusCell.appendChild(badge);
    tr.appendChild(statusCell);
    return tr;
  }

  decorate(row) {
    const amount = row.querySelector("[data-amount]");
    if (amount) amount.textContent = formatAmount(amount.dataset.amount, amount.dataset.currency);
    const badge = row.querySelector(".badge");
    if (badge) badge.className = badgeClass(badge.textContent.trim());
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
    if (state === "live" && this.socket && now - this.lastMessageAt > SILENCE_LIMIT_MS) {
      // No heartbeat for too long: the link is dead even if the socket has not noticed.
      const socket = this.socket;
      this.socket = null;
      socket.close();
      this.scheduleReconnect();
    }
  }
}

if (root) window.transactionsFeed = new TransactionsFeed(root);
