/* Survey results: one bar chart per question and the cross-tab by street, drawn with the
   vendored ECharts from the JSON the page carries (json_script). Redrawn after every live
   refresh (htmx swaps the results in). Tooltips are drawn on the canvas (richText), so
   ECharts writes no inline style attributes that the Content-Security-Policy would block. */
(function () {
  "use strict";

  var PALETTE = ["#1d4f91", "#c8102e", "#2f7d4f", "#f0b400", "#4b3a8f", "#00695c", "#8a3b00", "#52606d"];

  function chartFor(el) {
    var existing = window.echarts.getInstanceByDom(el);
    if (existing) { existing.dispose(); }
    return window.echarts.init(el, null, { renderer: "canvas" });
  }

  function questionChart(el, data) {
    var chart = chartFor(el);
    var horizontal = data.horizontal;
    var category = { type: "category", data: data.labels, axisLabel: { width: 120, overflow: "truncate" } };
    var value = { type: "value", minInterval: 1 };
    chart.setOption({
      color: PALETTE,
      animation: false,
      grid: { left: horizontal ? 130 : 40, right: 32, top: horizontal ? 10 : 24, bottom: 28 },
      tooltip: { trigger: "axis", renderMode: "richText" },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? { type: "category", data: data.labels.slice().reverse(), axisLabel: { width: 120, overflow: "truncate" } } : value,
      series: [{ type: "bar", data: horizontal ? data.values.slice().reverse() : data.values, label: { show: true, position: horizontal ? "right" : "top" } }]
    });
    return chart;
  }

  function crosstabChart(el, data) {
    var chart = chartFor(el);
    chart.setOption({
      color: PALETTE,
      animation: false,
      legend: { top: 0 },
      grid: { left: 40, right: 16, top: 36, bottom: 60 },
      tooltip: { trigger: "axis", renderMode: "richText" },
      xAxis: { type: "category", data: data.streets, axisLabel: { rotate: 30 } },
      yAxis: { type: "value", minInterval: 1 },
      series: data.series.map(function (s) { return { name: s.name, type: "bar", stack: "all", data: s.values }; })
    });
    return chart;
  }

  var charts = [];

  function draw() {
    var source = document.getElementById("survey-charts");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    charts = [];
    var byId = {};
    data.questions.forEach(function (q) { byId[String(q.id)] = q; });
    var nodes = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < nodes.length; i++) {
      var key = nodes[i].getAttribute("data-chart");
      if (key === "crosstab" && data.crosstab) { charts.push(crosstabChart(nodes[i], data.crosstab)); }
      else if (byId[key]) { charts.push(questionChart(nodes[i], byId[key])); }
    }
  }

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  document.addEventListener("htmx:afterSwap", draw);
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
