// The console's few behaviours, loaded from the service itself (no inline script):
// copy buttons, confirmation of destructive forms, and the print button.
"use strict";
document.addEventListener("click", (event) => {
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const text = document.getElementById(copy.dataset.copy).textContent.trim();
    navigator.clipboard.writeText(text).then(() => { copy.textContent = copy.dataset.copied || "Copied"; });
  }
  if (event.target.closest("[data-print]")) window.print();
});
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
