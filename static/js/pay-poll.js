/* Online payment pages (templates/oscar/checkout/pay.html, pay_result.html):
   ask the payment's status every few seconds and go on when it is decided.
   The script element carries data-status-url and data-poll-seconds; without
   JavaScript the page's "查看结果" button does the same. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var url = script.dataset.statusUrl + "?format=json";
  var delay = (parseInt(script.dataset.pollSeconds, 10) || 3) * 1000;
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && data.next) { window.location.href = data.next; return; }
        window.setTimeout(poll, delay);
      })
      .catch(function () { window.setTimeout(poll, delay); });
  }
  window.setTimeout(poll, delay);
})();
