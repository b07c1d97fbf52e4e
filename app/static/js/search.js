// Apex search page (site/search.html): the "Near me" button (browser location, with permission),
// typing a place clears a previous location, and the Leaflet map of the results, drawn again
// after each HTMX swap. No inline scripts (the CSP forbids them); the page works without this file.
(function () {
  "use strict";
  var map = null;

  function field(id) { return document.getElementById(id); }
  // Messages in the page's language come from the search form's data-msg-* attributes (site/search.html).
  function t(name, fallback) { var form = field("search-form"); return (form && form.dataset[name]) || fallback; }

  function submit() {
    var form = field("search-form");
    if (!form) return;
    if (window.htmx) { window.htmx.trigger(form, "submit"); } else { form.submit(); }
  }

  function setupLocate() {
    var button = document.querySelector("[data-locate]");
    var error = document.querySelector("[data-locate-error]");
    var near = field("near");
    if (!button || !near) return;
    if (!("geolocation" in navigator)) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(function (pos) {
        button.disabled = false;
        if (error) error.hidden = true;
        field("lat").value = pos.coords.latitude.toFixed(5);
        field("lon").value = pos.coords.longitude.toFixed(5);
        near.value = "";
        near.placeholder = t("msgYourLocation", "Your location");
        submit();
      }, function () {
        button.disabled = false;
        if (error) { error.textContent = t("msgNoLocation", "Your location is not available: type a city or postcode."); error.hidden = false; }
      }, { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 });
    });
    near.addEventListener("input", function () {
      field("lat").value = "";
      field("lon").value = "";
      near.placeholder = t("msgCityOrPostcode", "City or postcode");
    });
  }

  function drawMap() {
    var el = field("search-map");
    if (map) { map.remove(); map = null; }
    if (!el || !window.L) return;
    var points = [];
    try { points = JSON.parse(el.dataset.points || "[]"); } catch (e) { points = []; }
    var centre = (el.dataset.centre || "").split(",").map(Number);
    if (!points.length && centre.length !== 2) return;
    el.textContent = "";
    map = window.L.map(el, { scrollWheelZoom: false });
    if (el.dataset.tiles) {
      window.L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    var bounds = [];
    points.forEach(function (p) {
      var marker = window.L.marker([p.lat, p.lon], { title: p.name, alt: p.name }).addTo(map);
      var link = document.createElement("a");
      link.href = p.url;
      link.textContent = p.name + (p.featured ? " (Featured)" : "");
      marker.bindPopup(link);
      bounds.push([p.lat, p.lon]);
    });
    if (centre.length === 2 && !isNaN(centre[0])) bounds.push(centre);
    if (bounds.length > 1) { map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 }); }
    else { map.setView(bounds[0], 14); }
    // Dragging the map: offer to search the area now in view.
    var area = document.createElement("button");
    area.type = "button";
    area.className = "button small search-area";
    area.textContent = t("msgSearchArea", "Search this area");
    area.hidden = true;
    el.parentNode.appendChild(area);
    map.on("dragend", function () { area.hidden = false; });
    area.addEventListener("click", function () {
      var c = map.getCenter();
      field("lat").value = c.lat.toFixed(5);
      field("lon").value = c.lng.toFixed(5);
      field("near").value = "";
      field("near").placeholder = t("msgMapArea", "Map area");
      submit();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupLocate();
    drawMap();
  });
  document.addEventListener("htmx:afterSettle", function () {
    var el = field("search-map");
    if (el && (!map || map.getContainer() !== el)) drawMap();
  });
})();
