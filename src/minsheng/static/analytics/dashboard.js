/* The dashboard's charts (ECharts, vendored). Data comes from the page's JSON block
   (#dashboard-data); every chart element links to the drill-down list behind it. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function go(url) { if (url) window.location.href = url; }

  function init(id) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return null;
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    window.addEventListener("resize", function () { chart.resize(); });
    el.setAttribute("data-chart-ready", "1");
    return chart;
  }

  function trendChart(data) {
    var chart = init("trend-chart");
    if (!chart) return;
    var t = data.trend, L = data.labels;
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { data: [L.intake, L.received, L.resolution, L.satisfaction] },
      grid: { left: 48, right: 48, bottom: 30, top: 40 },
      xAxis: { type: "category", data: t.map(function (m) { return m.month; }) },
      yAxis: [{ type: "value", minInterval: 1 }, { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }],
      series: [
        { name: L.intake, type: "bar", data: t.map(function (m) { return m.intake; }), itemStyle: { color: "#9fb9dc" } },
        { name: L.received, type: "bar", data: t.map(function (m) { return m.received; }), itemStyle: { color: "#1d4f91" } },
        { name: L.resolution, type: "line", yAxisIndex: 1, connectNulls: false, data: t.map(function (m) { return m.resolution; }) },
        { name: L.satisfaction, type: "line", yAxisIndex: 1, connectNulls: false, data: t.map(function (m) { return m.satisfaction; }) }
      ]
    });
    chart.on("click", function (p) { go(t[p.dataIndex] && t[p.dataIndex].url); });
  }

  function pieChart(id, rows) {
    var chart = init(id);
    if (!chart) return;
    var shown = rows.filter(function (r) { return r.count > 0; });
    chart.setOption({
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      series: [{
        type: "pie", radius: ["35%", "68%"], avoidLabelOverlap: true,
        data: shown.map(function (r) { return { name: r.name, value: r.count, url: r.url }; })
      }]
    });
    chart.on("click", function (p) { go(p.data && p.data.url); });
  }

  function streetMap(data) {
    var el = document.getElementById("street-map");
    var shapes = window.MINSHENG_STREET_SHAPES;
    if (!el || !window.echarts || !shapes) return;
    var features = data.streets.map(function (s) {
      return { type: "Feature", properties: { name: s.name }, geometry: { type: "Polygon", coordinates: shapes[s.code] || [] } };
    }).filter(function (f) { return f.geometry.coordinates.length; });
    window.echarts.registerMap("minsheng-streets", { type: "FeatureCollection", features: features });
    var chart = init("street-map");
    var select = document.querySelector("[data-map-metric]");

    function draw(metric) {
      var values = data.streets.map(function (s) { return s[metric]; }).filter(function (v) { return v !== null && v !== undefined; });
      var max = values.length ? Math.max.apply(null, values) : 1;
      var min = values.length ? Math.min.apply(null, values) : 0;
      // Rates and the score read bad-to-good; the overdue count good-to-bad; volume is neutral.
      var palette = metric === "overdue" ? ["#fdf1ef", "#f4b183", "#b42318"]
        : metric === "received" ? ["#eef3fa", "#9fb9dc", "#1d4f91"]
        : ["#fdecea", "#f7e3a1", "#2f7d4f"];
      chart.setOption({
        tooltip: {
          trigger: "item",
          formatter: function (p) {
            var v = p.data && p.data.value;
            return p.name + "<br>" + data.mapMetrics[metric] + ": " + (v === null || v === undefined || isNaN(v) ? data.labels.noData : v);
          }
        },
        visualMap: {
          min: min, max: max === min ? min + 1 : max, calculable: true, left: 8, bottom: 8,
          inRange: { color: palette },
          text: [data.mapMetrics[metric], ""]
        },
        series: [{
          type: "map", map: "minsheng-streets", roam: false, aspectScale: 1, selectedMode: false,
          label: { show: true, fontSize: 11 },
          itemStyle: { borderColor: "#fff", borderWidth: 1, areaColor: "#e9edf1" },
          data: data.streets.map(function (s) {
            var v = s[metric];
            return { name: s.name, value: v === null ? NaN : v, url: s.url };
          })
        }]
      }, true);
    }

    draw(select ? select.value : "score");
    if (select) select.addEventListener("change", function () { draw(select.value); });
    chart.on("click", function (p) { go(p.data && p.data.url); });
  }

  function monthPicker() {
    var picker = document.querySelector("[data-month-picker]");
    var form = document.querySelector("[data-period-form]");
    if (!picker || !form) return;
    picker.addEventListener("change", function () {
      if (!picker.value) return;
      // A month replaces any range typed before.
      form.querySelectorAll("input[type=date]").forEach(function (i) { i.value = ""; i.disabled = true; });
      form.submit();
    });
    form.addEventListener("submit", function () {
      // Empty fields are left out of the URL, so "?month=" does not override a range.
      form.querySelectorAll("input").forEach(function (i) { if (!i.value) i.disabled = true; });
    });
  }

  ready(function () {
    var block = document.getElementById("dashboard-data");
    monthPicker();
    if (!block) return;
    var data = JSON.parse(block.textContent);
    trendChart(data);
    pieChart("category-chart", data.categories);
    pieChart("channel-chart", data.channels);
    streetMap(data);
  });
})();
