// Jobs: a page showing a job that is queued or running follows its progress without reloading. It asks
// the job's progress (the address in data-job-progress) every two seconds, updates the bar, the figures
// and the state, and stops asking once the job has finished: then it loads the page once more, which
// shows what the job came to (and, the job being finished, asks nothing more). Every page works
// without this file: its Refresh link shows the same.
(function () {
  "use strict";

  var box = document.querySelector("[data-job-progress]");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-job-progress");
  var every = parseInt(box.getAttribute("data-job-every"), 10) || 2000;
  var bar = box.querySelector("[data-job-bar]");
  var text = box.querySelector("[data-job-text]");
  var failures = 0;

  function show(job) {
    if (bar) {
      if (job.fraction === null) {
        bar.removeAttribute("value");  // indeterminate: nothing to measure against yet
      } else {
        bar.max = job.total > 0 ? job.total : 1;
        bar.value = job.total > 0 ? Math.min(job.done, job.total) : (job.fraction === 1 ? 1 : 0);
      }
      bar.textContent = job.text;
    }
    if (text) {
      text.textContent = job.text;
    }
    document.querySelectorAll("[data-job-badge]").forEach(function (badge) {
      badge.textContent = job.state_label;
      badge.className = "badge" + (job.badge ? " " + job.badge : "");
    });
    document.querySelectorAll("[data-job-state]").forEach(function (state) {
      state.textContent = job.state_label;
    });
  }

  function later() {
    window.setTimeout(ask, every);
  }

  function ask() {
    if (document.hidden) {  // a tab in the background asks again once it is shown
      document.addEventListener("visibilitychange", ask, { once: true });
      return;
    }
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (job) {
        failures = 0;
        show(job);
        if (job.finished) {
          window.location.reload();
        } else {
          later();
        }
      })
      .catch(function () {
        // Signed out, the job gone, the server away: try a few more times, then leave the page as it is.
        failures += 1;
        if (failures < 3) {
          later();
        }
      });
  }

  later();
})();
