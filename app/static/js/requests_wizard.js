/* The job-request wizard (issue 13, part U): the location step's map pin. Tapping the map
   fills the latitude/longitude fields (which work on their own without tiles). */
(function () {
  "use strict";
  var map = null;
  function setup() {
    var el = document.getElementById("wizard-map");
    if (map) { map.remove(); map = null; }
    if (!el || !window.L) return;
    var lat = document.getElementById("lat"), lon = document.getElementById("lon");
    var start = [Number(lat.value) || 40.7506, Number(lon.value) || -73.9972];
    map = window.L.map(el, { scrollWheelZoom: false }).setView(start, lat.value ? 14 : 11);
    if (el.dataset.tiles) {
      window.L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    var pin = lat.value ? window.L.marker(start).addTo(map) : null;
    map.on("click", function (e) {
      lat.value = e.latlng.lat.toFixed(6);
      lon.value = e.latlng.lng.toFixed(6);
      if (pin) { pin.setLatLng(e.latlng); } else { pin = window.L.marker(e.latlng).addTo(map); }
    });
    var details = el.closest("details");
    if (details) details.addEventListener("toggle", function () { if (map) map.invalidateSize(); });
  }
  document.addEventListener("DOMContentLoaded", setup);
  document.addEventListener("htmx:afterSettle", setup);
})();
