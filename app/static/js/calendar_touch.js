/* Calendar drag and drop with a finger or a pen (issue 10): Pointer Events.
 *
 * A mouse drags with HTML5 drag and drop (dashboard.js). Touch and pen do not fire those events,
 * so here a long press (LONG_PRESS_MS without moving more than SLOP_PX) picks the booking up;
 * until then the page scrolls as usual. Once picked up, scrolling is held off, the slot under
 * the finger is highlighted (.cal-over), and lifting the finger over a slot posts to the same
 * move endpoint as a mouse drop; lifting it elsewhere, or a cancelled pointer, puts it back.
 * The Move… dialog on the booking page stays the keyboard way. */
(function () {
  "use strict";
  var LONG_PRESS_MS = 450;
  var SLOP_PX = 10;
  var pending = null;   // {ev, id, x, y, timer} while waiting for the long press
  var picked = null;    // {ev, id, cell} while a booking is held
  var swallowClick = false;

  function clearOver() {
    document.querySelectorAll(".cal-over").forEach(function (c) { c.classList.remove("cal-over"); });
  }
  function cellAt(x, y) {
    var hit = document.elementFromPoint(x, y);
    return hit && hit.closest ? hit.closest("[data-drop]") : null;
  }
  function cancelPending() {
    if (pending) { clearTimeout(pending.timer); pending = null; }
  }
  function drop(ev, cell) {
    var cal = cell.closest("[data-calendar]");
    htmx.ajax("POST", ev.getAttribute("data-move-url"), {
      source: cell, target: "#calendar", swap: "outerHTML",
      values: { day: cell.getAttribute("data-day"), time: cell.getAttribute("data-time"),
                staff: cell.getAttribute("data-staff") || "", from: "calendar",
                view: cal.getAttribute("data-view"), date: cal.getAttribute("data-date"),
                staff_filter: cal.getAttribute("data-staff-filter") }
    });
  }
  function release(commit) {
    if (!picked) return;
    var p = picked;
    picked = null;
    p.ev.classList.remove("cal-dragging", "cal-held");
    var grid = p.ev.closest(".cal-grid");
    if (grid) grid.classList.remove("cal-dragging-on");
    clearOver();
    swallowClick = true;
    setTimeout(function () { swallowClick = false; }, 400);
    if (commit && p.cell) drop(p.ev, p.cell);
  }

  document.addEventListener("pointerdown", function (e) {
    if (e.pointerType === "mouse" || !e.isPrimary) return;
    var ev = e.target.closest && e.target.closest(".cal-ev[data-booking]");
    if (!ev) return;
    cancelPending();
    pending = { ev: ev, id: e.pointerId, x: e.clientX, y: e.clientY, timer: setTimeout(function () {
      var p = pending;
      pending = null;
      if (!p) return;
      picked = { ev: p.ev, id: p.id, cell: null };
      p.ev.classList.add("cal-dragging", "cal-held");
      var grid = p.ev.closest(".cal-grid");
      if (grid) grid.classList.add("cal-dragging-on");
      if (navigator.vibrate) { try { navigator.vibrate(15); } catch (err) { /* not allowed: fine */ } }
    }, LONG_PRESS_MS) };
  });

  document.addEventListener("pointermove", function (e) {
    if (pending && e.pointerId === pending.id &&
        Math.abs(e.clientX - pending.x) + Math.abs(e.clientY - pending.y) > SLOP_PX) {
      cancelPending();  // the finger moved first: a scroll, not a pick-up
      return;
    }
    if (!picked || e.pointerId !== picked.id) return;
    var cell = cellAt(e.clientX, e.clientY);
    if (cell !== picked.cell) {
      clearOver();
      picked.cell = cell;
      if (cell) cell.classList.add("cal-over");
    }
  });

  document.addEventListener("pointerup", function (e) {
    if (pending && e.pointerId === pending.id) cancelPending();
    if (picked && e.pointerId === picked.id) {
      picked.cell = cellAt(e.clientX, e.clientY) || picked.cell;
      release(true);
    }
  });
  document.addEventListener("pointercancel", function (e) {
    if (pending && e.pointerId === pending.id) cancelPending();
    if (picked && e.pointerId === picked.id) release(false);
  });

  // While a booking is held the page must not scroll under the finger.
  document.addEventListener("touchmove", function (e) {
    if (picked) e.preventDefault();
  }, { passive: false });
  // A long press on a link opens the browser's menu; on a booking it picks it up instead.
  document.addEventListener("contextmenu", function (e) {
    if ((pending || picked) && e.target.closest && e.target.closest(".cal-ev[data-booking]")) e.preventDefault();
  });
  // Lifting the finger after a drag must not also open the booking.
  document.addEventListener("click", function (e) {
    if (swallowClick && e.target.closest && e.target.closest(".cal-ev[data-booking]")) {
      e.preventDefault();
      e.stopPropagation();
    }
  }, true);
  document.addEventListener("htmx:beforeSwap", function () { cancelPending(); release(false); });
})();
