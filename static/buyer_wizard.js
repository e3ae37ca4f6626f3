// The campaign wizard's live price-book quote: asked again whenever the place or
// exclusivity changes (the page already shows the quote for what was there on load).
(function () {
  "use strict";
  var box = document.getElementById("quote");
  var form = box && box.closest("form");
  if (!box || !form) {
    return;
  }
  var timer = null;

  function place() {
    var state = form.querySelector('input[name="states"]:checked');
    var zips = (form.elements.zips ? form.elements.zips.value : "").split(/[\s,;]+/).filter(Boolean);
    var radius = form.elements.radius_zip ? form.elements.radius_zip.value.trim() : "";
    return { state: state ? state.value : "", zip: state ? "" : (radius || zips[0] || "") };
  }

  async function refresh() {
    var where = place();
    var params = new URLSearchParams({
      niche: box.dataset.niche,
      state: where.state,
      zip: where.zip,
      exclusive: form.elements.exclusive && form.elements.exclusive.checked ? "1" : "",
    });
    try {
      var response = await fetch(box.dataset.url + "?" + params.toString(), { credentials: "same-origin" });
      var quote = await response.json();
      if (quote.priced) {
        box.textContent = "Price book now: " + quote.price_display + " for a typical lead (" +
          quote.place + "); floor " + quote.floor_display + ".";
      } else {
        box.textContent = quote.message || "The price book has no price for this place yet.";
      }
    } catch (err) {
      box.textContent = "The price book could not be reached; try again.";
    }
  }

  form.addEventListener("change", function (event) {
    var name = event.target.name || "";
    if (name === "states" || name === "zips" || name === "radius_zip" || name === "exclusive") {
      clearTimeout(timer);
      timer = setTimeout(refresh, 150);
    }
  });
})();
