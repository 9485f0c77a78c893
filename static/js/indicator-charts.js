// Draw each indicator's actuals per period against its baseline and target.
// Data comes from a json_script element, never from strings built into the page.
(function () {
  "use strict";
  const source = document.getElementById("indicator-chart-data");
  if (!source || typeof Chart === "undefined") return;
  const series = JSON.parse(source.textContent);
  const labels = JSON.parse(document.getElementById("indicator-chart-labels").textContent);
  document.querySelectorAll("canvas[data-indicator-chart]").forEach(function (canvas) {
    const data = series[canvas.dataset.indicatorChart];
    if (!data) return;
    const flat = function (value) { return data.periods.map(function () { return value; }); };
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.periods,
        datasets: [
          { label: labels.actual, data: data.actuals, borderColor: "#0b4f8a", backgroundColor: "#0b4f8a", pointStyle: "circle", pointRadius: 4 },
          { label: labels.target, data: flat(data.target), borderColor: "#1e8e3e", borderDash: [6, 4], pointRadius: 0 },
          { label: labels.baseline, data: flat(data.baseline), borderColor: "#6c757d", borderDash: [2, 3], pointRadius: 0 },
        ],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { position: "bottom", labels: { usePointStyle: true } } },
        scales: { y: { beginAtZero: true, title: { display: true, text: data.unit } } },
      },
    });
  });
})();
