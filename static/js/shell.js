// Shell behaviour shared by every page: the offline banner.
const banner = document.getElementById("offline-banner");

function showOffline(offline) {
  if (banner) banner.hidden = !offline;
  document.body.classList.toggle("is-offline", offline);
}

window.addEventListener("offline", () => showOffline(true));
window.addEventListener("online", () => showOffline(false));
if (!navigator.onLine) showOffline(true);

export { showOffline };
