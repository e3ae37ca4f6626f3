// Publisher portal: the upload form says it is sending, and an upload's page carries on
// processing its rows a batch at a time, showing real progress, then shows the report.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (form) {
    form.addEventListener("submit", function () {
      var sending = document.getElementById("upload-sending");
      if (sending) { sending.hidden = false; }
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
    });
  }

  var box = document.getElementById("upload-progress");
  if (!box) { return; }
  var bar = document.getElementById("progress-bar");
  var text = document.getElementById("progress-text");
  var problem = document.getElementById("progress-error");
  box.querySelectorAll(".noscript-only").forEach(function (el) { el.hidden = true; });

  function fail(message) {
    problem.textContent = message;
    problem.hidden = false;
    box.querySelectorAll(".noscript-only").forEach(function (el) { el.hidden = false; });
  }

  function step() {
    fetch(box.dataset.processUrl, {
      method: "POST",
      headers: { "Accept": "application/json", "X-CSRFToken": box.dataset.csrf },
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) { throw new Error("The server answered " + response.status + "."); }
      return response.json();
    }).then(function (state) {
      bar.max = state.total;
      bar.value = state.processed;
      text.textContent = state.processed.toLocaleString() + " of " + state.total.toLocaleString() + " rows processed";
      if (state.done) {
        text.textContent += ". Done.";
        window.location.assign(state.report);
      } else {
        step();
      }
    }).catch(function (error) {
      fail("Processing stopped: " + error.message + " Press the button to carry on.");
    });
  }
  step();
})();
