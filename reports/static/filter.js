// Filters the municipality table on the index page as the reader types.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var input = document.getElementById("filter");
    var count = document.getElementById("filter-count");
    if (!input) { return; }
    var rows = Array.prototype.slice.call(document.querySelectorAll("#kommuner tbody tr"));
    input.addEventListener("input", function () {
      var query = input.value.trim().toLowerCase();
      var shown = 0;
      rows.forEach(function (row) {
        var hit = !query || row.getAttribute("data-search").indexOf(query) !== -1;
        row.hidden = !hit;
        if (hit) { shown += 1; }
      });
      count.textContent = shown === 1 ? "1 kommune" : shown + " kommuner";
    });
  });
})();
