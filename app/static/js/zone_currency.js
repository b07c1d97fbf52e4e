// Time zone and currency selects of signup and business settings (no inline scripts: the CSP
// forbids them). A zone select marked data-defaulted="1" takes the browser's zone (old names
// such as Asia/Calcutta found through data-links); a currency select marked data-defaulted="1"
// follows the chosen zone's country (the option's data-currency), else the region of the
// browser's language (data-regions: en-GB -> GBP), until the person picks a currency.
(function () {
  "use strict";
  function browserZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return ""; }
  }
  function hasOption(select, value) {
    return Array.prototype.some.call(select.options, function (o) { return o.value === value; });
  }
  function resolveZone(select, tz) {
    if (!tz) return "";
    if (hasOption(select, tz)) return tz;
    var links = {};
    try { links = JSON.parse(select.dataset.links || "{}"); } catch (e) { links = {}; }
    return links[tz] && hasOption(select, links[tz]) ? links[tz] : "";
  }
  function localeCurrency(select) {
    var regions = {};
    try { regions = JSON.parse(select.dataset.regions || "{}"); } catch (e) { regions = {}; }
    var langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ""];
    for (var i = 0; i < langs.length; i++) {
      var parts = String(langs[i]).split("-");
      var region = parts.length > 1 ? parts[parts.length - 1].toUpperCase() : "";
      if (regions[region]) return regions[region];
    }
    return "";
  }
  function setup(form) {
    var zone = form.querySelector("select[data-zone-select]");
    var currency = form.querySelector("select[data-currency-select]");
    if (!zone) return;
    var mine = resolveZone(zone, browserZone());
    if (zone.dataset.defaulted === "1" && mine) zone.value = mine;
    var useMine = form.querySelector("[data-use-browser-zone]");
    if (useMine) {
      if (mine && mine !== zone.value) {
        useMine.hidden = false;
        useMine.querySelector("[data-browser-zone-name]").textContent = mine.replace(/_/g, " ");
        useMine.querySelector("button").addEventListener("click", function () {
          zone.value = mine; zone.dispatchEvent(new Event("change")); useMine.hidden = true;
        });
      }
    }
    function followZone() {
      if (!currency || currency.dataset.defaulted !== "1") return;
      var option = zone.options[zone.selectedIndex];
      var code = (option && option.dataset.currency) || localeCurrency(currency);
      if (code && hasOption(currency, code)) currency.value = code;
    }
    zone.addEventListener("change", followZone);
    if (currency) currency.addEventListener("change", function () { currency.dataset.defaulted = "0"; });
    followZone();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(function (form) {
      if (form.querySelector("select[data-zone-select]")) setup(form);
    });
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var root = event.target;
    var form = root.tagName === "FORM" ? root : root.querySelector && root.querySelector("form");
    if (form && form.querySelector("select[data-zone-select]")) setup(form);
  });
})();
