// Small behaviours on top of server-rendered pages. Everything works
// without this file; it only adds ticking countdowns, upload progress,
// the enterprise picker and the ECharts charts.
(function () {
  "use strict";

  // The server's clock at render time, so countdowns agree with the
  // deadlines the server computed even when the device clock is off.
  var skew = 0;
  function readSkew() {
    var now = Number(document.body.dataset.now || 0);
    if (now) skew = now - Date.now();
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll(".tick[data-due]").forEach(function (el) {
      var left = Math.floor((Number(el.dataset.due) - now) / 1000);
      if (left <= 0) { el.textContent = "00:00:00"; return; }
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
      el.textContent = (d ? d + "d " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
    });
  }

  // Upload progress for boosted multipart forms (htmx reports it).
  document.addEventListener("htmx:xhr:progress", function (e) {
    var form = e.target.closest && e.target.closest("form.upload");
    var bar = form && form.querySelector("progress.progress");
    if (!bar || !e.detail.lengthComputable) return;
    bar.hidden = false;
    bar.value = Math.round(e.detail.loaded * 100 / e.detail.total);
  });

  // The enterprise picker: a click on a search result fills the form.
  document.addEventListener("click", function (e) {
    var opt = e.target.closest && e.target.closest("button.option[data-uscc]");
    if (!opt) return;
    var uscc = document.getElementById("uscc"), q = document.getElementById("ent-q");
    if (uscc) uscc.value = opt.dataset.uscc;
    if (q) q.value = opt.dataset.name;
    var list = document.getElementById("ent-options");
    if (list) list.innerHTML = "";
  });

  // A changed code request must be pre-checked again before it is issued.
  document.addEventListener("change", function (e) {
    var seen = e.target.form && e.target.form.querySelector("input[name=seen]");
    if (seen) seen.value = "0";
  });

  function isPct(name) { return /%$/.test(name); }

  function charts() {
    if (!window.echarts) return;
    document.querySelectorAll(".chart[data-series]").forEach(function (el) {
      if (el.dataset.drawn) return;
      el.dataset.drawn = "1";
      var data = JSON.parse(el.dataset.series);
      var names = Object.keys(data.lines || {}).sort();
      var kind = el.dataset.chart === "bar" ? "bar" : "line";
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        legend: { data: names, bottom: 0 },
        grid: { left: kind === "bar" ? 72 : 40, right: 16, top: 16, bottom: 56, containLabel: true },
        xAxis: { type: "category", data: data.labels || [], axisLabel: { interval: 0, rotate: kind === "bar" ? 30 : 0 } },
        // Percentages get their own axis on the right.
        yAxis: names.some(isPct)
          ? [{ type: "value", minInterval: 1 }, { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }]
          : [{ type: "value", minInterval: 1 }],
        series: names.map(function (n) {
          return { name: n, type: kind, data: data.lines[n], yAxisIndex: isPct(n) ? 1 : 0 };
        })
      });
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  function loadCharts() {
    if (!document.querySelector(".chart[data-series]")) return;
    if (window.echarts) { charts(); return; }
    var s = document.createElement("script");
    s.src = "/static/vendor/echarts/echarts.min.js";
    s.onload = charts;
    document.head.appendChild(s);
  }

  function ready() { readSkew(); tick(); loadCharts(); }
  document.addEventListener("DOMContentLoaded", ready);
  // A boosted navigation swaps the body: read the new server time, draw charts.
  document.addEventListener("htmx:afterSettle", ready);
  setInterval(tick, 1000);
})();
