// vigil's one script, a progressive enhancement: pages read and forms
// submit without it. A false alarm cannot be business-impacting, so the
// checkbox is cleared and disabled while "false alarm" is chosen.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form.classify").forEach(function (form) {
    var impact = form.querySelector("input[name=business_impacting]");
    if (!impact) return;
    function sync() {
      var v = form.querySelector("input[name=verdict]:checked");
      var falseAlarm = v && v.value === "false_alarm";
      if (falseAlarm) impact.checked = false;
      impact.disabled = falseAlarm;
    }
    form.querySelectorAll("input[name=verdict]").forEach(function (r) { r.addEventListener("change", sync); });
    sync();
  });
});
