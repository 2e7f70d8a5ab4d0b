// Safer viewing (console/childsafety/viewing.py): each person's blur strength, re-blur after N seconds or when
// the pointer and focus leave a revealed file, a video's poster blurred until it plays, and the break screen's
// timer. Preferences come as data attributes; nothing is inline (CSP). Without JavaScript the server-side
// defaults still hold: nothing loads before a recorded reveal, previews are blurred, grayscale, muted, paused.
(function () {
  "use strict";

  function reblur(item) {
    if (!item.classList.contains("revealed") || item.classList.contains("reblurred")) return;
    item.classList.add("reblurred");
    item.querySelectorAll("video, audio").forEach(function (m) { m.pause(); });
  }

  function watch(item) {
    if (item.dataset.watched) return;
    item.dataset.watched = "1";
    var list = item.closest("[data-viewing]");
    if (!list) return;
    var seconds = parseInt(list.dataset.reblurSeconds, 10) || 0;
    item.querySelectorAll("video").forEach(function (video) {
      if (video.paused && !video.autoplay) video.classList.add("unplayed");
      video.addEventListener("play", function () { video.classList.remove("unplayed"); });
    });
    if (seconds > 0) setTimeout(function () { reblur(item); }, seconds * 1000);
    if (list.dataset.reblurOnLeave === "1") {
      item.addEventListener("mouseleave", function () {
        if (!item.contains(document.activeElement)) reblur(item);
      });
      item.addEventListener("focusout", function (e) {
        if (!item.contains(e.relatedTarget) && !item.matches(":hover")) reblur(item);
      });
    }
  }

  function countdown(el) {
    if (el.dataset.counting) return;
    el.dataset.counting = "1";
    var ends = Date.parse(el.dataset.ends);
    var after = document.querySelectorAll("[data-after-break]");
    after.forEach(function (a) { a.hidden = true; });
    function tick() {
      var left = Math.max(0, Math.round((ends - Date.now()) / 1000));
      if (left === 0) {
        el.textContent = "Your break is over.";
        after.forEach(function (a) { a.hidden = false; });
        return;
      }
      var s = left % 60;
      el.textContent = Math.floor(left / 60) + ":" + (s < 10 ? "0" : "") + s + " left";
      setTimeout(tick, 1000);
    }
    tick();
  }

  function within(root, selector) {
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) found.unshift(root);
    return found;
  }

  function apply(root) {
    within(root, "[data-viewing]").forEach(function (list) {
      list.style.setProperty("--blur", (parseInt(list.dataset.blur, 10) || 14) + "px");
    });
    within(root, ".media-item.revealed").forEach(watch);
    within(root, "[data-countdown]").forEach(countdown);
  }

  document.addEventListener("DOMContentLoaded", function () { apply(document); });
  // A revealed file swapped in by htmx (the reveal's answer) is watched from the moment it appears.
  document.addEventListener("htmx:load", function (e) { apply(e.detail.elt); });
})();
