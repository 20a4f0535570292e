// The chaos panel: Ctrl+Shift+D (or the "Chaos" link) opens a modal dialog with the controls,
// loaded from the server each time it opens; Esc or Close shuts it and focus returns to where
// it was. Staff only: the page includes this script and the dialog only for them.

const dialog = document.getElementById("chaos-dialog");
const dialogBody = dialog && dialog.querySelector("[data-chaos-dialog-body]");
let opener = null;

async function loadPanel() {
  dialogBody.setAttribute("aria-busy", "true");
  try {
    const response = await fetch(dialog.dataset.panelUrl, { headers: { "HX-Request": "true" }, credentials: "same-origin", cache: "no-store" });
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    dialogBody.innerHTML = await response.text();
    if (window.htmx) window.htmx.process(dialogBody);
    if (window.payflowSections) window.payflowSections.mount(dialogBody);
  } catch (err) {
    dialogBody.innerHTML = "";
    const box = document.createElement("div");
    box.className = "banner banner-danger";
    box.setAttribute("role", "alert");
    box.textContent = `Could not load the chaos controls: ${err.message}. `;
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "button";
    retry.textContent = "Retry";
    retry.addEventListener("click", loadPanel);
    box.append(retry);
    dialogBody.append(box);
  } finally {
    dialogBody.removeAttribute("aria-busy");
  }
  const first = dialogBody.querySelector("button, input, select, textarea, a[href]");
  (first || dialog.querySelector("[data-chaos-close]")).focus();
}

function openPanel() {
  if (!dialog || dialog.open) return;
  opener = document.activeElement;
  dialog.showModal();
  dialog.querySelector("[data-chaos-close]").focus();
  loadPanel();
}

function closePanel() {
  if (dialog && dialog.open) dialog.close();
}

function togglePanel() {
  if (dialog && dialog.open) closePanel();
  else openPanel();
}

if (dialog) {
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey && event.shiftKey && !event.altKey && !event.metaKey && event.key.toLowerCase() === "d") {
      event.preventDefault();
      togglePanel();
    }
  });
  dialog.querySelector("[data-chaos-close]").addEventListener("click", closePanel);
  // Esc closes a modal <dialog> natively; either way focus goes back where it was.
  dialog.addEventListener("close", () => {
    // Drop the content (and its live process list) until the next opening reloads it.
    dialogBody.innerHTML = "<p>Loading the chaos controls…</p>";
    if (opener && opener.isConnected && typeof opener.focus === "function") opener.focus();
    opener = null;
  });
  // A preset or save swaps the panel; keep focus inside the dialog, on the new panel.
  dialog.addEventListener("htmx:afterSettle", () => {
    if (dialog.contains(document.activeElement) && document.activeElement !== document.body) return;
    const panel = dialog.querySelector("[data-chaos-panel]");
    if (panel) panel.focus();
  });
  // Delegated, so links that arrive later (a refreshed section) open the dialog too.
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("[data-chaos-open]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    openPanel();
  });
}

window.payflowChaos = { openPanel, closePanel, togglePanel };

export { openPanel, closePanel, togglePanel };
