// Top-up by card on the buyer's billing page (Stripe.js, or the localstripe emulator's copy).
// 1. confirmCardSetup saves the card typed in the card element on the buyer's Stripe customer;
// 2. the server opens the top-up, confirms its PaymentIntent with that card and credits it;
// 3. a card asking for 3-D Secure is authenticated with confirmCardPayment, then refreshed.
(function () {
  "use strict";
  var form = document.getElementById("topup-form");
  if (!form || typeof Stripe === "undefined") {
    return;
  }
  var csrf = document.querySelector('input[name="csrf_token"]');
  var stripe = Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var message = document.getElementById("topup-message");
  var button = document.getElementById("topup-pay");

  function say(text, kind) {
    message.textContent = text;
    message.className = kind ? "flash " + kind : "help";
  }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    return String(Date.now()) + "-" + String(Math.random()).slice(2);
  }

  async function post(url, body) {
    var response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
      body: JSON.stringify(body || {}),
    });
    var data = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      throw new Error(data.message || "The server refused the request (" + response.status + ").");
    }
    return data;
  }

  function showBalance(topup) {
    var cardBox = document.querySelector('#balances .card[data-currency="' + topup.currency + '"] .value');
    if (cardBox && topup.balance) {
      cardBox.textContent = topup.balance;
      cardBox.nextElementSibling.textContent = "Balance in " + topup.currency;
    }
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    var amount = form.elements.amount.value.trim();
    if (!/^[0-9][0-9,]*(\.[0-9]+)?$/.test(amount) || Number(amount.replace(/,/g, "")) <= 0) {
      say("Enter an amount such as 100 or 100.50.", "error");
      return;
    }
    button.disabled = true;
    try {
      say("Checking the card…");
      var setup = await post(form.dataset.setupUrl);
      var saved = await stripe.confirmCardSetup(setup.client_secret, { payment_method: { card: card } });
      if (saved.error) {
        throw new Error(saved.error.message || "The card was refused.");
      }
      say("Paying…");
      var topup = await post(form.dataset.topupUrl, {
        amount: amount,
        currency: form.elements.currency.value,
        setup_intent_id: setup.setup_intent_id,
        key: newKey(),
      });
      if (topup.next === "authenticate" && topup.client_secret) {
        var confirmed = await stripe.confirmCardPayment(topup.client_secret);
        if (confirmed.error) {
          throw new Error(confirmed.error.message || "The bank did not authenticate the payment.");
        }
        topup = await post(form.dataset.refreshUrl.replace(/\/0\/refresh$/, "/" + topup.id + "/refresh"));
      }
      if (topup.status === "succeeded") {
        showBalance(topup);
        say("Paid " + amount + " " + topup.currency + ". Your balance is now " + topup.balance + ".", "success");
        form.elements.amount.value = "";
      } else if (topup.failure_message) {
        say("The payment failed: " + topup.failure_message, "error");
      } else {
        say("The payment is " + topup.status + "; the balance is credited as soon as Stripe confirms it.", "info");
      }
    } catch (err) {
      say(err.message || String(err), "error");
    } finally {
      button.disabled = false;
    }
  });
})();
