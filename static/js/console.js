// The console's script: CSRF for htmx, the dialog, the colour toggle, the reviewer's keys and claims. No inline
// scripts (CSP).
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
  // A form that opens its result in the dialog (a GET: the reported user's "Report selected to NCMEC");
  // without JavaScript it submits as an ordinary form to the full page.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches("form[data-open-dialog]")) return;
    e.preventDefault();
    var query = new URLSearchParams(new FormData(form)).toString();
    var url = form.getAttribute("action") + (query ? "?" + query : "");
    document.dispatchEvent(new CustomEvent("open-dialog", { detail: { value: url } }));
  });
  // The colour toggle says what pressing it will do, and whether the file is in colour (aria-pressed).
  function colourToggleSays(button) {
    var item = document.getElementById(button.dataset.target);
    var inColour = !!(item && item.querySelector(".in-colour"));
    button.setAttribute("aria-pressed", inColour ? "true" : "false");
    button.textContent = inColour ? "Show in grayscale" : "Show in colour";
  }
  // Every time a person reads (console/webutil.py `when`): in the reader's own time zone, UTC in its
  // tooltip. Without JavaScript the page shows the UTC time.
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function zoneName(d) {
    try {
      var parts = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(d);
      for (var i = 0; i < parts.length; i++) if (parts[i].type === "timeZoneName") return parts[i].value;
    } catch (err) { /* an old browser: the time without its zone's name */ }
    return "";
  }
  function localTimes(root) {
    if (!root || !root.querySelectorAll) return;
    var found = root.matches && root.matches("time[data-local]") ? [root] : [];
    found = found.concat(Array.prototype.slice.call(root.querySelectorAll("time[data-local]")));
    found.forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d.getTime())) return;
      var zone = zoneName(d);
      el.textContent = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
        pad(d.getHours()) + ":" + pad(d.getMinutes()) + (zone ? " " + zone : "");
    });
    root.querySelectorAll(".colour-toggle").forEach(colourToggleSays);
  }
  document.addEventListener("DOMContentLoaded", function () { localTimes(document.body); });
  document.addEventListener("htmx:load", function (e) { localTimes(e.detail && e.detail.elt); });
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t.matches(".colour-toggle")) {
      var item = document.getElementById(t.dataset.target);
      item.querySelectorAll(".grayscale, .in-colour").forEach(function (el) {
        el.classList.toggle("grayscale");
        el.classList.toggle("in-colour");
      });
      colourToggleSays(t);
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

// The reviewer's keys (templates/_keys.html lists them) and the claim a case page holds. Keys act only
// outside text fields and while no dialog is open (the NCMEC dialog has its own, static/js/ncmec-dialog.js).
// A key only moves the focus or presses a button the page shows anyway: deciding is the same POST as a
// click, and a confirmed child-safety violation opens the NCMEC dialog from the server's answer — no key
// files anything. Everything here also works with the mouse, and the page without JavaScript.
(function () {
  "use strict";
  var pendingFocus = null; // the id of a file whose reveal is being swapped in: focus it again after

  function typing(el) {
    if (!el || el === document.body) return false;
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    return el.tagName === "INPUT" && !/^(checkbox|radio|button|submit|reset|hidden)$/i.test(el.type);
  }
  function visible(el) { return !!el && el.offsetParent !== null; }
  function focus(el) {
    if (!el) return false;
    if (!el.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA|SUMMARY)$/.test(el.tagName)) {
      el.setAttribute("tabindex", "-1");
    }
    el.focus();
    el.scrollIntoView({ block: "nearest" });
    return true;
  }
  function press(selector) {
    var el = document.querySelector(selector);
    if (!visible(el)) return false;
    el.click();
    return true;
  }

  // Files: one focused at a time; "r" reveals only the focused one.
  function files() { return Array.prototype.slice.call(document.querySelectorAll(".media-item")); }
  function focusedFile() {
    var a = document.activeElement;
    return a && a.closest ? a.closest(".media-item") : null;
  }
  function moveFile(step) {
    var list = files();
    if (!list.length) return false;
    var i = list.indexOf(focusedFile());
    var next = i < 0 ? (step > 0 ? 0 : list.length - 1) : (i + step + list.length) % list.length;
    return focus(list[next]);
  }
  function reveal() {
    var item = focusedFile();
    if (!item) return focus(document.querySelector(".media-item.hidden") || files()[0]);
    var buttons = item.querySelectorAll("button.reveal");
    for (var i = 0; i < buttons.length; i++) {
      if (visible(buttons[i])) {
        pendingFocus = item.id;
        buttons[i].click();
        return true;
      }
    }
    return false;
  }
  function toggleColour() {
    var item = focusedFile();
    var toggle = item && item.querySelector(".colour-toggle");
    if (!visible(toggle)) return false;
    toggle.click();
    return true;
  }

  // Lists: j and k move through the case links of the table.
  function moveRow(step) {
    var links = Array.prototype.slice.call(document.querySelectorAll("[data-row-link]"));
    if (!links.length) return false;
    var i = links.indexOf(document.activeElement);
    var next = i < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(Math.max(i + step, 0), links.length - 1);
    return focus(links[next]);
  }

  function escalate() {
    var box = document.getElementById("escalate-box");
    if (!box || box.tagName !== "DETAILS") return false;
    box.open = true;
    return focus(document.getElementById("escalate-queue"));
  }
  function help() {
    var dialog = document.getElementById("keys-help");
    if (!dialog) return false;
    dialog.showModal();
    return true;
  }

  var KEYS = {
    n: function () { return press('[data-key="next"]'); },
    p: function () { return press('[data-key="previous"]'); },
    j: function () { return moveRow(1); },
    k: function () { return moveRow(-1); },
    f: function () { return moveFile(1); },
    F: function () { return moveFile(-1); },
    r: reveal,
    g: toggleColour,
    c: function () { return focus(document.getElementById("policy-picker")); },
    x: function () { return focus(document.querySelector('button[name="verdict"][value="no_violation"]')); },
    e: escalate,
    "?": help
  };

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (document.querySelector("dialog[open]")) return;
    var t = e.target;
    // In the policy picker, Enter confirms the chosen policy (a select alone never submits its form).
    if (e.key === "Enter" && t && t.id === "policy-picker") {
      if (press('button[name="verdict"][value="violation"]')) e.preventDefault();
      return;
    }
    if (typing(t) || !Object.prototype.hasOwnProperty.call(KEYS, e.key)) return;
    if (KEYS[e.key]()) e.preventDefault();
  });

  // Swapped-in content (htmx:load fires on it in the page; the element that asked was replaced with it).
  document.addEventListener("htmx:load", function (e) {
    var elt = e.detail && e.detail.elt;
    if (!elt || !elt.id) return;
    if (pendingFocus && elt.id === pendingFocus) {
      pendingFocus = null;
      focus(elt);
    }
    // After a decision, on to the next case; after a refusal, back to the form that says why.
    if (elt.id === "decision-and-history") {
      if (elt.querySelector("#decision .notice")) focus(document.querySelector('[data-key="next"]'));
      else if (elt.querySelector("#decision .error")) focus(document.getElementById("policy-picker"));
    }
  });

  // Leaving the page gives its claim back (with the draft note), so that colleagues need not wait for the
  // lease to run out. The claim's token names this page: a reload's new claim is never released by it.
  window.addEventListener("pagehide", function () {
    var form = document.querySelector("form[data-release-on-leave]");
    if (!form || !navigator.sendBeacon) return;
    var data = new FormData(form);
    var note = document.getElementById("note");
    if (note) data.set("note", note.value);
    navigator.sendBeacon(form.dataset.releaseOnLeave, data);
  });

  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("[data-open-keys]")) help();
  });
})();
