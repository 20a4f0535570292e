// Payouts: a live countdown to the end of the expected settlement day (the bank's time zone).
//
// Markup: <span data-countdown data-deadline="2026-03-05T00:00:00-05:00" data-confirmed="false">.
// The summary section is re-rendered by live refreshes and htmx, so each tick looks the elements
// up again instead of binding once.

function parts(ms) {
  const total = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return `${days ? `${days} d ` : ""}${pad(hours)} h ${pad(minutes)} min ${pad(seconds)} s`;
}

function tick() {
  for (const el of document.querySelectorAll("[data-countdown]")) {
    if (el.dataset.confirmed === "true") continue;
    const deadline = Date.parse(el.dataset.deadline || "");
    if (Number.isNaN(deadline)) continue;
    const left = deadline - Date.now();
    el.classList.toggle("is-overdue", left <= 0);
    el.textContent = left > 0
      ? `${parts(left)} left until the end of the expected settlement day`
      : `Overdue by ${parts(left)}: the bank has not confirmed settlement`;
  }
}

tick();
setInterval(tick, 1000);
