// Draws every chart of the page from the JSON beside it, with the shared local plotly.min.js.
// A figure may carry a "narrow" variant (drawn when the chart is narrower than its "below" px, NARROW unless
// it says otherwise: a phone, or a printed page) and a "print" variant (laid over it while the page is
// printed); see reports/figures.py.
(function () {
  "use strict";
  var NARROW = 560;
  var config = {
    displaylogo: false,
    responsive: true,
    modeBarButtonsToRemove: ["lasso2d", "select2d", "autoScale2d"],
    toImageButtonOptions: { format: "png", scale: 2 }
  };
  var charts = [];

  function replaced(base, extra) {
    var out = {};
    Object.keys(base).forEach(function (k) { out[k] = base[k]; });
    Object.keys(extra || {}).forEach(function (k) { out[k] = extra[k]; });
    return out;
  }

  function over(fig, variant) {
    if (!variant) { return fig; }
    return {
      data: fig.data.map(function (trace, i) {
        return variant.data && variant.data[i] ? replaced(trace, variant.data[i]) : trace;
      }),
      layout: replaced(fig.layout, variant.layout)
    };
  }

  function narrow(chart) {
    return chart.below > 0 && chart.div.clientWidth < chart.below;
  }

  // A fresh copy of the figure (plotly.js writes into what it is given) with its variants laid over it:
  // narrow when the chart is narrow (on screen or on paper), print when printing.
  function figure(chart, mode) {
    var spec = JSON.parse(chart.text);
    var fig = { data: spec.data, layout: spec.layout };
    if (narrow(chart)) { fig = over(fig, spec.narrow); }
    if (mode === "print") { fig = over(fig, spec.print); }
    return fig;
  }

  function screenMode(chart) {
    return narrow(chart) ? "narrow" : "wide";
  }

  function draw(chart, mode) {
    var fig = figure(chart, mode);
    if (mode === "print") {
      fig.layout.width = chart.div.clientWidth;  // the width of the printed page, not of the window
    }
    chart.mode = mode;
    window.Plotly.react(chart.div, fig.data, fig.layout, config);
  }

  function start() {
    document.querySelectorAll(".chart[data-figure]").forEach(function (div) {
      if (!window.Plotly) {
        div.textContent = "Figuren kan ikke vises. Tallene står i tabellen nedenfor.";
        return;
      }
      var text = document.getElementById(div.getAttribute("data-figure")).textContent;
      var spec = JSON.parse(text);
      var chart = { div: div, text: text, below: spec.narrow ? (spec.narrow.below || NARROW) : 0 };
      charts.push(chart);
      draw(chart, screenMode(chart));
    });
  }

  // Redraw when the chart crosses the narrow width (a phone turned, a window resized); plotly.js itself
  // follows every other change of size (responsive).
  var pending = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(function () {
      charts.forEach(function (chart) {
        if (chart.mode !== "print" && screenMode(chart) !== chart.mode) { draw(chart, screenMode(chart)); }
      });
    }, 150);
  });

  // Printing: the tables behind the charts are opened, and every chart is drawn to the page's width, a tall
  // one compressed to fit a page (style.css keeps a chart from being split across pages).
  function toPrint() {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
    charts.forEach(function (chart) { draw(chart, "print"); });
  }
  function toScreen() {
    charts.forEach(function (chart) { if (chart.mode === "print") { draw(chart, screenMode(chart)); } });
  }
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
  // The media query changes once the page is laid out for paper (after beforeprint): the width to draw to.
  var printing = window.matchMedia ? window.matchMedia("print") : null;
  var onPrinting = function (event) { if (event.matches) { toPrint(); } else { toScreen(); } };
  if (printing && printing.addEventListener) {
    printing.addEventListener("change", onPrinting);
  } else if (printing && printing.addListener) {
    printing.addListener(onPrinting);  // Safari before 14
  }
  window.addEventListener("afterprint", function () { window.setTimeout(toScreen, 0); });

  document.addEventListener("DOMContentLoaded", start);
})();
