/* Notifications: live unread badge over Socket.IO (when the real-time client is on the page),
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

  function connectLive() {
    // The chat client exposes its socket as window.plazaSocket; otherwise open one if io() is loaded.
    var socket = window.plazaSocket || null;
    if (!socket && typeof window.io === "function") {
      try { socket = window.io({ transports: ["websocket", "polling"] }); window.plazaSocket = socket; } catch (e) { socket = null; }
    }
    if (socket && socket.on) socket.on("notification", onNotification);
    document.addEventListener("plaza:socket-ready", function (ev) {
      if (ev.detail && ev.detail.on && ev.detail !== socket) ev.detail.on("notification", onNotification);
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
    navigator.serviceWorker.ready.then(function (reg) {
      return reg.pushManager.getSubscription().then(function (sub) {
        if (sub) { status.textContent = "Push is on for this device."; return; }
        button.hidden = false;
        button.addEventListener("click", function () {
          Notification.requestPermission().then(function (perm) {
            if (perm !== "granted") { status.textContent = "Push was not allowed in this browser."; return; }
            reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: urlBase64ToUint8Array(key) })
              .then(function (s) {
                return fetch("/notifications/push/subscribe", {
                  method: "POST", credentials: "same-origin",
                  headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
                  body: JSON.stringify(s.toJSON())
                });
              })
              .then(function (resp) {
                status.textContent = resp && resp.ok ? "Push is on for this device." : "Could not turn push on.";
                button.hidden = resp && resp.ok;
              })
              .catch(function () { status.textContent = "Could not turn push on."; });
          });
        });
      });
    });
  }

  function registerWorker() {
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { /* optional */ });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    registerWorker();
    connectLive();
    setupPush();
  });
})();
