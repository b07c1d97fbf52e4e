// Accessibility helpers for every page (WCAG 2.2 AA): focus after HTMX swaps, live regions,
// and reduced motion. No inline scripts: the CSP forbids them.
//
// Focus after a swap the person asked for (a click, a key, a form; never a poll):
//   1. an error summary ([data-error-summary], .error[role=alert], .flash.error) in the new content,
//   else an element with [autofocus] in it (the page chose);
//   when focus went with the old content: 2. the control with the same id, re-rendered (a select
//   that submitted itself), else 3. an element marked [data-focus], else 4. the first heading
//   (h1-h3) of the swapped region, else the region itself.
// Arrow keys: inside a [data-arrow-nav] group, Left/Right/Up/Down/Home/End move between its links
// and buttons (Tab still visits each one).
// Headings and summaries get tabindex="-1" so they can take focus without entering the tab order.
//
// Live regions: two visually hidden containers made once per page (#a11y-status, polite;
// #a11y-alert, assertive). window.plazaAnnounce(text, urgent) speaks through them. Refused or
// failed HTMX requests are announced as alerts; [data-announce] elements arriving in a swap
// (a new booking on the board, a new message) are announced politely.
(function () {
  "use strict";
  var SUMMARY = "[data-error-summary], .error[role=alert], .flash.error, .errors[role=alert]";
  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)");
  // The translated words come from the script tag (base.html): data-error, data-failed.
  var script = document.currentScript;
  var words = { error: (script && script.getAttribute("data-error")) || "",
                failed: (script && script.getAttribute("data-failed")) || "",
                fresh: (script && script.getAttribute("data-new")) || "" };
  // Polled live regions ([aria-live] swapped by a timer: the board, the inbox) are replaced whole,
  // which screen readers do not read out; what is new in them (a link not there before: a new
  // booking, a new conversation) is announced instead.
  var linksBefore = null;
  function links(root) {
    var seen = {};
    if (root && root.querySelectorAll) {
      Array.prototype.forEach.call(root.querySelectorAll("a[href]"), function (a) { seen[a.getAttribute("href")] = a; });
    }
    return seen;
  }

  function region(id, politeness) {
    var el = document.getElementById(id);
    if (el) return el;
    el = document.createElement("div");
    el.id = id;
    el.className = "sr-only";
    el.setAttribute("aria-live", politeness);
    el.setAttribute("aria-atomic", "true");
    if (politeness === "assertive") el.setAttribute("role", "alert"); else el.setAttribute("role", "status");
    document.body.appendChild(el);
    return el;
  }

  // Speak ``text`` once: urgent ones interrupt (assertive), others wait their turn (polite).
  window.plazaAnnounce = function (text, urgent) {
    if (!text || !document.body) return;
    var el = region(urgent ? "a11y-alert" : "a11y-status", urgent ? "assertive" : "polite");
    el.textContent = "";
    window.setTimeout(function () { el.textContent = String(text).replace(/\s+/g, " ").trim(); }, 60);
  };

  function focusable(el) {
    if (!el.matches("a[href], button, input, select, textarea, [tabindex]")) el.setAttribute("tabindex", "-1");
    el.focus({ preventScroll: false });
    return document.activeElement === el;
  }

  function within(root, selector) {
    if (!root || !root.querySelector) return null;
    if (root.matches && root.matches(selector)) return root;
    return root.querySelector(selector);
  }

  function lostFocus(before) {
    var now = document.activeElement;
    return !now || now === document.body || now === document.documentElement || (before && !before.isConnected);
  }

  function userRequest(detail) {
    var cfg = detail && detail.requestConfig;
    var ev = cfg && cfg.triggeringEvent;
    return Boolean(ev && ev.isTrusted !== false && /^(click|submit|change|keyup|keydown|input|search)$/.test(ev.type));
  }

  var focusBefore = null, focusId = null;
  document.addEventListener("htmx:beforeSwap", function () {
    focusBefore = document.activeElement;
    focusId = focusBefore && focusBefore !== document.body ? focusBefore.id : null;
  });
  document.addEventListener("htmx:beforeSwap", function (e) {
    var target = e.detail && e.detail.target;
    linksBefore = target && target.id && target.matches("[aria-live]") && !userRequest(e.detail)
      ? { id: target.id, links: links(target) } : null;
  });

  document.addEventListener("htmx:afterSettle", function (e) {
    var target = e.detail && (e.detail.target || e.target);
    if (!target || !target.isConnected) target = document.querySelector("main") || document.body;
    var asked = userRequest(e.detail);
    var announce = target.querySelectorAll ? target.querySelectorAll("[data-announce]") : [];
    Array.prototype.forEach.call(announce, function (el) {
      window.plazaAnnounce(el.getAttribute("data-announce") || el.textContent, false);
      el.removeAttribute("data-announce");
    });
    if (linksBefore) {
      var now = links(document.getElementById(linksBefore.id));
      var added = Object.keys(now).filter(function (href) { return !linksBefore.links[href]; }).slice(0, 3);
      if (added.length) {
        window.plazaAnnounce(added.map(function (href) { return words.fresh + " " + now[href].textContent; }).join(". "), false);
      }
      linksBefore = null;
    }
    if (!asked) return;
    var summary = within(target, SUMMARY);
    if (summary) { focusable(summary); return; }
    var auto = within(target, "[autofocus]");  // the page's own choice (a question's heading) wins
    if (auto) { focusable(auto); return; }
    if (!lostFocus(focusBefore)) return;
    var same = focusId && document.getElementById(focusId);  // the same control, re-rendered: stay there
    if (same && same !== document.body) { focusable(same); return; }
    var mark = within(target, "[data-focus]");
    if (mark) { focusable(mark); return; }
    var heading = within(target, "h1, h2, h3");
    if (heading) { focusable(heading); return; }
    focusable(target);
  });

  // A refused form (422) or a conflict (409) re-renders with its errors: say so out loud too.
  document.addEventListener("htmx:afterSwap", function (e) {
    var status = e.detail && e.detail.xhr && e.detail.xhr.status;
    if (status === 422 || status === 409) {
      var summary = within(e.detail.target, SUMMARY);
      window.plazaAnnounce(summary ? summary.textContent : words.error,
                           true);
    }
  });
  ["htmx:responseError", "htmx:sendError"].forEach(function (name) {
    document.addEventListener(name, function () {
      window.plazaAnnounce(words.failed, true);
    });
  });

  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey || !e.target.closest) return;
    var group = e.target.closest("[data-arrow-nav]");
    if (!group) return;
    var items = Array.prototype.filter.call(group.querySelectorAll("a[href], button:not([disabled])"),
                                            function (el) { return el.offsetParent !== null; });
    var at = items.indexOf(e.target);
    if (at < 0) return;
    var to = { ArrowRight: at + 1, ArrowDown: at + 1, ArrowLeft: at - 1, ArrowUp: at - 1, Home: 0, End: items.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    items[Math.max(0, Math.min(items.length - 1, to))].focus();
  });

  // A region that scrolls sideways (a wide table on a phone) and holds nothing focusable cannot be
  // scrolled from the keyboard: make it a tab stop (arrow keys then scroll it), named after its
  // caption or the heading before it.
  var FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";
  function scrollablesReachable(root) {
    var scope = (root && root.querySelectorAll) ? root : document;
    var candidates = Array.prototype.slice.call(scope.querySelectorAll("main table, main .km-table-wrap, main .cal-scroll"), 0, 200);
    candidates.forEach(function (el) {
      if (el.hasAttribute("tabindex") || el.scrollWidth <= el.clientWidth + 1 || el.querySelector(FOCUSABLE)) return;
      var overflow = getComputedStyle(el).overflowX;
      if (overflow !== "auto" && overflow !== "scroll") return;
      el.setAttribute("tabindex", "0");
      if (el.tagName === "DIV" && !el.hasAttribute("role")) el.setAttribute("role", "region");
      if (!el.hasAttribute("aria-label") && !el.hasAttribute("aria-labelledby")) {
        var caption = el.querySelector("caption");
        var heading = caption || (el.previousElementSibling && el.previousElementSibling.matches("h1, h2, h3, h4")
                                  ? el.previousElementSibling : null);
        if (heading && el.tagName === "DIV") el.setAttribute("aria-label", heading.textContent.trim());
      }
    });
  }
  document.addEventListener("htmx:afterSettle", function (e) { scrollablesReachable(e.detail && e.detail.elt); });
  window.addEventListener("load", function () { window.setTimeout(function () { scrollablesReachable(document); }, 0); });

  document.addEventListener("DOMContentLoaded", function () {
    region("a11y-status", "polite");
    region("a11y-alert", "assertive");
    // A page rendered with errors (no JavaScript round trip): start at its summary.
    var summary = document.querySelector("main [data-error-summary]");
    if (summary) focusable(summary);
  });

  // Reduced motion: no smooth scrolling from any script (scrollIntoView / scrollTo options).
  if (reducedMotion && reducedMotion.matches) {
    var into = Element.prototype.scrollIntoView;
    Element.prototype.scrollIntoView = function (arg) {
      if (arg && typeof arg === "object") arg = Object.assign({}, arg, { behavior: "auto" });
      return into.call(this, arg);
    };
    var to = window.scrollTo;
    window.scrollTo = function (x, y) {
      if (x && typeof x === "object") return to.call(window, Object.assign({}, x, { behavior: "auto" }));
      return to.call(window, x, y);
    };
  }
})();
