/* Oscar's stock dashboard forms have "cancel" links with inline handlers
   (onclick="window.history.go(-1);return false" or "window.close()"), which
   the Content-Security-Policy refuses to run. Replace them with listeners
   doing the same (removing the attribute runs nothing). */
(function () {
  "use strict";
  var links = document.querySelectorAll("[onclick]");
  Array.prototype.forEach.call(links, function (link) {
    var code = link.getAttribute("onclick") || "";
    var action = null;
    if (code.indexOf("history.go(-1)") !== -1) {
      action = function () { window.history.go(-1); };
    } else if (code.indexOf("window.close()") !== -1) {
      action = function () { window.close(); };
    }
    if (!action) { return; }
    link.removeAttribute("onclick");
    link.addEventListener("click", function (event) {
      event.preventDefault();
      action();
    });
  });
})();

/* Oscar's image upload widget (config/templates/oscar/forms/widgets/
   image_input_widget.html): once a chosen file shows as the thumbnail, hide
   the upload button; if it is not an image, show it again and say so.
   Listened for on the document (load and error do not bubble, but can be
   captured), so the forms Oscar's dashboard.js clones work too. */
(function () {
  "use strict";
  function handle(event) {
    var img = event.target;
    if (!img || !img.dataset || img.dataset.uploadButton === undefined) { return; }
    var box = img.closest(".image-input");
    var button = box && box.querySelector("button");
    if (event.type === "load") {
      if (button) { button.style.display = "none"; }
    } else if (img.getAttribute("src")) {
      if (button) { button.style.display = ""; }
      window.alert(img.dataset.errorMessage);
    }
  }
  document.addEventListener("load", handle, true);
  document.addEventListener("error", handle, true);
})();

/* Oscar 4.2's order page calls oscar.dashboard.orders.initTable(), which its
   dashboard.js does not define; the TypeError is harmless (it is the last
   call) but shows as a script error on every order page. */
(function () {
  "use strict";
  var orders = window.oscar && window.oscar.dashboard && window.oscar.dashboard.orders;
  if (orders && typeof orders.initTable !== "function") {
    orders.initTable = function () {};
  }
})();
