// Draw each indicator's figures per period against its baseline and targets, and its breakdowns.
// Data comes from a json_script element, never from strings built into the page.
// A period with nothing reported is a gap in the line (null), never a drop to zero; a point
// that includes values carried forward from earlier periods is drawn hollow.
(function () {
  "use strict";
  const source = document.getElementById("indicator-chart-data");
  if (!source || typeof Chart === "undefined") return;
  const series = JSON.parse(source.textContent);
  const labels = JSON.parse(document.getElementById("indicator-chart-labels").textContent);
  const palette = ["#0b4f8a", "#d17a00", "#1e8e3e", "#7b3fa0", "#b3261e", "#00838f", "#6c757d"];

  document.querySelectorAll("canvas[data-indicator-chart]").forEach(function (canvas) {
    const data = series[canvas.dataset.indicatorChart];
    if (!data || !data.periods.length) return;
    const flat = function (value) { return data.periods.map(function () { return value; }); };
    const hollow = data.carried.map(function (n) { return n > 0; });
    const datasets = [
      {
        label: labels.actual, data: data.actuals, borderColor: palette[0], backgroundColor: hollow.map(function (h) { return h ? "#ffffff" : palette[0]; }),
        pointBorderColor: palette[0], pointStyle: "circle", pointRadius: 4, spanGaps: false,
      },
      { label: labels.target, data: flat(data.target), borderColor: palette[2], borderDash: [6, 4], pointRadius: 0 },
      { label: labels.baseline, data: flat(data.baseline), borderColor: palette[6], borderDash: [2, 3], pointRadius: 0 },
    ];
    if (data.targets.some(function (value) { return value !== null; })) {
      datasets.push({
        label: labels.period_target, data: data.targets, borderColor: palette[2], backgroundColor: palette[2],
        showLine: false, pointStyle: "triangle", pointRadius: 6,
      });
    }
    new Chart(canvas, {
      type: "line",
      data: { labels: window.portalCodes(data.periods), datasets: datasets },
      options: {
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { position: "bottom", labels: { usePointStyle: true } },
          tooltip: {
            callbacks: {
              afterLabel: function (context) {
                if (context.datasetIndex !== 0) return "";
                const carried = data.carried[context.dataIndex];
                return carried ? carried + " " + labels.carried : "";
              },
            },
          },
        },
        scales: window.portalChartAxes({ y: { beginAtZero: true, title: { display: true, text: data.unit } } }),
      },
    });
  });

  document.querySelectorAll("canvas[data-breakdown-chart]").forEach(function (canvas) {
    const data = series[canvas.dataset.breakdownChart];
    const part = data && data.breakdown[canvas.dataset.dimension];
    if (!part) return;
    const categories = Object.keys(part.series);
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: window.portalCodes(part.periods),
        datasets: categories.map(function (category, index) {
          return { label: category, data: part.series[category], backgroundColor: palette[index % palette.length] };
        }),
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { position: "bottom" }, title: { display: true, text: part.label } },
        scales: window.portalChartAxes({ x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: data.unit } } }),
      },
    });
  });
})();
