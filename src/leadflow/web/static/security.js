// Security pages: small enhancements; every page works without them.
(function () {
  "use strict";

  // The privilege grid: a cell shows its level's colour as soon as another level is chosen.
  document.querySelectorAll("select[data-level-cell]").forEach(function (select) {
    select.addEventListener("change", function () {
      var cell = select.closest("td");
      if (!cell) {
        return;
      }
      cell.className = cell.className.replace(/\blevel-\d\b/, "level-" + select.value);
    });
  });
})();
