// The decision form's platform actions follow the policy being chosen (console/webhooks/views.py,
// decision_actions). Without JavaScript the form shows the case's current policy's actions.
(function () {
  document.addEventListener("change", function (e) {
    var picker = e.target;
    if (!picker || picker.id !== "policy-picker" || typeof htmx === "undefined") return;
    var box = document.getElementById("platform-actions");
    if (!box || !box.dataset.url) return;
    htmx.ajax("GET", box.dataset.url + "?policy=" + encodeURIComponent(picker.value || ""), {
      target: "#platform-actions",
      swap: "outerHTML",
    });
  });
})();
