/* Cooperative bulk import. Upload page: refuse a file over the size limit
   before it is sent. Progress page: poll the job's status and move the bar
   without reloading; reload once the job has finished (to list bad rows).
   Both pages work without this script (server checks; <noscript> refresh). */
(function () {
  "use strict";

  var input = document.querySelector("input[type=file][data-max-bytes]");
  if (input) {
    input.addEventListener("change", function () {
      var max = Number(input.getAttribute("data-max-bytes"));
      var file = input.files && input.files[0];
      var message = "";
      if (file && max && file.size > max) {
        message = input.getAttribute("data-too-large")
          .replace("{size}", (file.size / 1048576).toFixed(1));
      }
      input.setCustomValidity(message);
      var out = document.getElementById("file-size-error");
      if (out) {
        out.textContent = message;
        out.hidden = !message;
      }
      if (message) {
        input.setAttribute("aria-invalid", "true");
      } else {
        input.removeAttribute("aria-invalid");
      }
    });
  }

  var bar = document.querySelector("progress[data-status-url]");
  if (!bar) {
    return;
  }
  var text = document.getElementById("import-progress-text");
  var template = text ? text.getAttribute("data-template") : "";
  var url = bar.getAttribute("data-status-url");
  var failures = 0;

  function show(status) {
    var total = Math.max(status.total_rows, 1);
    bar.max = total;
    bar.value = status.status === "done" ? total : Math.min(status.processed_rows, total);
    bar.textContent = status.percent + "%";
    if (text && template) {
      text.textContent = template
        .replace("{processed}", status.processed_rows)
        .replace("{total}", status.total_rows)
        .replace("{percent}", status.percent);
    }
    var badge = document.getElementById("import-status");
    if (badge) {
      badge.textContent = status.status_label;
    }
    var counts = {created: status.created_count, updated: status.updated_count, errors: status.error_count};
    Object.keys(counts).forEach(function (key) {
      var el = document.getElementById("count-" + key);
      if (el) {
        el.textContent = counts[key];
      }
    });
  }

  function poll() {
    fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin", cache: "no-store"})
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (status) {
        failures = 0;
        show(status);
        if (status.finished) {
          window.setTimeout(function () { window.location.reload(); }, 400);
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        failures += 1;
        if (failures >= 3) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 2000);
        }
      });
  }

  window.setTimeout(poll, 1000);
})();
