// Payments pages.
// List: after an htmx filter or page change, point the live section's refresh at the new query
// so the next automatic refresh shows the same filtered page, not the old one.
// Detail: after an action the server confirmed, clear the reason (it belonged to that action)
// and mark the section fresh, since the swapped-in body was just read from the server.
import { sections } from "./sections.js";

function followLocation() {
  const el = document.querySelector('[data-section="payments-table"]');
  const section = el && sections.get(el);
  if (!section) return;
  const params = new URLSearchParams(window.location.search);
  params.set("partial", "results");
  section.url = `${window.location.pathname}?${params.toString()}`;
  el.dataset.refreshUrl = section.url;
  el.dataset.updatedAt = new Date().toISOString();
  section.tick();
}

function afterAction(event) {
  if (event.target.id !== "payment-detail-body") return;
  const el = event.target.closest(".live-section");
  if (el) {
    el.dataset.updatedAt = new Date().toISOString();
    const section = sections.get(el);
    if (section) section.tick();
  }
  if (event.target.querySelector("[data-action-error]")) return;
  const reason = document.getElementById("transition-reason");
  if (reason) reason.value = "";
}

document.addEventListener("htmx:pushedIntoHistory", followLocation);
document.addEventListener("htmx:afterSwap", afterAction);
window.addEventListener("popstate", () => window.location.reload());
