// Charts speak the page's language: its number forms (Latin digits, as the server writes them)
// and, for a right-to-left language, legends, tooltips and the time axis reading right to left.
(function () {
  "use strict";
  if (typeof Chart === "undefined") return;
  const html = document.documentElement;
  const rtl = html.dir === "rtl";
  const locales = { ar: "ar-u-nu-latn", "zh-hans": "zh-Hans" };
  Chart.defaults.locale = locales[html.lang] || html.lang || "en";
  Chart.defaults.plugins.legend.rtl = rtl;
  Chart.defaults.plugins.tooltip.rtl = rtl;
  Chart.defaults.plugins.legend.textDirection = rtl ? "rtl" : "ltr";
  Chart.defaults.plugins.tooltip.textDirection = rtl ? "rtl" : "ltr";
  // Codes such as 2020-Q3 keep their own left-to-right order inside a right-to-left chart.
  window.portalCodes = function (labels) {
    return rtl ? labels.map(function (label) { return "\u2066" + label + "\u2069"; }) : labels;
  };
  // Per chart: the category axis runs from the right and the value axis stands on the right.
  window.portalChartAxes = function (scales) {
    if (!rtl) return scales;
    scales.x = Object.assign({}, scales.x, { reverse: true });
    scales.y = Object.assign({}, scales.y, { position: "right" });
    return scales;
  };
})();
