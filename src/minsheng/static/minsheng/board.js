/* The public board's chart: 12 months of appeals received and closed (bars) and the three
   rates (lines, right axis). Data come from the page's JSON block (#board-chart-data); no
   inline script (CSP). Without ECharts the table below the chart still holds every figure. */
(function () {
  "use strict";

  function draw() {
    var holder = document.getElementById("board-chart");
    var source = document.getElementById("board-chart-data");
    if (!holder || !source || typeof window.echarts === "undefined") return;
    var data = JSON.parse(source.textContent);
    var labels = data.labels;
    var months = data.months.map(function (m) { return m.slice(2).replace("-", "."); });
    var chart = window.echarts.init(holder, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { bottom: 0, itemWidth: 14, textStyle: { fontSize: 11 } },
      grid: { left: 40, right: 40, top: 30, bottom: 56 },
      xAxis: { type: "category", data: months, axisLabel: { fontSize: 10 } },
      yAxis: [
        { type: "value", name: labels.count, minInterval: 1, nameTextStyle: { fontSize: 10 }, axisLabel: { fontSize: 10 } },
        { type: "value", name: labels.rate, min: 0, max: 100, nameTextStyle: { fontSize: 10 }, axisLabel: { fontSize: 10 } }
      ],
      color: ["#9fb8d9", "#6aa883", "#1f5fa8", "#2e8b57", "#b3261e"],
      series: [
        { name: labels.received, type: "bar", data: data.received, barMaxWidth: 14 },
        { name: labels.closed, type: "bar", data: data.closed, barMaxWidth: 14 },
        { name: labels.response, type: "line", yAxisIndex: 1, data: data.response, connectNulls: true, symbolSize: 5 },
        { name: labels.resolution, type: "line", yAxisIndex: 1, data: data.resolution, connectNulls: true, symbolSize: 5 },
        { name: labels.satisfaction, type: "line", yAxisIndex: 1, data: data.satisfaction, connectNulls: true, symbolSize: 5 }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
