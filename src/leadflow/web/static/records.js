// leadflow: accounts, contacts and opportunities pages. Enhances links that open a confirmation page into
// a native <dialog>; without JavaScript the links lead to the same confirmation as a page.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-open-dialog"));
      if (dialog && typeof dialog.showModal === "function") {
        event.preventDefault();
        dialog.showModal();
        var first = dialog.querySelector("button, [href], input, select, textarea");
        if (first) { first.focus(); }
      }
      return;
    }
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      var owner = closer.closest("dialog");
      if (owner) { owner.close(); }
    }
  });

  // A refused form puts its message first: move the keyboard focus there so it is read out.
  document.addEventListener("DOMContentLoaded", function () {
    var alert = document.querySelector(".alert[role='alert'][tabindex='-1']");
    if (alert) { alert.focus(); }
  });
})();

// ==== timeline (leadflow.web.timeline): the quick-create dialogs ====
// A quick-create form the server refused comes back with its dialog marked data-reopen: open it again, with
// the keyboard on the first field the refusal names (or on the refusal itself). The shortcuts open their
// dialog through data-open-dialog above; without JavaScript they lead to the form's own page.
(function () {
  "use strict";

  function reopenRefused() {
    var dialog = document.querySelector("dialog.quick-create-dialog[data-reopen]");
    if (!dialog || typeof dialog.showModal !== "function") { return; }
    if (!dialog.open) { dialog.showModal(); }
    var target = dialog.querySelector("[aria-invalid='true']") || dialog.querySelector(".alert");
    if (target) {
      if (!target.hasAttribute("tabindex") && target.classList.contains("alert")) { target.setAttribute("tabindex", "-1"); }
      target.focus();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", reopenRefused);
  } else {
    reopenRefused();
  }
})();
// ==== end of the timeline block ====
