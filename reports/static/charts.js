// Draws every chart of the page from the JSON beside it, with the shared local plotly.min.js.
(function () {
  "use strict";
  var config = {
    displaylogo: false,
    responsive: true,
    modeBarButtonsToRemove: ["lasso2d", "select2d", "autoScale2d"],
    toImageButtonOptions: { format: "png", scale: 2 }
  };
  function draw() {
    var charts = document.querySelectorAll(".chart[data-figure]");
    charts.forEach(function (div) {
      if (!window.Plotly) {
        div.textContent = "Figuren kan ikke vises. Tallene står i tabellen nedenfor.";
        return;
      }
      var spec = JSON.parse(document.getElementById(div.getAttribute("data-figure")).textContent);
      window.Plotly.newPlot(div, spec.data, spec.layout, config);
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
  // Print the tables behind the charts too.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
})();
