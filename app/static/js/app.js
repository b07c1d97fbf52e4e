// Plaza page behaviour (no inline scripts: the CSP forbids them).
(function () {
  "use strict";
  // Fill hidden/select time-zone fields with the browser's zone unless the user chose one.
  function fillTimezone(root) {
    var tz;
    try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!tz) return;
    (root || document).querySelectorAll("[data-browser-tz]").forEach(function (el) {
      if (el.dataset.userChosen === "1") return;
      if (el.tagName === "SELECT") {
        if (el.value === "" || el.dataset.defaulted === "1") {
          var has = Array.prototype.some.call(el.options, function (o) { return o.value === tz; });
          if (has) { el.value = tz; }
        }
      } else if (!el.value) {
        el.value = tz;
      }
    });
    (root || document).querySelectorAll("a[data-add-tz]").forEach(function (a) {
      var url = new URL(a.href, window.location.href);
      if (!url.searchParams.get("tz")) { url.searchParams.set("tz", tz); a.href = url.toString(); }
    });
  }
  // <time data-local datetime="ISO 8601"> shows the instant in the reader's own zone
  // ("1 Dec 2026, 07:46"); without JavaScript the server's UTC text stays.
  var localFormat = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric",
                                                       hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  function localizeTimes(root) {
    (root || document).querySelectorAll("time[data-local]").forEach(function (el) {
      var at = new Date(el.getAttribute("datetime"));
      if (!isNaN(at)) { el.textContent = localFormat.format(at); el.title = el.getAttribute("datetime"); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    fillTimezone(document);
    localizeTimes(document);
    var redirect = document.querySelector("[data-tz-redirect]");
    if (redirect) {
      var url = new URL(window.location.href);
      var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (tz && !url.searchParams.get("tz")) { url.searchParams.set("tz", tz); window.location.replace(url.toString()); }
    }
  });
  document.addEventListener("change", function (e) {
    if (e.target && e.target.matches("select[data-browser-tz]")) { e.target.dataset.userChosen = "1"; }
    if (e.target && e.target.matches("[data-autosubmit]")) { e.target.form.requestSubmit ? e.target.form.requestSubmit() : e.target.form.submit(); }
  });
  document.addEventListener("htmx:afterSwap", function (e) { fillTimezone(e.target); localizeTimes(e.target); });

  /* ONE Socket.IO connection per page, shared by notifications.js (the live bell), chat.js and
   * chat_inbox.js: window.plazaSocket, opened by whichever script asks first, always with the
   * same options. It starts with HTTP long-polling and upgrades to WebSocket when it can, so
   * where WebSockets are blocked (proxies, browsers) everything keeps working over polling.
   * On a guest's manage-link chat page (#chat[data-manage-token], no account) the socket
   * authenticates with the booking's manage token in the Socket.IO auth payload (sent again on
   * every reconnect; never in the URL); such a socket joins no user room (socket.plazaGuest).
   * Returns null when the Socket.IO client is not on the page (base.html loads it only for
   * logged-in people and a guest's live chat), so anonymous pages never open a socket. */
  window.plazaRealtime = {
    socket: function () {
      if (window.plazaSocket) return window.plazaSocket;
      if (typeof window.io !== "function") return null;
      var options = { transports: ["polling", "websocket"], reconnectionDelayMax: 5000 };
      var chat = document.querySelector("#chat[data-manage-token]");
      var token = chat && chat.getAttribute("data-manage-token");
      if (token) options.auth = { manage_token: token };
      var socket = window.io(options);
      socket.plazaGuest = Boolean(token);
      window.plazaSocket = socket;
      return socket;
    }
  };
  // Validation errors (422) and conflicts (409) come back with the re-rendered block: swap them in like a 200.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var status = e.detail.xhr && e.detail.xhr.status;
    if (status === 422 || status === 409) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
  // Any other refusal of an HTMX request (400 bad input, 403, 404, 429 too many requests, 5xx) is a
  // whole error page: show its message above the page instead of silently doing nothing.
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    if (!xhr || xhr.status === 422 || xhr.status === 409) return;
    var message = "Something went wrong; nothing was saved. Reload the page and try again.";
    try {
      var type = xhr.getResponseHeader("Content-Type") || "";
      if (type.indexOf("json") !== -1) {
        message = JSON.parse(xhr.responseText).detail || message;
      } else {
        var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
        var p = doc.querySelector(".error-page p");
        if (p && p.textContent.trim()) message = p.textContent.trim();
      }
    } catch (err) { /* keep the generic message */ }
    var holder = document.querySelector(".flashes");
    if (!holder) {
      holder = document.createElement("div");
      holder.className = "flashes";
      var main = document.querySelector("main");
      if (main) { main.parentNode.insertBefore(holder, main); } else { document.body.prepend(holder); }
    }
    var note = document.createElement("p");
    note.className = "flash error";
    note.setAttribute("role", "alert");
    note.textContent = message;
    holder.replaceChildren(note);
    note.scrollIntoView({ block: "nearest" });
  });
})();
