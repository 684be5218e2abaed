// Saved views: the filter builder's Add and Remove buttons. Without JavaScript the page offers empty
// rows instead, and a row left without a field is skipped.
(function () {
  "use strict";
  // A view is deleted only once its owner says so.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  var builder = document.querySelector("[data-filter-builder]");
  if (!builder) { return; }
  var list = builder.querySelector("ol");
  var addButton = builder.querySelector("[data-add-filter]");

  function rows() { return list.querySelectorAll("[data-filter-row]"); }

  function renumber() {
    rows().forEach(function (row, index) {
      row.querySelectorAll("select, input").forEach(function (control) {
        var id = control.id.replace(/-\d+$/, "-" + (index + 1));
        var label = row.querySelector('label[for="' + control.id + '"]');
        control.id = id;
        if (label) { label.htmlFor = id; }
      });
    });
  }

  function wire(row) {
    var remove = row.querySelector("[data-remove-filter]");
    remove.hidden = false;
    remove.addEventListener("click", function () {
      if (rows().length > 1) {
        row.remove();
      } else {
        row.querySelectorAll("select").forEach(function (s) { s.selectedIndex = 0; });
        row.querySelector("input").value = "";
      }
      renumber();
      addButton.focus();
    });
  }

  // Keep the typed rows and one empty row; the Add button brings more.
  var empty = Array.prototype.filter.call(rows(), function (row) { return !row.querySelector("select").value; });
  empty.slice(rows().length === empty.length ? 1 : 0).forEach(function (row) { row.remove(); });
  if (empty.length && rows().length === 0) { list.appendChild(empty[0]); }
  rows().forEach(wire);
  renumber();

  addButton.hidden = false;
  addButton.addEventListener("click", function () {
    var template = rows()[rows().length - 1];
    var copy = template.cloneNode(true);
    copy.querySelectorAll("select").forEach(function (s) { s.selectedIndex = 0; });
    copy.querySelector("input").value = "";
    list.appendChild(copy);
    wire(copy);
    renumber();
    copy.querySelector("select").focus();
  });
})();
