// The feed's "Use my location": fills lat/lon from the browser (with permission) and submits.
// Without JavaScript (or permission) the city field works alone.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-feed-locate]");
    if (!button || !navigator.geolocation) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        var form = button.form;
        var url = new URL(form.action, window.location.href);
        url.searchParams.set("lat", pos.coords.latitude.toFixed(4));
        url.searchParams.set("lon", pos.coords.longitude.toFixed(4));
        url.searchParams.set("radius_km", form.elements.radius_km.value || "25");
        window.location.assign(url.toString());
      });
    });
  });
})();
