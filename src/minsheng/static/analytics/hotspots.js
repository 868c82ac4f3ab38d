/* The hotspot page's trend chart: weekly appeals of the largest categories. Data comes from
   the json_script block "hotspots-trend" (no inline script: the CSP forbids it). */
(function () {
  "use strict";
  function draw() {
    var holder = document.getElementById("hotspots-trend-chart");
    var source = document.getElementById("hotspots-trend");
    if (!holder || !source || typeof window.echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    if (!data.series.length) { holder.hidden = true; return; }
    var chart = window.echarts.init(holder);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 40, right: 16, top: 36, bottom: 28 },
      xAxis: { type: "category", data: data.weeks, boundaryGap: false },
      yAxis: { type: "value", minInterval: 1 },
      series: data.series.map(function (s) {
        return { name: s.name, type: "line", symbolSize: 5, data: s.data };
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
