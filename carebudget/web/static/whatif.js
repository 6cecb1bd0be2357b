// A policy change's what-if: ask how far it has got, show it, and show the figures when done.
// A file of its own: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var section = document.getElementById("whatif-progress");
  if (!section) { return; }
  var url = section.getAttribute("data-poll");
  var state = document.getElementById("whatif-state");
  var bar = document.getElementById("whatif-bar");

  function show(progress) {
    if (progress.state === "done") {
      window.location.reload();  // the page now carries the saved figures
      return false;
    }
    if (progress.state === "failed") {
      state.textContent = progress.message;
      state.className = "error-message";
      if (bar) { bar.remove(); }
      return false;
    }
    if (progress.state === "deciding") {
      state.textContent = "Deciding every case under the rules in force and with this change: " +
        progress.done + " of " + progress.total + " cases.";
      if (bar) {
        bar.max = Math.max(progress.total, 1);
        bar.value = progress.done;
        bar.textContent = String(progress.done);
      }
    }
    return true;
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (progress) {
        if (show(progress)) { window.setTimeout(poll, 250); }
      })
      .catch(function () {
        state.textContent = "Progress cannot be read just now; reload the page to see the figures.";
      });
  }
  window.setTimeout(poll, 250);
})();
