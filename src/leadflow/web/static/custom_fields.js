// The custom field form: only the settings of the chosen kind are shown (and posted); the page works without it.
(function () {
  "use strict";
  var kind = document.querySelector("select[data-field-kind]");
  if (!kind) {
    return;
  }
  function apply() {
    document.querySelectorAll("[data-kinds]").forEach(function (group) {
      var shown = group.getAttribute("data-kinds").split(" ").indexOf(kind.value) !== -1;
      group.hidden = !shown;
      group.querySelectorAll("input, select, textarea").forEach(function (input) {
        input.disabled = !shown;
      });
    });
  }
  kind.addEventListener("change", apply);
  apply();
})();
