// Security pages: small enhancements; every page works without them.
(function () {
  "use strict";

  // The privilege grid: a cell shows its level's colour as soon as another level is chosen (and, when
  // this script runs, the level already chosen: one may have picked it before the page finished loading).
  function paint(select) {
    var cell = select.closest("td");
    if (cell) {
      cell.className = cell.className.replace(/\blevel-\d\b/, "level-" + select.value);
    }
  }
  document.querySelectorAll("select[data-level-cell]").forEach(function (select) {
    paint(select);
    select.addEventListener("change", function () {
      paint(select);
    });
  });
})();
