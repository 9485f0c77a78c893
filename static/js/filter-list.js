// Narrow a list of choices as one types: each [data-filterable] has a [data-filter-input]
// and [data-filter-item] entries, hidden when their text does not hold what is typed.
(function () {
  "use strict";
  document.querySelectorAll("[data-filterable]").forEach(function (box) {
    const input = box.querySelector("[data-filter-input]");
    if (!input) return;
    input.addEventListener("input", function () {
      const wanted = input.value.trim().toLocaleLowerCase();
      box.querySelectorAll("[data-filter-item]").forEach(function (item) {
        item.hidden = wanted !== "" && !item.textContent.toLocaleLowerCase().includes(wanted);
      });
    });
  });
})();
