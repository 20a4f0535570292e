// Finding things from any page: copy buttons on ids and references ([data-copy]), and the
// shell's search box ("/" focuses it; results grouped by kind; Enter opens the best match).

document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
  if (!button) return;
  const value = button.dataset.copy;
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(value);
    button.textContent = "Copied";
  } catch {
    // No clipboard permission (http, old browser): select the text so Ctrl+C works.
    const range = document.createRange();
    const code = button.previousElementSibling || button;
    range.selectNodeContents(code);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    button.textContent = "Selected: press Ctrl+C";
  }
  setTimeout(() => {
    button.textContent = label;
  }, 1500);
});
