// The header's language switcher changes language as soon as one is picked; its button
// stays only for browsers without scripts.
(function () {
  "use strict";
  document.querySelectorAll("form[data-language-switcher]").forEach(function (form) {
    const button = form.querySelector("[data-switcher-button]");
    if (button) button.hidden = true;
    form.querySelector("select").addEventListener("change", function () { form.submit(); });
  });
})();
