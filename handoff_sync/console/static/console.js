// The console's own few behaviours, from this file because the Content-Security-Policy
// refuses inline handlers (onclick=...). A button with data-dismiss="SELECTOR" removes
// its closest SELECTOR (a Cancel that closes a preview panel without asking the server).
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element && event.target.closest("[data-dismiss]");
  if (button) {
    const target = button.closest(button.dataset.dismiss);
    if (target) target.remove();
  }
});
