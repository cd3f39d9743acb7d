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

// The wins form's format checks as you type: after a pause, the draft goes
// to POST /wins/check (the same checks as on save; nothing is stored) and
// the advice shows under the form. Without this script the checks show
// after the entry is added.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("win-form");
  var out = document.getElementById("win-checks");
  if (!form || !out || !window.fetch) return;
  var timer = null, seq = 0;
  function show(warnings) {
    out.textContent = "";
    if (!warnings.length) return;
    var h = document.createElement("p");
    h.textContent = "Format checks:";
    out.appendChild(h);
    var ul = document.createElement("ul");
    warnings.forEach(function (w) {
      var li = document.createElement("li");
      li.className = "warn";
      li.setAttribute("data-rule", w.rule);
      li.textContent = w.text; // text, never HTML
      ul.appendChild(li);
    });
    out.appendChild(ul);
  }
  function check() {
    var mine = ++seq;
    fetch(form.getAttribute("data-check"), {
      method: "POST", credentials: "same-origin",
      body: new URLSearchParams(new FormData(form))
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) { if (j && mine === seq) show(j.warnings || []); })
      .catch(function () {});
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  });
});
