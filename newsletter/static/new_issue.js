/* "New issue": show only the fields of the chosen option (posts I choose, or everything
   since a date). Without this script both sets show and the server reads the chosen one. */
(function () {
  "use strict";
  var radios = document.querySelectorAll('input[name="source"]');
  var panels = document.querySelectorAll("[data-source-panel]");
  if (!radios.length || !panels.length) return;
  function show() {
    var chosen = document.querySelector('input[name="source"]:checked');
    var value = chosen ? chosen.value : "posts";
    panels.forEach(function (panel) {
      var on = panel.getAttribute("data-source-panel") === value;
      panel.hidden = !on;
      panel.disabled = !on; // a hidden choice is not sent either
    });
  }
  radios.forEach(function (radio) { radio.addEventListener("change", show); });
  show();
})();
