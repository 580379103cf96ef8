/* Province → city → county → town (→ village) selects for Chinese addresses
 * and cooperatives' locations.
 *
 * The form works without this script: each "下一步" button (name="_narrow")
 * re-shows the page with the next level's choices. With it, changing a select
 * fetches /divisions/children/<code>/ and fills the next one at once, so the
 * buttons are hidden. If a request fails the buttons come back.
 */
(function () {
  "use strict";

  // A form without a village select (addresses) simply has none to fill.
  var LEVELS = ["province", "city", "county", "town", "village"];

  function setUp(root) {
    var baseUrl = root.getAttribute("data-children-url");
    var buttons = root.querySelectorAll('button[name="_narrow"]');
    var selects = LEVELS.map(function (level) {
      return root.querySelector('select[data-division-level="' + level + '"]');
    });
    var requests = LEVELS.map(function () { return 0; });
    var last = 0; // the lowest level this form has (its optional last step)
    selects.forEach(function (select, i) { if (select) { last = i; } });

    function showButtons(show) {
      for (var i = 0; i < buttons.length; i++) {
        buttons[i].style.display = show ? "" : "none";
      }
    }

    function fill(select, items, hasParent) {
      var label = select.getAttribute(
        !hasParent ? "data-empty-label" : items.length ? "data-placeholder" : "data-none-label");
      select.options.length = 0;
      select.add(new Option(label || "", ""));
      items.forEach(function (item) {
        select.add(new Option(item.label || item.name, item.code));
      });
    }

    function load(index, code) {
      var select = selects[index];
      if (!select) { return; }
      for (var i = index; i < selects.length; i++) {
        if (selects[i]) {
          fill(selects[i], [], false);
          requests[i] += 1; // drop any answer still on its way
        }
      }
      if (!code) { return; }
      var ticket = requests[index];
      select.setAttribute("aria-busy", "true");
      fetch(baseUrl + encodeURIComponent(code) + "/", {
        headers: { Accept: "application/json" },
        credentials: "same-origin"
      })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) {
          if (ticket !== requests[index]) { return; }
          select.removeAttribute("aria-busy");
          fill(select, data.children, true);
          // A single choice (天津市 → 市辖区) is taken straight away.
          if (data.children.length === 1 && index < last) {
            select.value = data.children[0].code;
            load(index + 1, select.value);
          }
        })
        .catch(function () {
          select.removeAttribute("aria-busy");
          showButtons(true);
        });
    }

    selects.forEach(function (select, index) {
      if (!select) { return; }
      select.addEventListener("change", function () {
        load(index + 1, select.value);
      });
    });
    showButtons(false);
  }

  if (!window.fetch) { return; }
  var pickers = document.querySelectorAll("[data-division-picker]");
  for (var i = 0; i < pickers.length; i++) { setUp(pickers[i]); }
})();
