// The Leads area's enhancements. Every page works without this file: forms post and the server
// answers with the next page. With it: dialogs open in place, the list's select-all works, the
// qualify buttons show "Processing..." while the server works, files too large are refused before
// uploading, and the account/contact lookups can be searched.
(function () {
  "use strict";

  // ------------------------------------------------------------------ dialogs
  function dialogInputs(dialog) {
    return dialog.querySelectorAll("input[form], select[form], textarea[form]");
  }

  function openDialog(dialog) {
    // Inputs that belong to a form outside the dialog are disabled until the dialog is open, so that
    // saving the lead never sends the dialog's answers.
    dialogInputs(dialog).forEach(function (input) { input.disabled = false; });
    if (typeof dialog.showModal === "function") {
      dialog.showModal();
    } else {
      dialog.setAttribute("open", "");
    }
    var first = dialog.querySelector("input:not([type=hidden]):not([disabled]), select, textarea, button");
    if (first) { first.focus(); }
  }

  function closeDialog(dialog) {
    if (typeof dialog.close === "function") { dialog.close(); } else { dialog.removeAttribute("open"); }
  }

  document.querySelectorAll("dialog").forEach(function (dialog) {
    dialog.addEventListener("close", function () {
      dialogInputs(dialog).forEach(function (input) { input.disabled = true; });
    });
  });

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-dialog"));
      if (dialog) {
        event.preventDefault();
        openDialog(dialog);
        return;
      }
    }
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      var parent = closer.closest("dialog");
      if (parent) { closeDialog(parent); }
    }
  });

  // Links drawn as buttons answer the Space key like buttons do.
  document.addEventListener("keydown", function (event) {
    var link = event.target.closest && event.target.closest("a[role=button]");
    if (link && (event.key === " " || event.key === "Spacebar")) {
      event.preventDefault();
      link.click();
    }
  });

  // ------------------------------------------------------------------ "Processing..."
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    if (form.dataset.submitting === "1") {  // one click, one request
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "1";
    if (button && button.dataset.processingText) {
      var text = button.dataset.processingText;
      button.dataset.idleText = button.textContent;
      // Disabled after the browser has taken the button's value into the form data.
      window.setTimeout(function () {
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
        button.textContent = text;
        var status = document.getElementById("command-status");
        if (status) { status.textContent = text; }
      }, 0);
    }
  });
  // A page restored from the back/forward cache may be submitted again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitting]").forEach(function (form) { delete form.dataset.submitting; });
    document.querySelectorAll("button[data-idle-text]").forEach(function (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.textContent = button.dataset.idleText;
      delete button.dataset.idleText;
    });
  });

  // ------------------------------------------------------------------ the lead list
  document.querySelectorAll("[data-autosubmit]").forEach(function (choice) {
    choice.addEventListener("change", function () { choice.form.submit(); });
  });

  var bulkForm = document.getElementById("bulk-form");
  if (bulkForm) {
    var selectAll = document.getElementById("select-all");
    var boxes = function () { return bulkForm.querySelectorAll("input[name=lead_id]"); };
    var count = document.getElementById("selection-count");
    var refresh = function () {
      var all = boxes();
      var checked = Array.prototype.filter.call(all, function (box) { return box.checked; }).length;
      if (selectAll) {
        selectAll.checked = all.length > 0 && checked === all.length;
        selectAll.indeterminate = checked > 0 && checked < all.length;
      }
      bulkForm.querySelectorAll("[data-needs-selection]").forEach(function (button) {
        button.setAttribute("aria-disabled", checked === 0 ? "true" : "false");
      });
      if (count) { count.textContent = checked ? count.dataset.template.replace("{count}", checked) : ""; }
    };
    if (count) { count.dataset.template = bulkForm.dataset.selectedText || "{count}"; }
    if (selectAll) {
      selectAll.hidden = false;
      selectAll.addEventListener("change", function () {
        boxes().forEach(function (box) { box.checked = selectAll.checked; });
        refresh();
      });
    }
    bulkForm.addEventListener("change", refresh);
    bulkForm.addEventListener("click", function (event) {
      var button = event.target.closest("[data-needs-selection]");
      if (button && button.getAttribute("aria-disabled") === "true") {
        event.preventDefault();  // the server would say the same: select at least one lead
      }
    });
    refresh();
  }

  // ------------------------------------------------------------------ attachments
  var noteForm = document.getElementById("note-form");
  if (noteForm) {
    noteForm.addEventListener("submit", function (event) {
      var input = document.getElementById("note-file");
      var limit = parseInt(noteForm.dataset.maxBytes, 10);
      if (input && input.files && input.files.length && limit && input.files[0].size > limit) {
        event.preventDefault();
        delete noteForm.dataset.submitting;
        var message = document.getElementById("note-error");
        if (!message) {
          message = document.createElement("p");
          message.id = "note-error";
          message.className = "field-error";
          message.setAttribute("role", "alert");
          noteForm.insertBefore(message, noteForm.querySelector(".field"));
        }
        message.textContent = noteForm.dataset.tooLarge;
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
    });
  }

  // ------------------------------------------------------------------ account / contact lookups
  document.querySelectorAll("select[data-lookup]").forEach(function (select) {
    if (select.disabled && !select.hasAttribute("form")) { return; }
    var search = document.createElement("input");
    search.type = "search";
    search.id = select.id + "-search";
    search.className = "lookup-search";
    search.setAttribute("aria-label", select.dataset.searchLabel || "Search");
    search.placeholder = (select.dataset.searchLabel || "Search") + "…";
    search.setAttribute("aria-controls", select.id);
    search.disabled = select.disabled;
    select.parentNode.insertBefore(search, select);
    new MutationObserver(function () { search.disabled = select.disabled; })
      .observe(select, { attributes: true, attributeFilter: ["disabled"] });
    var timer = null;
    search.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var url = select.dataset.lookup + "?q=" + encodeURIComponent(search.value);
        fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (response) { return response.ok ? response.json() : []; })
          .then(function (options) {
            var chosen = select.value;
            var keep = select.querySelector("option[value='']");
            var current = chosen ? select.querySelector("option:checked") : null;
            select.textContent = "";
            if (keep) { select.appendChild(keep); }
            if (current && !options.some(function (o) { return o.value === chosen; })) { select.appendChild(current); }
            options.forEach(function (option) {
              var element = document.createElement("option");
              element.value = option.value;
              element.textContent = option.label;
              select.appendChild(element);
            });
            select.value = chosen;
          })
          .catch(function () { /* the select keeps its options */ });
      }, 250);
    });
  });
})();
