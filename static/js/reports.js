// Draws every <canvas data-chart="name"> from the JSON in #report-charts (Chart.js, vendored).
// The numbers are also in the table beside each chart; the charts only make them visible.
(function () {
  "use strict";
  var source = document.getElementById("report-charts");
  if (!source || typeof Chart === "undefined") return;
  var data = JSON.parse(source.textContent);

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = data[canvas.dataset.chart];
    if (!spec) return;
    var names = Object.keys(spec.series);
    var datasets = names.map(function (name, i) {
      var color = spec.colors[i];  // the PDF's SVG charts use the same colours (reports/charts.py)
      return { label: name, data: spec.series[name], backgroundColor: color, borderColor: color, fill: false };
    });
    canvas.chart = new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        indexAxis: spec.horizontal ? "y" : "x",
        plugins: { legend: { display: names.length > 1 || names[0] !== "" } },
        scales: { x: { stacked: !!spec.stacked }, y: { stacked: !!spec.stacked, beginAtZero: true } },
      },
    });
  });
})();
