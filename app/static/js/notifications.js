/* Notifications: live unread badge over the page's shared Socket.IO connection,
   the service worker, and the "turn on push" button on the settings page. No inline code. */
(function () {
  "use strict";

  function setBadge(unread) {
    var badge = document.querySelector("#notif-badge .notif-count");
    if (!badge) return;
    var n = Number(unread) || 0;
    badge.dataset.unread = String(n);
    badge.classList.toggle("empty", n === 0);
    badge.textContent = n === 0 ? "" : (n > 99 ? "99+" : String(n));
    if (n > 0) { /* the same markup as notifications/_badge.html */
      var sr = document.createElement("span");
      sr.className = "sr-only";
      var holder = document.getElementById("notif-badge");
      sr.textContent = " " + ((holder && holder.getAttribute("data-unread-word")) || "unread");
      badge.appendChild(sr);
    }
  }

  function toast(note) {
    if (!note || !note.title) return;
    var box = document.createElement("a");
    box.className = "notif-toast";
    box.href = "/notifications/" + encodeURIComponent(note.id) + "/open";
    var strong = document.createElement("strong");
    strong.textContent = note.title;
    var p = document.createElement("p");
    p.textContent = note.body || "";
    box.appendChild(strong);
    box.appendChild(p);
    document.body.appendChild(box);
    setTimeout(function () { box.remove(); }, 6000);
  }

  function onNotification(data) {
    if (!data) return;
    if (typeof data.unread !== "undefined") setBadge(data.unread);
    if (data.notification) toast(data.notification);
    document.body.dispatchEvent(new CustomEvent("plaza:notification", { detail: data }));
  }

  /* The bell listens on the page's one shared socket (app.js: window.plazaRealtime, also used
   * by the chat). While that socket is connected the server pushes every change ("notification"
   * events with the unread count), so the badge's 60 s htmx poll (_bell.html) is skipped; when
   * the socket is down, or absent, the poll runs as before. After a reconnect the badge is
   * re-loaded once, for whatever changed while the connection was down.
   * #notif-badge[data-live] says which mode is on ("on" / "off"), for styling and tests. */
  function connectLive() {
    var holder = document.getElementById("notif-badge");
    var socket = window.plazaRealtime ? window.plazaRealtime.socket() : null;
    if (!holder || !socket || socket.plazaGuest) return; /* a guest's chat socket joins no user room */
    var wasConnected = socket.connected;
    function mark() { holder.setAttribute("data-live", socket.connected ? "on" : "off"); }
    socket.on("notification", onNotification);
    socket.on("connect", function () {
      if (wasConnected && window.htmx) window.htmx.trigger(document.body, "plaza:notifications");
      wasConnected = true;
      mark();
    });
    socket.on("disconnect", mark);
    mark();
    document.addEventListener("htmx:confirm", function (event) {
      var d = event.detail || {};
      /* the poll ("every 60s") has no triggering event; "plaza:notifications" has one */
      if (d.elt === holder && !d.triggeringEvent && socket.connected) event.preventDefault();
    });
  }

  function urlBase64ToUint8Array(base64) {
    var padding = "=".repeat((4 - (base64.length % 4)) % 4);
    var raw = atob((base64 + padding).replace(/-/g, "+").replace(/_/g, "/"));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function csrfToken() {
    var holder = document.body.getAttribute("hx-headers");
    try { return JSON.parse(holder)["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function setupPush() {
    var box = document.getElementById("push-setup");
    var button = document.getElementById("push-enable");
    var status = document.getElementById("push-status");
    if (!box || !button || !("serviceWorker" in navigator) || !("PushManager" in window)) return;
    var key = box.dataset.key;
    var words = {};
    try { words = JSON.parse(box.getAttribute("data-i18n") || "{}"); } catch (e) { words = {}; }
    function t(name, fallback) { return words[name] || fallback; }
    navigator.serviceWorker.ready.then(function (reg) {
      return reg.pushManager.getSubscription().then(function (sub) {
        if (sub) { status.textContent = t("on", "Push is on for this device."); return; }
        button.hidden = false;
        button.addEventListener("click", function () {
          Notification.requestPermission().then(function (perm) {
            if (perm !== "granted") { status.textContent = t("denied", "Push was not allowed in this browser."); return; }
            reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: urlBase64ToUint8Array(key) })
              .then(function (s) {
                return fetch("/notifications/push/subscribe", {
                  method: "POST", credentials: "same-origin",
                  headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
                  body: JSON.stringify(s.toJSON())
                });
              })
              .then(function (resp) {
                button.hidden = resp && resp.ok;
                if (resp && resp.ok) { status.textContent = t("on", "Push is on for this device."); return; }
                // e.g. 409: this browser already receives another account's notifications
                return resp.json().catch(function () { return {}; }).then(function (data) {
                  status.textContent = t("failed", "Could not turn push on.") + (data && data.error ? " " + data.error : "");
                });
              })
              .catch(function () { status.textContent = t("failed", "Could not turn push on."); });
          });
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    connectLive();
    setupPush();
  });
})();
