// The console's only script: CSRF for htmx, the dialog, and the colour toggle. No inline scripts (CSP).
(function () {
  "use strict";
  function token() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  }
  // Every htmx request carries the CSRF token, whatever the element (hx-headers is not inherited in htmx 4).
  document.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-CSRFToken"] = token();
  });
  // A server response may ask to open a dialog (HX-Trigger: {"open-dialog": url}).
  document.addEventListener("open-dialog", function (e) {
    var url = e.detail && (e.detail.value || e.detail);
    if (typeof url !== "string") return;
    htmx.ajax("GET", url, { target: "#modal-body", swap: "innerHTML" }).then(function () {
      var dialog = document.getElementById("modal");
      if (!dialog.open) dialog.showModal();
      // The dialog opens at its top (its title, what cannot be undone, what will be sent) with the focus on
      // the first decision; focusing that decision must not scroll the dialog down to it.
      var first = dialog.querySelector("[autofocus]") ||
        dialog.querySelector("input:not([type=hidden]), select, textarea, button, a[href]");
      if (first) first.focus({ preventScroll: true });
      dialog.scrollTop = 0;
    });
  });
  document.addEventListener("close-dialog", function () {
    var dialog = document.getElementById("modal");
    if (dialog && dialog.open) dialog.close();
  });
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t.matches(".colour-toggle")) {
      var item = document.getElementById(t.dataset.target);
      item.querySelectorAll(".grayscale, .in-colour").forEach(function (el) {
        el.classList.toggle("grayscale");
        el.classList.toggle("in-colour");
      });
    }
    // A link that opens its page in the dialog; without JavaScript it is an ordinary link to the full page.
    var opener = t.closest("a[data-open-dialog]");
    if (opener) {
      e.preventDefault();
      document.dispatchEvent(new CustomEvent("open-dialog", { detail: { value: opener.getAttribute("href") } }));
    }
    if (t.matches("[data-close-dialog]")) {
      e.preventDefault();
      document.getElementById("modal").close();
    }
  });
})();
