/* KPI pages (issue 12, part S): draw the Chart.js charts from #km-chart-data and the Leaflet map
   of bookings by city from #km-map's data attributes. Every chart has a table of the same numbers,
   so without JavaScript nothing is lost. */
(function () {
  "use strict";
  var COLOURS = ["#3056d3", "#13a06b", "#d3305b", "#c98a12", "#7a3fd1"];

  function draw() {
    var source = document.getElementById("km-chart-data");
    if (source && window.Chart) {
      var data;
      try { data = JSON.parse(source.textContent || "{}"); } catch (e) { data = null; }
      if (data) {
        var bookings = document.getElementById("km-bookings-chart");
        if (bookings) {
          var sets = [{ label: "This period", data: data.bookings, borderColor: COLOURS[0], backgroundColor: COLOURS[0], tension: 0.2 }];
          if (data.previous) sets.push({ label: "Previous period", data: data.previous, borderColor: "#9aa3b2", backgroundColor: "#9aa3b2", borderDash: [4, 4], tension: 0.2 });
          new window.Chart(bookings, { type: "line", data: { labels: data.labels, datasets: sets },
            options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });
        }
        var gross = document.getElementById("km-gross-chart");
        if (gross && data.gross) {
          var currencies = Object.keys(data.gross);
          new window.Chart(gross, { type: "bar", data: { labels: data.labels, datasets: currencies.map(function (c, i) {
            return { label: c, data: data.gross[c], backgroundColor: COLOURS[i % COLOURS.length] };
          }) }, options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } } } });
        }
        var staff = document.getElementById("km-staff-chart");
        if (staff && data.staff) {
          new window.Chart(staff, { type: "bar", data: { labels: data.staff.labels, datasets: [{ label: "Utilisation %", data: data.staff.values, backgroundColor: COLOURS[1] }] },
            options: { indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false, scales: { x: { beginAtZero: true, max: 100 } } } });
        }
      }
    }
    var el = document.getElementById("km-map");
    if (el && window.L) {
      var points;
      try { points = JSON.parse(el.dataset.points || "[]"); } catch (e) { points = []; }
      var map = window.L.map(el, { scrollWheelZoom: false });
      if (el.dataset.tiles) {
        window.L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
      }
      var max = points.reduce(function (m, p) { return Math.max(m, p.bookings); }, 1);
      var bounds = [];
      points.forEach(function (p) {
        window.L.circleMarker([p.lat, p.lon], { radius: 6 + 18 * Math.sqrt(p.bookings / max), color: COLOURS[0], fillOpacity: 0.4 })
          .bindTooltip(p.city + ": " + p.bookings + " bookings").addTo(map);
        bounds.push([p.lat, p.lon]);
      });
      if (bounds.length) { map.fitBounds(bounds, { padding: [24, 24], maxZoom: 10 }); } else { map.setView([50, 10], 3); }
      el.dataset.ready = "true";
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
