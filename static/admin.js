// Review queue: one box ticks or clears every lead on the page (the form works without it).
document.querySelectorAll("[data-select-all]").forEach(function (all) {
  all.hidden = false;
  all.addEventListener("change", function () {
    document.querySelectorAll("input[name=lead]").forEach(function (box) { box.checked = all.checked; });
  });
});
