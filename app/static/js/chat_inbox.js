/* Plaza staff inbox (templates/chat/inbox.html): when a message is posted in any of the
 * business's conversations (the staff room's "chat:activity") or this account's unread
 * count changes ("chat:unread"), fire "chat-inbox-refresh" on <body>; the inbox block and
 * the sidebar badge listen for it (hx-trigger) and re-load from the server. Without
 * Socket.IO both simply poll every 15 s. */
(function () {
  "use strict";
  if (typeof window.io !== "function" || typeof window.htmx === "undefined") return;
  if (!document.getElementById("chat-inbox")) return;
  var socket = window.plazaChatSocket || window.plazaSocket ||
    window.io({ transports: ["polling", "websocket"], reconnectionDelayMax: 5000 });
  window.plazaSocket = window.plazaSocket || socket;
  var timer = null;
  function refresh() {
    /* Several events in a burst (one message fans out to both) cause one reload. */
    if (timer) return;
    timer = window.setTimeout(function () {
      timer = null;
      window.htmx.trigger(document.body, "chat-inbox-refresh");
    }, 250);
  }
  socket.on("chat:activity", refresh);
  socket.on("chat:unread", refresh);
  /* <body data-inbox-live="on|off">: whether live updates are flowing (tests, styling). */
  socket.on("connect", function () { document.body.setAttribute("data-inbox-live", "on"); refresh(); });
  socket.on("disconnect", function () { document.body.setAttribute("data-inbox-live", "off"); });
  if (socket.connected) document.body.setAttribute("data-inbox-live", "on");
})();
