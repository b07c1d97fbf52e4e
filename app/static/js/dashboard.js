// Staff dashboard behaviour (no inline scripts: the CSP forbids them).
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // The bookings board polls; skip a poll while someone is typing in it or has a cancel form open,
  // or while the tab is hidden, so their input is never replaced under them.
  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-poll")) return;
    if (e.detail.requestConfig && e.detail.requestConfig.verb !== "get") return;
    var active = document.activeElement;
    var typing = active && elt.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
    if (document.hidden || typing || elt.querySelector("details[open]")) {
      e.preventDefault();
    }
  });

  // Weekly hours editor: add and remove range rows in place (without JS the "Add range"
  // button posts the form and the server adds a row).
  function renumber(row, index) {
    row.querySelectorAll("[name], [id], label[for]").forEach(function (el) {
      ["name", "id", "for"].forEach(function (attr) {
        var v = el.getAttribute(attr);
        if (v) el.setAttribute(attr, v.replace(/rows-\d+-/, "rows-" + index + "-"));
      });
    });
  }
  function nextIndex(body) {
    var max = -1;
    body.querySelectorAll("[name^='rows-']").forEach(function (el) {
      var m = /^rows-(\d+)-/.exec(el.getAttribute("name"));
      if (m) max = Math.max(max, parseInt(m[1], 10));
    });
    return max + 1;
  }
  function showRemoveButtons(root) {
    (root || document).querySelectorAll("[data-remove-row]").forEach(function (b) { b.hidden = false; });
  }
  document.addEventListener("click", function (e) {
    var add = e.target.closest && e.target.closest("[data-add-row]");
    if (add) {
      var form = add.closest("form");
      var body = form && form.querySelector("[data-rows]");
      var rows = body ? body.querySelectorAll("[data-row]") : [];
      if (!rows.length) return;
      e.preventDefault();
      var last = rows[rows.length - 1];
      var clone = last.cloneNode(true);
      clone.classList.remove("invalid");
      clone.querySelectorAll(".field-error").forEach(function (p) { p.remove(); });
      clone.querySelectorAll("input").forEach(function (i) { i.value = ""; i.removeAttribute("aria-invalid"); });
      var lastSelect = last.querySelector("select");
      var select = clone.querySelector("select");
      if (select && lastSelect) select.value = lastSelect.value;
      renumber(clone, nextIndex(body));
      body.appendChild(clone);
      var first = clone.querySelector("input");
      if (first) first.focus();
      return;
    }
    var remove = e.target.closest && e.target.closest("[data-remove-row]");
    if (remove) {
      e.preventDefault();
      var row = remove.closest("[data-row]");
      var tbody = row && row.parentNode;
      if (tbody && tbody.querySelectorAll("[data-row]").length > 1) {
        row.remove();
      } else if (row) {
        row.querySelectorAll("input").forEach(function (i) { i.value = ""; });
      }
      return;
    }
    var copy = e.target.closest && e.target.closest("[data-copy]");
    if (copy) {
      var source = document.querySelector(copy.getAttribute("data-copy"));
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () { copy.textContent = copy.getAttribute("data-copied") || "Copied"; });
      }
    }
  });
  document.addEventListener("DOMContentLoaded", function () { showRemoveButtons(document); });
  document.addEventListener("htmx:afterSwap", function () { showRemoveButtons(document); });
})();

/* ---- Front desk (issue 10, part B): calendar drag and drop, the Move… dialog, free starts ---- */
(function () {
  var dragged = null;
  function clearOver() {
    document.querySelectorAll(".cal-over").forEach(function (c) { c.classList.remove("cal-over"); });
  }
  document.addEventListener("dragstart", function (e) {
    var ev = e.target.closest && e.target.closest(".cal-ev[data-booking]");
    if (!ev) return;
    dragged = ev;
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", ev.getAttribute("data-booking"));
    ev.classList.add("cal-dragging");
    var grid = ev.closest(".cal-grid");
    setTimeout(function () { if (grid) grid.classList.add("cal-dragging-on"); }, 0);
  });
  document.addEventListener("dragend", function () {
    if (dragged) {
      dragged.classList.remove("cal-dragging");
      var grid = dragged.closest(".cal-grid");
      if (grid) grid.classList.remove("cal-dragging-on");
    }
    dragged = null;
    clearOver();
  });
  document.addEventListener("dragover", function (e) {
    if (!dragged) return;
    var cell = e.target.closest && e.target.closest("[data-drop]");
    if (!cell) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    if (!cell.classList.contains("cal-over")) { clearOver(); cell.classList.add("cal-over"); }
  });
  document.addEventListener("drop", function (e) {
    if (!dragged) return;
    var cell = e.target.closest && e.target.closest("[data-drop]");
    if (!cell) return;
    e.preventDefault();
    var cal = cell.closest("[data-calendar]");
    var url = dragged.getAttribute("data-move-url");
    htmx.ajax("POST", url, {
      source: cell, target: "#calendar", swap: "outerHTML",
      values: { day: cell.getAttribute("data-day"), time: cell.getAttribute("data-time"),
                staff: cell.getAttribute("data-staff") || "", from: "calendar",
                view: cal.getAttribute("data-view"), date: cal.getAttribute("data-date"),
                staff_filter: cal.getAttribute("data-staff-filter") }
    });
  });
  document.addEventListener("click", function (e) {
    var opener = e.target.closest && e.target.closest("[data-open-dialog]");
    if (opener) {
      var dlg = document.getElementById(opener.getAttribute("data-open-dialog"));
      if (dlg && dlg.showModal) { e.preventDefault(); dlg.showModal(); var f = dlg.querySelector("input, select"); if (f) f.focus(); }
      return;
    }
    var closer = e.target.closest && e.target.closest("[data-close-dialog]");
    if (closer) {
      var d = closer.closest("dialog");
      if (d) { e.preventDefault(); d.close(); }
      return;
    }
    var pick = e.target.closest && e.target.closest("[data-set-time]");
    if (pick) {
      e.preventDefault();
      var input = document.getElementById(pick.getAttribute("data-target") || "time");
      if (input) { input.value = pick.getAttribute("data-set-time"); }
      var list = pick.closest(".desk-starts");
      if (list) list.querySelectorAll("[data-set-time]").forEach(function (b) { b.setAttribute("aria-pressed", b === pick ? "true" : "false"); });
    }
  });
  function openMarked(root) {
    (root || document).querySelectorAll("dialog[data-open]").forEach(function (d) { if (!d.open && d.showModal) d.showModal(); });
  }
  document.addEventListener("DOMContentLoaded", function () { openMarked(document); });
  document.addEventListener("htmx:afterSwap", function () { openMarked(document); });
})();

// --- part E (issue 10): the phone's "More" menu ---------------------------------------------------
// On a phone the sidebar (#db-menu) is a bottom bar; "More" opens the whole list as a sheet. Without
// JavaScript "More" is a link to #db-menu and CSS :target opens it; with it, the class "open" does,
// aria-expanded follows, focus moves into the menu, and Escape, "Close" or a tap outside close it.
(function () {
  "use strict";
  function menu() { return document.getElementById("db-menu"); }
  function more() { return document.querySelector("[data-more]"); }
  function setOpen(open, returnFocus) {
    var m = menu(), b = more();
    if (!m || !b) return;
    m.classList.toggle("open", open);
    b.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      var first = m.querySelector(".db-nav a");
      if (first) first.focus();
    } else if (returnFocus) {
      b.focus();
    }
  }
  function isOpen() { var m = menu(); return !!(m && m.classList.contains("open")); }
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!t.closest) return;
    if (t.closest("[data-more]")) { e.preventDefault(); setOpen(!isOpen(), false); return; }
    if (t.closest("[data-menu-close]")) { e.preventDefault(); setOpen(false, true); return; }
    if (isOpen() && !t.closest("#db-menu")) setOpen(false, false);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && isOpen()) { setOpen(false, true); return; }
    // role="button" on a link: Space activates it too.
    if (e.key === " " && e.target.closest && e.target.closest("[data-more]")) { e.preventDefault(); setOpen(!isOpen(), false); }
  });
})();
