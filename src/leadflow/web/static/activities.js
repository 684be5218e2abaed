// Activity pages: small enhancements; every page works without them.
(function () {
  "use strict";

  // The calendar feed's address: a button copies it (the field stays selectable by hand).
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy-target"));
    var status = document.getElementById(button.getAttribute("data-copy-status"));
    if (!field) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      field.select();
      var done = function () {
        if (status) {
          status.textContent = button.getAttribute("data-copied");
        }
      };
      // The address stays selected: where the browser refuses to copy, Ctrl+C (or Cmd+C) does it.
      var copyBySelection = function () {
        if (document.execCommand("copy")) {
          done();
        }
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, copyBySelection);
      } else {
        copyBySelection();
      }
    });
  });
})();
