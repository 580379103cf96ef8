/* Progressive enhancement: show "打印" buttons (.js-print, hidden without
   JavaScript) and make them open the browser's print dialog. Without
   JavaScript the page still prints from the browser's menu. */
(function () {
  "use strict";
  var buttons = document.querySelectorAll(".js-print");
  Array.prototype.forEach.call(buttons, function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
