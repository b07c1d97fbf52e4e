// The pay step's card form (no inline scripts: the CSP forbids them).
// Stripe.js collects the card in its own frame and saves it on a SetupIntent
// (confirmCardSetup); Plaza then charges it server-side, and when the bank asks for
// authentication (3-D Secure), Stripe.js runs it (confirmCardPayment) and Plaza re-reads the
// payment. Card numbers never reach Plaza. Errors are shown inline and the form stays usable.
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form) return;
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("card-submit");
  var label = button.textContent;
  // Messages in the page's language come from the form's data-msg-* attributes (payments/pay.html).
  function t(name, fallback) { return form.dataset[name] || fallback; }

  function fail(message) {
    errors.textContent = message || t("msgFailed", "Your payment did not go through. Please try again.");
    errors.hidden = false;
    button.disabled = false;
    button.textContent = label;
  }

  if (typeof window.Stripe !== "function") {
    fail(t("msgLoad", "The card form could not load. Please check your connection and reload the page."));
    button.disabled = true;
    return;
  }

  var stripe = window.Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card", { hidePostalCode: true });
  card.mount("#card-element");
  card.on("change", function (event) {
    if (event && event.error) { fail(event.error.message); } else { errors.hidden = true; }
  });
  button.disabled = false;

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRFToken": form.dataset.csrf },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { throw new Error(data.detail || t("msgGeneric", "Something went wrong. Please try again.")); }
        return data;
      });
    });
  }

  function finish(step, setupIntent) {
    if (step.redirect) { window.location.assign(step.redirect); return null; }
    if (!step.requires_action) { throw new Error(t("msgFailed", "Your payment did not go through. Please try again.")); }
    return stripe.confirmCardPayment(step.client_secret).then(function (result) {
      // Whatever the bank said, Plaza re-reads the payment from Stripe and answers.
      return post(form.dataset.chargeUrl, { setup_intent: setupIntent, authenticated: true })
        .then(function (next) {
          if (next.redirect) { window.location.assign(next.redirect); return null; }
          throw new Error((result && result.error && result.error.message) ||
                          t("msgBank", "Your bank did not approve the payment. Please try again."));
        });
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    errors.hidden = true;
    button.disabled = true;
    button.textContent = button.dataset.busyLabel || "Processing…";
    post(form.dataset.setupUrl)
      .then(function (data) {
        if (data.redirect) { window.location.assign(data.redirect); return null; }
        if (data.requires_action) { return finish(data, data.setup_intent); }  // resume the bank's check
        return stripe.confirmCardSetup(data.client_secret, { payment_method: { card: card } })
          .then(function (result) {
            if (result.error) { throw new Error(result.error.message || t("msgCard", "Your card was not accepted.")); }
            var setupIntent = result.setupIntent.id;
            return post(form.dataset.chargeUrl, { setup_intent: setupIntent }).then(function (step) {
              return finish(step, setupIntent);
            });
          });
      })
      .catch(function (error) { fail(error && error.message); });
  });
})();
