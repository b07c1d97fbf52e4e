// Business profiles (issue 11, part F): maps (Leaflet, tiles from the page's data-tiles, MAP_TILE_URL)
// and the gallery's lightbox.
// * [data-pin-map]: the settings page's map; dragging the pin (or tapping the map) fills the
//   latitude/longitude fields, and typing in them moves the pin. Without JS the fields still work.
// * [data-profile-map]: the public profile's small read-only map of the business's point.
(function () {
  "use strict";

  // Gallery: a thumbnail links to its full photo (works without JS); with JS it opens in a
  // <dialog> (Esc or the button closes it and focus returns to the thumbnail).
  function lightbox(link) {
    var dialog = document.getElementById("pf-lightbox");
    if (!dialog || typeof dialog.showModal !== "function") return;
    link.addEventListener("click", function (e) {
      e.preventDefault();
      var img = dialog.querySelector("img");
      img.src = link.href;
      img.alt = link.dataset.alt || "";
      dialog.querySelector("p").textContent = link.dataset.caption || "";
      dialog.showModal();
      dialog.querySelector("button").focus();
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-lightbox]").forEach(lightbox);
    var dialog = document.getElementById("pf-lightbox");
    if (dialog) {
      dialog.querySelector("button").addEventListener("click", function () { dialog.close(); });
      dialog.addEventListener("click", function (e) { if (e.target === dialog) dialog.close(); });
    }
  });

  if (!window.L) return;

  function tiles(map, el) {
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
  }

  function pinMap(el) {
    var lat = document.getElementById(el.dataset.latField);
    var lon = document.getElementById(el.dataset.lonField);
    if (!lat || !lon) return;
    var has = lat.value !== "" && lon.value !== "";
    var start = has ? [parseFloat(lat.value), parseFloat(lon.value)] : [30, 0];
    var map = L.map(el, { scrollWheelZoom: false }).setView(start, has ? 16 : 2);
    tiles(map, el);
    var editable = !el.closest("fieldset[disabled]");
    var marker = L.marker(start, { draggable: editable, keyboard: true, title: "Your business", alt: "Pin of your business" });
    if (has) marker.addTo(map);
    function fill(latlng) {
      lat.value = latlng.lat.toFixed(6);
      lon.value = latlng.lng.toFixed(6);
    }
    marker.on("dragend", function () { fill(marker.getLatLng()); });
    if (editable) {
      map.on("click", function (e) {
        marker.setLatLng(e.latlng);
        if (!map.hasLayer(marker)) marker.addTo(map);
        fill(e.latlng);
      });
    }
    function typed() {
      var a = parseFloat(lat.value), b = parseFloat(lon.value);
      if (isFinite(a) && isFinite(b) && Math.abs(a) <= 90 && Math.abs(b) <= 180) {
        marker.setLatLng([a, b]);
        if (!map.hasLayer(marker)) marker.addTo(map);
        map.panTo([a, b]);
      }
    }
    lat.addEventListener("change", typed);
    lon.addEventListener("change", typed);
  }

  function profileMap(el) {
    var point = [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)];
    var map = L.map(el, { scrollWheelZoom: false, dragging: !L.Browser.mobile, tap: false }).setView(point, 15);
    tiles(map, el);
    L.marker(point, { keyboard: false, alt: el.dataset.name || "" }).addTo(map);
  }

  function init(root) {
    (root || document).querySelectorAll("[data-pin-map]:not([data-ready])").forEach(function (el) {
      el.dataset.ready = "1";
      el.classList.add("is-live");
      pinMap(el);
    });
    (root || document).querySelectorAll("[data-profile-map]:not([data-ready])").forEach(function (el) {
      el.dataset.ready = "1";
      el.classList.add("is-live");
      profileMap(el);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (e) { init(e.target); });
})();
