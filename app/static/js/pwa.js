/* Plaza as an installable app (issue 14), on every page for everyone:
   - registers this host's service worker (/sw.js, scope "/");
   - a new release's worker, found by the browser when the next page loads, takes over once it has
     cached its app shell (a worker still waiting from an earlier page is asked to); when the worker
     of the page's own release (data-release) controls it, the page says "Plaza was updated" if
     the previous page on this host had another release;
   - a page the worker served from its kept copy (it carries <meta name="plaza-fetched">) says so:
     "Offline — as fetched at 14:05", the time in the reader's language and zone;
   - on the bookings board, asks the worker to keep the day shown and the next day for reading offline;
   - offline, HTMX links become ordinary page loads (the worker has the pages it kept) and polling
     pauses; actions still go to the worker, which refuses them with a message.
   Its words come translated from the data-* attributes of its <script> tag (templates/pwa/_script.html). */
(function () {
  "use strict";
  var script = document.currentScript;
  var data = (script && script.dataset) || {};
  var words = {
    fetched: data.fetched || "Offline — as fetched at {time}",
    updated: data.updated || "Plaza was updated."
  };
  var lang = document.documentElement.lang || undefined;

  function toast(text) {
    var note = document.createElement("p");
    note.className = "pwa-toast";
    note.setAttribute("role", "status");
    note.setAttribute("data-pwa-toast", "");
    note.textContent = text;
    document.body.appendChild(note);
    window.setTimeout(function () { note.remove(); }, 8000);
  }

  function fetchedAt(iso) {
    var at = new Date(iso);
    if (isNaN(at)) return "";
    var time = { hour: "2-digit", minute: "2-digit" };
    var options = at.toDateString() === new Date().toDateString() ? time
      : Object.assign({ weekday: "short", day: "numeric", month: "short" }, time);
    try { return new Intl.DateTimeFormat(lang, options).format(at); } catch (e) { return at.toLocaleString(); }
  }

  function markKeptCopy() {
    var meta = document.querySelector('meta[name="plaza-fetched"]');
    if (!meta || document.querySelector("[data-pwa-offline-note]")) return;
    var note = document.createElement("p");
    note.className = "pwa-offline-note";
    note.setAttribute("role", "status");
    note.setAttribute("data-pwa-offline-note", "");
    note.textContent = words.fetched.replace("{time}", fetchedAt(meta.getAttribute("content")));
    document.body.insertBefore(note, document.body.firstChild);
  }

  function nextDay(iso) {
    var d = new Date(iso + "T00:00:00Z");
    if (isNaN(d)) return null;
    d.setUTCDate(d.getUTCDate() + 1);
    return d.toISOString().slice(0, 10);
  }

  /* The board's day and the next one, as day views with the same staff filter as the links. */
  function boardDays() {
    var board = document.querySelector("#bookings[data-poll][hx-get]");
    if (!board) return [];
    var url = new URL(board.getAttribute("hx-get"), window.location.href);
    var day = url.searchParams.get("date");
    if (!day) return [];
    url.searchParams.set("view", "day");
    var urls = [url.pathname + url.search];
    var next = nextDay(day);
    if (next) { url.searchParams.set("date", next); urls.push(url.pathname + url.search); }
    return urls;
  }

  function keepBoard() {
    if (!navigator.onLine || !navigator.serviceWorker || !navigator.serviceWorker.controller) return;
    var urls = boardDays();
    if (urls.length) navigator.serviceWorker.controller.postMessage({ type: "plaza:keep", urls: urls });
  }

  /* The release of the worker controlling this page (it answers over a MessageChannel). */
  function workerRelease(worker) {
    return new Promise(function (resolve) {
      var channel = new MessageChannel();
      channel.port1.onmessage = function (e) { resolve((e.data && e.data.release) || ""); };
      worker.postMessage({ type: "plaza:release" }, [channel.port2]);
      window.setTimeout(function () { resolve(""); }, 5000);
    });
  }

  /* Once the worker of this page's release controls it, say so if the last page had another. */
  var told = false;
  function tellIfUpdated() {
    var worker = navigator.serviceWorker.controller;
    if (!worker || !data.release || told) return;
    workerRelease(worker).then(function (release) {
      if (release !== data.release || told) return; /* the new release's worker is not active yet */
      var last = null;
      try { last = window.localStorage.getItem("plaza:release"); window.localStorage.setItem("plaza:release", release); }
      catch (e) { return; }
      told = true;
      if (last && last !== release) toast(words.updated);
    });
  }

  /* Ask the waiting worker to take over; asked again until it has (a message that reaches a worker
     while the browser is still checking /sw.js for updates can be lost). */
  function activate(reg) {
    var tries = 0;
    (function ask() {
      if (!reg.waiting || tries++ > 20) return;
      reg.waiting.postMessage({ type: "plaza:skip-waiting" });
      window.setTimeout(ask, 1000);
    })();
  }

  function register() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.addEventListener("controllerchange", function () { keepBoard(); tellIfUpdated(); });
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function (reg) {
      /* A new release installed during an earlier page: this navigation activates it. */
      if (reg.waiting && navigator.serviceWorker.controller) activate(reg);
      tellIfUpdated();
    }).catch(function () { /* no worker: the site works as a plain website */ });
  }

  /* Offline: a click on an HTMX link loads the page (the worker's kept copy); polling waits. */
  document.addEventListener("htmx:beforeRequest", function (e) {
    if (navigator.onLine) return;
    var config = e.detail.requestConfig || {};
    if ((config.verb || "get").toLowerCase() !== "get") return;
    var elt = e.detail.elt;
    var trigger = config.triggeringEvent;
    if (elt && elt.tagName === "A" && elt.href && trigger && trigger.type === "click") {
      e.preventDefault();
      window.location.assign(elt.href);
    } else if (!trigger) {
      e.preventDefault(); /* a poll ("every 10s"): nothing to ask for offline */
    }
  });
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.target && e.target.id === "bookings") keepBoard();
  });
  document.addEventListener("click", function (e) {
    var back = e.target.closest && e.target.closest("[data-pwa-back]");
    if (back && window.history.length > 1) { e.preventDefault(); window.history.back(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    markKeptCopy();
    keepBoard();
  });
  register();
})();
