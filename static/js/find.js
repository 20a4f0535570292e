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

// --- the shell's search box ---
const form = document.querySelector("[data-shell-search]");
if (form) {
  const input = form.querySelector("input[name=q]");
  const panel = form.querySelector("[data-shell-results]");
  let timer = null;
  let controller = null;
  let bestUrl = null;

  const close = () => {
    panel.hidden = true;
    input.setAttribute("aria-expanded", "false");
  };

  const run = async () => {
    const q = input.value.trim();
    if (!q) {
      bestUrl = null;
      panel.replaceChildren();
      return close();
    }
    controller?.abort();
    controller = new AbortController();
    try {
      const response = await fetch(`/search?partial=dropdown&q=${encodeURIComponent(q)}`, {
        signal: controller.signal,
        headers: { Accept: "text/html" },
      });
      if (!response.ok) throw new Error(String(response.status));
      const html = await response.text();
      const doc = new DOMParser().parseFromString(html, "text/html");
      const results = doc.querySelector("[data-search-results]");
      if (!results) throw new Error("no results");
      bestUrl = results.dataset.bestUrl || null;
      panel.replaceChildren(results);
      panel.hidden = false;
      input.setAttribute("aria-expanded", "true");
    } catch (error) {
      if (error.name === "AbortError") return;
      const p = document.createElement("p");
      p.className = "hint";
      p.textContent = "Search is unavailable right now; press Enter to try the full search page.";
      panel.replaceChildren(p);
      panel.hidden = false;
    }
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(run, 180);
  });
  form.addEventListener("submit", (event) => {
    if (bestUrl && input.value.trim()) {
      event.preventDefault();
      window.location.assign(bestUrl);
    }
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      close();
      input.blur();
    } else if (event.key === "ArrowDown" && !panel.hidden) {
      event.preventDefault();
      panel.querySelector("a")?.focus();
    }
  });
  panel.addEventListener("keydown", (event) => {
    const links = [...panel.querySelectorAll("a")];
    const index = links.indexOf(document.activeElement);
    if (event.key === "ArrowDown") {
      event.preventDefault();
      links[Math.min(links.length - 1, index + 1)]?.focus();
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      if (index <= 0) input.focus();
      else links[index - 1].focus();
    } else if (event.key === "Escape") {
      close();
      input.focus();
    }
  });
  document.addEventListener("click", (event) => {
    if (!form.contains(event.target)) close();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    const typing =
      target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
    if (typing) return;
    event.preventDefault();
    input.focus();
    input.select();
  });
}
