/* Progressive enhancement for the station's scanner boxes: when a page
   comes back with what was typed kept (an error), select it, so the next
   scan replaces it instead of being appended to it. Without JavaScript
   the box is still focused (autofocus) and can be cleared by hand. */
(function () {
  "use strict";
  var input = document.querySelector("input.js-select-on-load");
  if (input && input.value) {
    input.focus();
    input.select();
  }
})();
