/* Plaza's service worker: one per host, served by GET /sw.js (app/blueprints/pwa/views.py), which
   puts the host's settings first:
     self.PLAZA = {release, workbox, precache: [{url, revision}], offline, refused, refusedHtmx, icon}
   Built on Workbox (npm packages copied to /static/vendor/workbox/ by `make assets`):
   - the app shell (CSS, JS, icons; their URLs carry their content hash) and the offline pages are
     precached per release; a new release is a new worker, found when the next page loads, that
     takes over once its app shell is cached, drops the old release's caches, and js/pwa.js says
     "Plaza was updated";
   - kept pages (staff: the bookings board and a booking; customers: the confirmation and manage
     pages) are network-first: a copy is kept on each visit, stamped with when it was fetched
     (<meta name="plaza-fetched">, shown by js/pwa.js as "Offline — as fetched at 14:05");
   - every other page is network-only, with the offline page when there is no network;
   - actions (POST/PUT/PATCH/DELETE) and HTMX requests are network-only: offline they are refused
     with a clear message (a page, or a fragment for HTMX), never queued;
   - Web Push: shows notifications, opens their page on click, resubscribes when the push service
     replaces the subscription. */
"use strict";

var PLAZA = self.PLAZA;
importScripts(PLAZA.workbox + "workbox-sw.js");
workbox.setConfig({ modulePathPrefix: PLAZA.workbox, debug: false });

var RELEASE = PLAZA.release;
workbox.core.setCacheNameDetails({ prefix: "plaza", suffix: RELEASE });
var PAGES = "plaza-pages-" + RELEASE;
var STATIC = "plaza-static-" + RELEASE;
var MEDIA = "plaza-media-" + RELEASE;
/* Pages kept for reading offline, by path. */
var KEPT_PAGES = [/^\/dashboard\/$/, /^\/dashboard\/bookings\/(?!new$)[^/]+$/, /^\/booked\/[^/]+$/, /^\/manage\/[^/]+$/];
var ACTION_METHODS = ["POST", "PUT", "PATCH", "DELETE"];

workbox.precaching.precacheAndRoute(PLAZA.precache);
/* Installed (the whole app shell of this release is cached): take over. Pages of the old release
   keep working (every static URL carries its file's hash), and js/pwa.js tells the reader. */
self.addEventListener("install", function () { self.skipWaiting(); });

function isHtmx(request) { return request.headers.get("HX-Request") === "true"; }
function sameOrigin(url) { return url.origin === self.location.origin; }
function isKeptPage(url) {
  return sameOrigin(url) && KEPT_PAGES.some(function (re) { return re.test(url.pathname); });
}

/* A copy of a page for the cache, marked with when it was fetched (the response's Date, else now). */
function stamped(response) {
  var type = response.headers.get("Content-Type") || "";
  if (response.status !== 200 || type.indexOf("text/html") !== 0) return Promise.resolve(null);
  var at = new Date(response.headers.get("Date") || Date.now());
  if (isNaN(at)) at = new Date();
  return response.text().then(function (html) {
    var meta = '<meta name="plaza-fetched" content="' + at.toISOString() + '">';
    html = html.indexOf("</head>") === -1 ? meta + html : html.replace("</head>", meta + "</head>");
    var headers = new Headers(response.headers);
    headers.delete("Content-Length");
    headers.delete("Content-Encoding");
    return new Response(html, { status: 200, statusText: "OK", headers: headers });
  });
}

var stampPlugin = { cacheWillUpdate: function (args) { return stamped(args.response); } };

/* A precached page answered with another status (503: offline). */
function precachedAs(url, status) {
  return workbox.precaching.matchPrecache(url).then(function (cached) {
    if (!cached) return Response.error();
    return cached.text().then(function (body) {
      return new Response(body, { status: status, headers: { "Content-Type": "text/html; charset=utf-8" } });
    });
  });
}

function refusal(request) {
  return isHtmx(request) ? precachedAs(PLAZA.refusedHtmx, 503) : precachedAs(PLAZA.refused, 503);
}

/* Signing out forgets the pages kept for reading offline (a shared phone keeps no one's bookings). */
var forgetOnLogout = {
  fetchDidSucceed: function (args) {
    if (new URL(args.request.url).pathname === "/logout" && args.response.status < 400) {
      return caches.delete(PAGES).then(function () { return args.response; });
    }
    return args.response;
  }
};

/* Actions: to the network or refused; never queued. */
ACTION_METHODS.forEach(function (method) {
  workbox.routing.registerRoute(function (o) { return sameOrigin(o.url); },
    new workbox.strategies.NetworkOnly({ plugins: [forgetOnLogout, { handlerDidError: function (o) { return refusal(o.request); } }] }),
    method);
});

/* HTMX reads (polling, in-page navigation): to the network, else the refusal fragment. */
workbox.routing.registerRoute(function (o) { return sameOrigin(o.url) && isHtmx(o.request); },
  new workbox.strategies.NetworkOnly({ plugins: [{ handlerDidError: function (o) { return refusal(o.request); } }] }));

/* Kept pages: the network first, the kept copy without it. */
workbox.routing.registerRoute(function (o) { return o.request.mode === "navigate" && isKeptPage(o.url); },
  new workbox.strategies.NetworkFirst({
    cacheName: PAGES,
    networkTimeoutSeconds: 8,
    matchOptions: { ignoreVary: true },
    plugins: [
      new workbox.cacheableResponse.CacheableResponsePlugin({ statuses: [200] }),
      stampPlugin,
      new workbox.expiration.ExpirationPlugin({ maxEntries: 60, maxAgeSeconds: 14 * 24 * 3600 }),
      { handlerDidError: function () { return precachedAs(PLAZA.offline, 200); } }
    ]
  }));

/* Every other page: the network, else the offline page. */
workbox.routing.registerRoute(function (o) { return o.request.mode === "navigate"; },
  new workbox.strategies.NetworkOnly({ plugins: [{ handlerDidError: function () { return precachedAs(PLAZA.offline, 200); } }] }));

/* Static files outside the app shell (maps, charts) and public media (logos, photos). */
workbox.routing.registerRoute(function (o) { return sameOrigin(o.url) && o.url.pathname.indexOf("/static/") === 0; },
  new workbox.strategies.CacheFirst({ cacheName: STATIC, plugins: [
    new workbox.cacheableResponse.CacheableResponsePlugin({ statuses: [200] }),
    new workbox.expiration.ExpirationPlugin({ maxEntries: 80 })] }));
workbox.routing.registerRoute(function (o) {
  return sameOrigin(o.url) && o.url.pathname.indexOf("/media/") === 0 && o.url.pathname.indexOf("/media/private/") !== 0;
}, new workbox.strategies.StaleWhileRevalidate({ cacheName: MEDIA, plugins: [
  new workbox.cacheableResponse.CacheableResponsePlugin({ statuses: [200] }),
  new workbox.expiration.ExpirationPlugin({ maxEntries: 80 })] }));

/* The page asks: keep these pages (the board's day and the next one) for reading offline. */
function keep(urls) {
  return caches.open(PAGES).then(function (cache) {
    return Promise.all(urls.map(function (href) {
      var url = new URL(href, self.location.origin);
      if (!isKeptPage(url)) return null;
      return fetch(url.href, { credentials: "same-origin" }).then(function (resp) {
        return resp.ok && !resp.redirected ? stamped(resp).then(function (copy) {
          return copy ? cache.put(url.href, copy) : null;
        }) : null;
      }).catch(function () { return null; });
    }));
  });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "plaza:skip-waiting") self.skipWaiting();
  if (data.type === "plaza:release" && event.ports && event.ports[0]) event.ports[0].postMessage({ release: RELEASE });
  if (data.type === "plaza:keep" && Array.isArray(data.urls)) event.waitUntil(keep(data.urls.slice(0, 8)));
});

/* A new release took over: move the kept pages over, then drop the old release's caches. */
self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    var old = keys.filter(function (k) { return k.indexOf("plaza-") === 0 && k.slice(-RELEASE.length) !== RELEASE; });
    var moves = old.filter(function (k) { return k.indexOf("plaza-pages-") === 0; }).map(function (k) {
      return Promise.all([caches.open(k), caches.open(PAGES)]).then(function (pair) {
        return pair[0].keys().then(function (requests) {
          return Promise.all(requests.map(function (req) {
            return pair[0].match(req).then(function (resp) { return resp ? pair[1].put(req, resp) : null; });
          }));
        });
      });
    });
    return Promise.all(moves).then(function () {
      return Promise.all(old.map(function (k) { return caches.delete(k); }));
    });
  }).then(function () { return self.clients.claim(); }));
});

/* --- Web Push ------------------------------------------------------------------------------- */
/* Payload JSON: {title, body, url, tag, count}. */
self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = { title: "Plaza", body: event.data ? event.data.text() : "" }; }
  var title = data.title || "Plaza";
  var options = {
    body: data.body || "",
    tag: data.tag || undefined,
    renotify: Boolean(data.tag),
    icon: PLAZA.icon,
    badge: PLAZA.icon,
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
