// Administration pages: small enhancements; every page works without them.
(function () {
  "use strict";

  // A select marked data-autosubmit sends its (GET) form when it changes: the rule form's tables.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.form) {
        select.form.requestSubmit();
      }
    });
  });

  // Buttons that destroy or undo something ask first.
  document.querySelectorAll("[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });

  // A condition's N and threshold only apply to some criteria: the others are switched off.
  var TAKES = {
    n: ["same_first_characters", "same_last_characters"],
    threshold: ["similar"]
  };
  function applyCriterion(select) {
    var row = select.closest("tr");
    if (!row) {
      return;
    }
    row.querySelectorAll("[data-takes]").forEach(function (input) {
      var applies = TAKES[input.getAttribute("data-takes")].indexOf(select.value) !== -1;
      input.disabled = !applies;
      if (!applies) {
        input.value = "";
      }
    });
  }
  document.querySelectorAll("select[data-criterion]").forEach(function (select) {
    applyCriterion(select);
    select.addEventListener("change", function () {
      applyCriterion(select);
    });
  });

  // Merge: choose every field's value from one record at once.
  document.querySelectorAll("button[data-choose-all]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var side = button.getAttribute("data-choose-all");
      var form = button.form || document;
      form.querySelectorAll('input[type="radio"][value="' + side + '"][data-field-choice]').forEach(function (radio) {
        radio.checked = true;
      });
    });
  });
})();
