/* Plaza service worker: shows Web Push notifications and opens their page on click.
   Served at /sw.js (scope "/"). Payload JSON: {title, body, url, tag, count}. */
"use strict";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = { title: "Plaza", body: event.data ? event.data.text() : "" }; }
  var title = data.title || "Plaza";
  var options = {
    body: data.body || "",
    tag: data.tag || undefined,
    renotify: Boolean(data.tag),
    icon: "/static/icons/icon-192.png",
    badge: "/static/icons/icon-192.png",
    data: { url: data.url || "/notifications/" }
  };
  event.waitUntil(Promise.all([
    self.registration.showNotification(title, options),
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (clients) {
      clients.forEach(function (c) { c.postMessage({ type: "plaza:push", data: data }); });
    })
  ]));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = (event.notification.data && event.notification.data.url) || "/notifications/";
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (clients) {
    for (var i = 0; i < clients.length; i++) {
      if (clients[i].url === url && "focus" in clients[i]) return clients[i].focus();
    }
    return self.clients.openWindow ? self.clients.openWindow(url) : undefined;
  }));
});

/* The push service replaced (or expired) this browser's subscription: subscribe again with the
   server's VAPID key and store the new subscription through the same endpoint the settings page
   uses (POST /notifications/push/subscribe, with the session cookie and a CSRF token), and
   forget the old endpoint. Best effort: if it fails, the settings page subscribes on its next visit. */
function urlBase64ToUint8Array(base64) {
  var padding = "=".repeat((4 - (base64.length % 4)) % 4);
  var raw = atob((base64 + padding).replace(/-/g, "+").replace(/_/g, "/"));
  var out = new Uint8Array(raw.length);
  for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

function getJSON(url) {
  return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (resp) { return resp.ok ? resp.json() : {}; });
}

/* The session's CSRF token, handed out by the key endpoint ({"key": …, "csrf": …}). */
function csrfToken(keyInfo) {
  return Promise.resolve((keyInfo && keyInfo.csrf) || "");
}

function postJSON(url, body, token) {
  return fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": token },
    body: JSON.stringify(body)
  });
}

function resubscribe(event) {
  var old = event.oldSubscription || null;
  var keyInfo = null;
  return getJSON("/notifications/push/key").then(function (info) {
    keyInfo = info || {};
    if (event.newSubscription) return event.newSubscription;
    var key = keyInfo.key ? urlBase64ToUint8Array(keyInfo.key)
      : (old && old.options && old.options.applicationServerKey) || null;
    if (!key) return null; /* push is not configured on this server */
    return self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  }).then(function (sub) {
    if (!sub) return null;
    return csrfToken(keyInfo).then(function (token) {
      var posts = [postJSON("/notifications/push/subscribe", sub.toJSON(), token)];
      if (old && old.endpoint && old.endpoint !== sub.endpoint) {
        posts.push(postJSON("/notifications/push/unsubscribe", { endpoint: old.endpoint }, token));
      }
      return Promise.all(posts);
    });
  }).catch(function () { /* the settings page subscribes again on its next visit */ });
}

self.addEventListener("pushsubscriptionchange", function (event) {
  var work = resubscribe(event);
  try { event.waitUntil(work); } catch (e) { /* an untrusted (synthetic) event cannot be extended */ }
});
