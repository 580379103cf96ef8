/* The card payment form (templates/oscar/checkout/pay.html) with Stripe.js,
   which the page loads just before this file. The form carries the
   publishable key, the client secret, the return URL and the locale. */
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(form.dataset.key, {locale: form.dataset.locale || "zh"});
  var card = stripe.elements().create("card", {hidePostalCode: true});
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("card-submit");
  card.mount("#card-element");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    errors.hidden = true;
    stripe.confirmCardPayment(form.dataset.secret, {
      payment_method: {card: card}
    }).then(function (result) {
      if (result.error && !result.paymentIntent) {
        errors.textContent = result.error.message;
        errors.hidden = false;
        button.disabled = false;
        return;
      }
      window.location.href = form.dataset.return;
    });
  });
})();
