/* Plaza chat: upgrades the no-JS conversation page (templates/chat/conversation.html) to
 * Socket.IO. Messages arrive live, the form sends over the socket with an acknowledgement,
 * delivery and read receipts, presence, typing, unread badges across tabs, and on every
 * (re)connect the page re-joins with the last message seq it has, so nothing is missed.
 * Without a connection the form simply posts as a normal HTML form.
 * Message HTML comes sanitised by the server (nh3: only <a href> and <br>) and is inserted
 * inside an element carrying hx-disable, so htmx never processes it. */
(function () {
  "use strict";
  if (typeof window.io !== "function") return;
  var root = document.getElementById("chat");
  var list = document.getElementById("chat-list");
  if (!root && !list) return;

  /* The page's one shared socket (app.js: window.plazaRealtime): long-polling first, upgraded
   * to WebSocket when it can; on a guest's manage-link page it authenticates with the
   * booking's manage token (#chat[data-manage-token]). The bell (notifications.js) listens on
   * the same socket. window.plazaChatSocket is the same object, kept as a name for tests. */
  if (!window.plazaRealtime) return;
  var socket = window.plazaRealtime.socket();

  /* The page's words in its language (data-i18n on #chat or #chat-list, JSON made by the
   * template from the translation catalogue); English when a word is missing. */
  var words = {};
  try { words = JSON.parse((root || list).getAttribute("data-i18n") || "{}"); } catch (e) { words = {}; }
  function t(key, fallback, values) {
    var text = words[key] || fallback;
    Object.keys(values || {}).forEach(function (name) { text = text.split("%(" + name + ")s").join(values[name]); });
    return text;
  }
  var pageLang = document.documentElement.lang || "en-GB";
  window.plazaChatSocket = socket;

  /* "chat:unread" carries the count ({unread}) after a join or a read, or "one more"
   * ({delta}) after a message: the send path reads no counts. */
  function setBadges(data) {
    var badges = document.querySelectorAll('[data-unread-for="' + data.conversation_id + '"]');
    for (var i = 0; i < badges.length; i++) {
      var n = typeof data.unread === "number" ? data.unread
        : (parseInt(badges[i].getAttribute("data-unread"), 10) || 0) + (data.delta || 0);
      badges[i].textContent = t("unread", "%(num)s unread", { num: String(n) });
      badges[i].hidden = n === 0;
      badges[i].setAttribute("data-unread", String(n));
    }
  }
  socket.on("chat:unread", setBadges);
  if (!root) return;

  var conversationId = root.getAttribute("data-conversation-id");
  var tenantId = root.getAttribute("data-tenant-id");
  var me = root.getAttribute("data-participant-id");
  var role = root.getAttribute("data-role");
  var other = role === "customer" ? "staff" : "customer";
  var maxBody = parseInt(root.getAttribute("data-max-body"), 10) || 4000;
  var lastSeq = parseInt(root.getAttribute("data-last-seq"), 10) || 0;
  var receipts = { delivered: parseInt(root.getAttribute("data-delivered-seq"), 10) || 0,
                   read: parseInt(root.getAttribute("data-read-seq"), 10) || 0 };
  var messages = document.getElementById("chat-messages");
  var form = document.getElementById("chat-form");
  var textarea = document.getElementById("chat-body");
  var errorBox = document.getElementById("chat-error");
  var status = document.getElementById("chat-status");
  var presence = document.getElementById("chat-presence");
  var typingBox = document.getElementById("chat-typing");
  var joined = false;
  var typingTimer = null;
  var typingSent = false;
  var theirTypingTimer = null;
  var readSent = 0;
  // The same clock as the server-rendered messages: the business's zone, "1 Dec, 07:43".
  var timeOptions = { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  var timeFormat;
  try {
    timeFormat = new Intl.DateTimeFormat(pageLang, Object.assign({ timeZone: root.dataset.tz || undefined }, timeOptions));
  } catch (e) {
    timeFormat = new Intl.DateTimeFormat(pageLang, timeOptions);
  }

  root.setAttribute("data-live", "connecting");

  function showError(text) {
    if (!form) return; /* a closed conversation: read-only, no form */
    errorBox.textContent = text || "";
    errorBox.hidden = !text;
    form.classList.toggle("invalid", !!text);
    if (text) { textarea.setAttribute("aria-invalid", "true"); } else { textarea.removeAttribute("aria-invalid"); }
  }

  function receiptText(seq) {
    if (seq <= receipts.read) return t("read", "Read");
    if (seq <= receipts.delivered) return t("delivered", "Delivered");
    return t("sent", "Sent");
  }

  function renderReceipts() {
    var mine = messages.querySelectorAll("li.chat-msg.mine");
    for (var i = 0; i < mine.length; i++) {
      var seq = parseInt(mine[i].getAttribute("data-seq"), 10);
      var p = mine[i].querySelector("[data-receipt]");
      if (p) p.textContent = receiptText(seq);
    }
  }

  function append(msg) {
    if (msg.conversation_id !== conversationId) return;
    if (messages.querySelector('li[data-seq="' + msg.seq + '"]')) return;
    var empty = document.getElementById("chat-empty");
    if (empty) empty.remove();
    var mine = msg.author_participant_id === me;
    var li = document.createElement("li");
    li.className = "chat-msg " + (mine ? "mine" : "theirs");
    li.id = "m" + msg.seq;
    li.setAttribute("data-seq", String(msg.seq));
    li.setAttribute("data-id", msg.id);
    var meta = document.createElement("p");
    meta.className = "chat-meta";
    var author = document.createElement("span");
    author.className = "chat-author";
    author.textContent = msg.author_name;
    var time = document.createElement("time");
    time.setAttribute("datetime", msg.created_at);
    time.textContent = timeFormat.format(new Date(msg.created_at));
    meta.appendChild(author);
    meta.appendChild(document.createTextNode(" "));
    meta.appendChild(time);
    var body = document.createElement("div");
    body.className = "chat-body";
    body.innerHTML = msg.html; /* server-sanitised (nh3), inside hx-disable */
    li.appendChild(meta);
    li.appendChild(body);
    if (mine) {
      var r = document.createElement("p");
      r.className = "chat-receipt";
      r.setAttribute("data-receipt", "");
      r.textContent = receiptText(msg.seq);
      li.appendChild(r);
    }
    // keep order by seq even when a missed message arrives after a newer one
    var after = null;
    var items = messages.querySelectorAll("li.chat-msg");
    for (var i = items.length - 1; i >= 0; i--) {
      if (parseInt(items[i].getAttribute("data-seq"), 10) < msg.seq) { after = items[i]; break; }
    }
    if (after) { after.after(li); } else { messages.prepend(li); }
    if (msg.seq > lastSeq) lastSeq = msg.seq;
    root.setAttribute("data-last-seq", String(lastSeq));
    li.scrollIntoView({ block: "end" });
    if (!mine) {
      socket.emit("delivered", { conversation_id: conversationId, seq: msg.seq });
      markRead();
    }
  }

  function markRead() {
    if (!joined || document.visibilityState !== "visible" || lastSeq <= readSent) return;
    readSent = lastSeq;
    socket.emit("read", { conversation_id: conversationId, seq: lastSeq });
  }

  function setPresence(online) {
    var others = (online || []).filter(function (id) { return id !== me; });
    var on = others.length > 0;
    presence.setAttribute("data-online", on ? "yes" : "no");
    var label = role === "customer" ? (on ? t("business_online", "The business is online") : t("business_offline", "The business is offline"))
      : (on ? t("customer_online", "The customer is online") : t("customer_offline", "The customer is offline"));
    presence.querySelector(".chat-presence-text").textContent = label;
  }

  function applyReceipts(data) {
    if (!data || data.conversation_id !== conversationId) return;
    receipts = data[other] || receipts;
    renderReceipts();
  }

  function join() {
    socket.emit("join", { conversation_id: conversationId, tenant_id: tenantId, last_seq: lastSeq }, function (ack) {
      if (!ack || !ack.ok) {
        root.setAttribute("data-live", "refused");
        status.textContent = t("refused", "Live updates are not available; the page still works — reload to see new messages.");
        return;
      }
      joined = true;
      root.setAttribute("data-live", "on");
      status.textContent = "";
      (ack.messages || []).forEach(append);
      if (ack.more) { join(); return; }  // missed more than one page: fetch the rest, then carry on
      applyReceipts(ack.receipts);
      setPresence(ack.online);
      markRead();
    });
  }

  socket.on("connect", join);
  if (socket.connected) join();
  socket.on("disconnect", function () {
    joined = false;
    root.setAttribute("data-live", "reconnecting");
    status.textContent = t("lost", "Connection lost — reconnecting…");
  });
  socket.on("connect_error", function () {
    root.setAttribute("data-live", "reconnecting");
    status.textContent = t("lost", "Connection lost — reconnecting…");
  });
  socket.on("chat:message", append);
  socket.on("chat:receipts", applyReceipts);
  socket.on("chat:presence", function (data) {
    if (data.conversation_id === conversationId) setPresence(data.online);
  });
  socket.on("chat:typing", function (data) {
    if (data.conversation_id !== conversationId || data.participant_id === me) return;
    typingBox.textContent = data.typing ? t("typing", "%(name)s is typing…", { name: data.name }) : "";
    clearTimeout(theirTypingTimer);
    if (data.typing) theirTypingTimer = setTimeout(function () { typingBox.textContent = ""; }, 6000);
  });
  document.addEventListener("visibilitychange", markRead);
  window.addEventListener("focus", markRead);

  function stopTyping() {
    if (typingSent) socket.emit("typing", { conversation_id: conversationId, typing: false });
    typingSent = false;
  }

  if (form) textarea.addEventListener("input", function () {
    if (!joined) return;
    if (!typingSent) {
      socket.emit("typing", { conversation_id: conversationId, typing: true });
      typingSent = true;
    }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, 3000);
  });

  if (form) form.addEventListener("submit", function (event) {
    if (!joined || !socket.connected) return; /* plain form post */
    event.preventDefault();
    var body = textarea.value.trim();
    if (!body) { showError(t("empty", "Write a message before sending.")); return; }
    if (body.length > maxBody) { showError(t("too_long", "A message can be at most %(max)s characters.", { max: maxBody.toLocaleString(pageLang) })); return; }
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    socket.timeout(10000).emit("send", { conversation_id: conversationId, body: body, client_id: String(Date.now()) },
      function (err, ack) {
        button.disabled = false;
        if (err) { showError(t("slow", "Not sent: the connection is slow. Try again.")); return; }
        if (!ack.ok) { showError(ack.error || t("not_sent", "Not sent.")); return; }
        showError("");
        textarea.value = "";
        clearTimeout(typingTimer);
        stopTyping();
        append(ack.message);
      });
  });
})();
