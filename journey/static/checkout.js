/* Checkout: Stripe.js collects the card (the real one, or localstripe's fake in
   development and tests); the form posts only the resulting id, never the card. */
(function () {
  "use strict";
  var form = document.getElementById("checkout-form");
  if (!form || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var errors = document.getElementById("card-errors");
  var method = form.querySelector("input[name=payment_method]");
  var button = document.getElementById("pay");

  function fail(message) {
    errors.textContent = "";
    var p = document.createElement("p");
    p.className = "error";
    p.textContent = message;
    errors.appendChild(p);
    button.disabled = false;
  }

  async function paymentMethodId() {
    // Real Stripe.js: a PaymentMethod. localstripe's fake has only createToken, whose
    // card id Stripe accepts as a payment method as well.
    var created = await stripe.createPaymentMethod({type: "card", card: card});
    if (created && created.paymentMethod) { return created.paymentMethod.id; }
    if (created && created.error) { throw created.error; }
    var result = await stripe.createToken(card);
    if (result.error) { throw result.error; }
    return result.token.card ? result.token.card.id : result.token.id;
  }

  form.addEventListener("submit", function (event) {
    if (method.value) { return; }
    if (card.value !== undefined && !(card.value.card && card.value.card.number)) {
      event.preventDefault();  // localstripe's element: nothing typed yet
      fail(form.dataset.cardMissing);
      return;
    }
    event.preventDefault();
    button.disabled = true;
    paymentMethodId().then(function (id) {
      method.value = id;
      form.submit();
    }, function () {
      fail(form.dataset.cardFailed);
    });
  });
}());

/* The bank's check (3-D Secure): Stripe.js shows it (real Stripe: its frame; localstripe:
   a box with two buttons), then the form asks the server to finish. Whatever Stripe.js
   answers, the server reads the payment from Stripe again: the page's word is not
   taken, it only says that the patient is back. */
(function () {
  "use strict";
  var form = document.getElementById("authenticate-form");
  if (!form || typeof Stripe === "undefined" || !form.dataset.clientSecret) { return; }
  var stripe = Stripe(form.dataset.publishableKey);
  var status = document.getElementById("bank-status");
  var button = document.getElementById("authenticate");
  var done = false;

  function say(message, isError) {
    status.textContent = "";
    var p = document.createElement("p");
    if (isError) { p.className = "error"; }
    p.textContent = message;
    status.appendChild(p);
  }

  function confirmWithBank() {
    button.disabled = true;
    say(form.dataset.working, false);
    stripe.confirmCardPayment(form.dataset.clientSecret).then(function (result) {
      if (result && result.error) { say(form.dataset.bankFailed, true); }
    }, function () {
      say(form.dataset.bankFailed, true);
    }).then(function () {
      done = true;
      form.submit();  // the server decides, from what Stripe says
    });
  }

  form.addEventListener("submit", function (event) {
    if (done) { return; }
    event.preventDefault();
    if (!button.disabled) { confirmWithBank(); }
  });
  if (form.dataset.autostart) { confirmWithBank(); }
}());
