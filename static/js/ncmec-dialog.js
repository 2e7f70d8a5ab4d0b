// Keys of the "Report to NCMEC" dialog only (templates/reporting/_dialog.html); loaded by the pages that open
// it. No inline scripts (CSP). Within the dialog, outside text fields:
//   1–4  classify the focused file A1, A2, B1, B2 (0 clears it)
//   E    toggle "Escalate to high priority" (checking it moves to the reason, which is required)
(function () {
  "use strict";
  var CLASSES = { "1": "A1", "2": "A2", "3": "B1", "4": "B2", "0": "" };

  function typing(el) {
    if (!el) return false;
    if (el.tagName === "TEXTAREA" || el.isContentEditable) return true;
    return el.tagName === "INPUT" && !/^(checkbox|radio|button|submit|reset)$/i.test(el.type);
  }

  function changed(el) {
    // htmx refreshes the exact preview on "change"; a key sets the value as a click would.
    el.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("keydown", function (e) {
    var dialog = document.getElementById("ncmec-dialog");
    if (!dialog || !dialog.contains(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(e.target)) return;
    var item = e.target.closest(".ncmec-file[data-classification]");
    if (item && Object.prototype.hasOwnProperty.call(CLASSES, e.key)) {
      var select = document.getElementById(item.dataset.classification);
      if (!select) return;
      e.preventDefault();
      select.value = CLASSES[e.key];
      changed(select);
      return;
    }
    if (e.key === "e" || e.key === "E") {
      var box = document.getElementById("escalate");
      if (!box) return;
      e.preventDefault();
      box.checked = !box.checked;
      changed(box);
      if (box.checked) {
        var reason = document.getElementById("escalation-reason");
        if (reason) reason.focus();
      }
    }
  }, true);
})();
