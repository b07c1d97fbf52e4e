/* Dispatch now (issue 13): the operator's phone page and the customer's live status page.
 *
 * Both pages fetch their server-rendered block again on every dispatch:* Socket.IO event
 * (the "dispatch-refresh" event on <body>, see hx-trigger in the templates) and poll as a
 * fallback, so nothing here builds markup.
 *
 * Operator (#dispatch-panel[data-online="1"]): the phone's position from
 * navigator.geolocation.watchPosition goes over the page's shared socket
 * (window.plazaRealtime) as dispatch:position {lat, lon}, at most every 5 s and at least every
 * 30 s (the server forgets a position after two minutes of silence). The offer's countdown
 * ([data-countdown] = expiry, ISO 8601) ticks every second.
 *
 * Customer (#dispatch-status[data-request-id]): dispatch:watch {request_id} on every (re)connect.
 * Request form ([data-now-form]): "Use my location" fills the hidden lat/lon fields.
 */
(function () {
  "use strict";
  var MIN_GAP_MS = 5000, KEEPALIVE_MS = 30000;
  var socket = null, watchId = null, last = null, lastSent = 0, keepalive = null;

  function getSocket() {
    if (!socket && window.plazaRealtime && window.io) socket = window.plazaRealtime.socket();
    return socket;
  }
  function refresh() { document.body.dispatchEvent(new CustomEvent("dispatch-refresh")); }
  function geoStatus(text, key) {
    var el = document.querySelector("[data-geo-status]");
    if (!el) return;
    var words = {};
    try { words = JSON.parse(el.getAttribute("data-i18n") || "{}"); } catch (e) { words = {}; }
    text = (key && words[key]) || text;
    el.hidden = !text; el.textContent = text || "";
  }
  function send(force) {
    var s = getSocket();
    if (!s || !last) return;
    var now = Date.now();
    if (!force && now - lastSent < MIN_GAP_MS) return;
    lastSent = now;
    s.emit("dispatch:position", { lat: last.lat, lon: last.lon }, function (ack) {
      if (ack && ack.ok && ack.stored) geoStatus("Sharing your location with dispatch.", "sharing");
    });
  }
  function startSharing() {
    if (watchId !== null || !navigator.geolocation) return;
    watchId = navigator.geolocation.watchPosition(function (pos) {
      last = { lat: pos.coords.latitude, lon: pos.coords.longitude };
      send(false);
    }, function () { geoStatus("Allow location access so dispatch can find you.", "denied"); },
    { enableHighAccuracy: true, maximumAge: 10000 });
    keepalive = window.setInterval(function () { send(true); }, KEEPALIVE_MS);
  }
  function stopSharing() {
    if (watchId !== null && navigator.geolocation) navigator.geolocation.clearWatch(watchId);
    if (keepalive) window.clearInterval(keepalive);
    watchId = null; keepalive = null; last = null;
  }
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = Math.max(0, Math.round((Date.parse(el.getAttribute("data-countdown")) - Date.now()) / 1000));
      el.textContent = String(left);
    });
  }
  function watchRequest(id) {
    var s = getSocket();
    if (!s) return;
    var join = function () { s.emit("dispatch:watch", { request_id: id }); };
    s.on("connect", join);
    if (s.connected) join();
  }
  function setUp() {
    var panel = document.getElementById("dispatch-panel");
    if (panel) {
      if (panel.getAttribute("data-online") === "1") startSharing(); else stopSharing();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var s = getSocket();
    if (s) {
      s.on("dispatch:offer", refresh);
      s.on("dispatch:changed", refresh);
    }
    var status = document.getElementById("dispatch-status");
    if (status) watchRequest(status.getAttribute("data-request-id"));
    setUp();
    window.setInterval(tick, 1000);
    var form = document.querySelector("[data-now-form]");
    var use = document.querySelector("[data-use-location]");
    if (form && use && navigator.geolocation) {
      use.addEventListener("click", function () {
        var out = document.querySelector("[data-location-status]");
        var words = {};
        try { words = JSON.parse(form.getAttribute("data-i18n") || "{}"); } catch (e) { words = {}; }
        out.textContent = words.finding || "Finding you…";
        navigator.geolocation.getCurrentPosition(function (pos) {
          form.querySelector("[name=lat]").value = pos.coords.latitude.toFixed(6);
          form.querySelector("[name=lon]").value = pos.coords.longitude.toFixed(6);
          out.textContent = words.shared || "Location shared.";
        }, function () { out.textContent = words.failed || "Could not get your location: type a postcode instead."; });
      });
    }
  });
  document.addEventListener("htmx:afterSettle", setUp);
})();
