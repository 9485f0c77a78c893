// Draw the dashboard's stacked bar charts; a click on a bar opens the activities behind it.
// Colours come with patterns, so no series is told apart by colour alone.
(function () {
  "use strict";
  const source = document.getElementById("dashboard-charts");
  if (!source || typeof Chart === "undefined") return;
  const charts = JSON.parse(source.textContent);
  const colours = {
    planned: "#6c8ebf", ongoing: "#0b4f8a", completed: "#1e8e3e", delayed: "#f2a900", cancelled: "#6c757d",
    on_track: "#1e8e3e", at_risk: "#f2a900", off_track: "#c5221f", none: "#adb5bd",
    received: "#0b4f8a", missing: "#c5221f",
  };
  const patterns = ["solid", "diagonal", "dots", "cross", "vertical"];

  function fill(colour, kind) {
    if (kind === "solid") return colour;
    const tile = document.createElement("canvas");
    tile.width = tile.height = 8;
    const ctx = tile.getContext("2d");
    ctx.fillStyle = colour;
    ctx.fillRect(0, 0, 8, 8);
    ctx.strokeStyle = "rgba(255,255,255,.75)";
    ctx.fillStyle = "rgba(255,255,255,.75)";
    ctx.lineWidth = 1.5;
    if (kind === "diagonal") { ctx.beginPath(); ctx.moveTo(0, 8); ctx.lineTo(8, 0); ctx.stroke(); }
    if (kind === "dots") { ctx.beginPath(); ctx.arc(4, 4, 1.5, 0, 2 * Math.PI); ctx.fill(); }
    if (kind === "cross") { ctx.beginPath(); ctx.moveTo(0, 4); ctx.lineTo(8, 4); ctx.moveTo(4, 0); ctx.lineTo(4, 8); ctx.stroke(); }
    if (kind === "vertical") { ctx.beginPath(); ctx.moveTo(4, 0); ctx.lineTo(4, 8); ctx.stroke(); }
    return tile.getContext("2d").createPattern(tile, "repeat");
  }

  document.querySelectorAll("canvas[data-dashboard-chart]").forEach(function (canvas) {
    const chart = charts[canvas.dataset.dashboardChart];
    if (!chart) return;
    const datasets = chart.datasets.map(function (dataset, index) {
      const colour = colours[dataset.key] || "#0b4f8a";
      return {
        label: dataset.label,
        data: dataset.data,
        links: dataset.links,
        backgroundColor: fill(colour, patterns[index % patterns.length]),
        borderColor: colour,
        borderWidth: 1,
      };
    });
    new Chart(canvas, {
      type: "bar",
      data: { labels: window.portalCodes(chart.labels), datasets: datasets },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: window.portalChartAxes({ x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } }),
        plugins: {
          legend: { position: "bottom" },
          // The axis shows a focus area's code; its tooltip says the area's name.
          tooltip: { callbacks: { title: function (items) { return chart.names && items.length ? chart.names[items[0].dataIndex] : items[0].label; } } },
        },
        onHover: function (event, elements) { event.native.target.style.cursor = elements.length ? "pointer" : "default"; },
        onClick: function (event, elements) {
          if (!elements.length) return;
          const link = datasets[elements[0].datasetIndex].links[elements[0].index];
          if (link) window.location.assign(link);
        },
      },
    });
  });
})();
