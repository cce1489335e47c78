// Parley chat widget: one <script src="https://parley.example/widget.js" defer></script>
// adds a launcher button and a chat panel to any page. It speaks the protocol of
// channels/webchat/PROTOCOL.md over one websocket.
//
// Configuration, all optional, as data attributes of the script tag:
//   data-parley-url   the websocket URL (ws:, wss:, http: or https:); default: "ws"
//                     next to this script, so /widget.js talks to /ws of its own host
//   data-title        the panel's title (default "Chat with us")
//   data-user-id, data-email, data-name, data-signature
//                     the signed-in user of the host page; signature is the hex
//                     HMAC-SHA256 of user_id + "\n" + email, made by the host's backend
// Any element of the host page with a data-parley-open attribute opens the chat.
// On a conversation with no message yet the panel shows the server's greeting and
// starter buttons (widget.json next to this script, the domain's welcome section); a
// starter clicked is sent as the visitor's message.
//
// Caveats: the widget lives in an open shadow root (styles do not leak either way),
// renders every message with textContent, and needs no inline script or style, so it
// works under a Content-Security-Policy with script-src and style-src 'self' (the host
// page must allow this script's origin in script-src, style-src and connect-src).
// localStorage keeps the token, the messages, the last seq and the outbox; without it
// the conversation lasts as long as the page. Two tabs share one conversation through
// the server, but each writes its own copy of the state.
(() => {
  "use strict";

  const loaded = Symbol.for("parley.widget");
  if (window[loaded]) return;
  window[loaded] = true;

  const script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  if (!script) return;
  const data = script.dataset;
  const scriptURL = new URL(script.getAttribute("src"), document.baseURI);

  const MAX_CHARS = 2000; // PROTOCOL.md: text and comment limit, in characters (code points)
  const MAX_BYTES = 4096; // ... and in bytes of UTF-8 (an emoji takes four)
  const tooLong = (s) => Array.from(s).length > MAX_CHARS || new TextEncoder().encode(s).length > MAX_BYTES;
  const MAX_KEPT = 200; // messages kept in localStorage
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 30000;
  const TYPING_IDLE_MS = 3000;
  const TYPING_SHOWN_MS = 20000; // hide the bot's typing indicator if no stop comes
  const NOTICE_MS = 8000;

  const wsURL = socketURL(data.parleyUrl, scriptURL);
  const cssURL = new URL("widget.css", scriptURL).href;
  const welcomeURL = new URL("widget.json", scriptURL).href;
  const identity = readIdentity(data);
  const storageKey = "parley:v1:" + wsURL + (identity ? ":" + (identity.user_id || identity.email) : "");

  // socketURL turns the configured URL, or "ws" next to the script, into ws: or wss:.
  function socketURL(configured, base) {
    const u = new URL(configured || "ws", base);
    u.protocol = { "http:": "ws:", "https:": "wss:" }[u.protocol] || u.protocol;
    u.hash = "";
    return u.href;
  }

  function readIdentity(d) {
    if (!d.userId && !d.email) return null;
    const id = { user_id: d.userId || "", email: d.email || "", signature: d.signature || "" };
    if (d.name) id.name = d.name;
    return id;
  }

  // ---- persisted state ------------------------------------------------------

  const store = openStorage();
  const state = Object.assign(
    {
      token: "", conversationId: "", lastSeq: 0,
      messages: [], // sorted by seq: {seq, id, sender, agent, text, at, client_id, quick_replies}
      outbox: [], // unacknowledged: {client_id, text}
      open: false,
      csatDone: "", // the conversation whose rating was acknowledged
      idPrefix: "", nextId: 1, // client_id = idPrefix + "-" + nextId
    },
    store.load(),
  );
  if (!state.idPrefix) state.idPrefix = "c-" + randomHex(8);

  function openStorage() {
    let ls = null;
    try {
      ls = window.localStorage;
      ls.setItem("parley:probe", "1");
      ls.removeItem("parley:probe");
    } catch (e) {
      ls = null; // disabled or full: keep the conversation in memory only
    }
    return {
      load() {
        if (!ls) return {};
        try {
          const v = JSON.parse(ls.getItem(storageKey) || "{}");
          return sanitizeState(v);
        } catch (e) {
          return {};
        }
      },
      save(s) {
        if (!ls) return;
        try {
          ls.setItem(storageKey, JSON.stringify(s));
        } catch (e) {
          // Quota exceeded: the live conversation goes on; only reload-survival suffers.
        }
      },
    };
  }

  // sanitizeState keeps only well-formed fields of what localStorage held.
  function sanitizeState(v) {
    if (!v || typeof v !== "object") return {};
    const s = {};
    if (typeof v.token === "string") s.token = v.token;
    if (typeof v.conversationId === "string") s.conversationId = v.conversationId;
    if (Number.isInteger(v.lastSeq) && v.lastSeq >= 0) s.lastSeq = v.lastSeq;
    if (Array.isArray(v.messages)) {
      s.messages = v.messages.filter((m) => m && Number.isInteger(m.seq) && typeof m.text === "string");
      s.messages.sort((a, b) => a.seq - b.seq);
    }
    if (Array.isArray(v.outbox)) {
      s.outbox = v.outbox
        .filter((m) => m && typeof m.client_id === "string" && typeof m.text === "string")
        .map((m) => ({ client_id: m.client_id, text: m.text }));
    }
    if (typeof v.open === "boolean") s.open = v.open;
    if (typeof v.csatDone === "string") s.csatDone = v.csatDone;
    if (typeof v.idPrefix === "string" && /^c-[0-9a-f]{16}$/.test(v.idPrefix)) s.idPrefix = v.idPrefix;
    if (Number.isInteger(v.nextId) && v.nextId > 0) s.nextId = v.nextId;
    return s;
  }

  function save() {
    if (state.messages.length > MAX_KEPT) state.messages = state.messages.slice(-MAX_KEPT);
    store.save(state);
  }

  function randomHex(bytes) {
    const b = new Uint8Array(bytes);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  function newClientID() {
    const id = state.idPrefix + "-" + state.nextId;
    state.nextId++;
    return id;
  }

  // ---- DOM ------------------------------------------------------------------

  // h builds an element. attrs are static strings of this file; message data only
  // ever goes through textContent.
  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== false && v != null) e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) e.append(c);
    return e;
  }

  function svg(pathData) {
    const ns = "http://www.w3.org/2000/svg";
    const s = document.createElementNS(ns, "svg");
    s.setAttribute("viewBox", "0 0 24 24");
    s.setAttribute("aria-hidden", "true");
    s.setAttribute("focusable", "false");
    const p = document.createElementNS(ns, "path");
    p.setAttribute("d", pathData);
    s.append(p);
    return s;
  }

  const ICON_CHAT = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";
  const ICON_CLOSE = "M6.4 5L12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z";
  const ICON_SEND = "M3 20.5V14l9-2-9-2V3.5L22 12z";

  const title = data.title || "Chat with us";
  const ui = {};

  ui.host = h("div", { class: "parley-host", "data-parley-widget": true });
  ui.shadow = ui.host.attachShadow({ mode: "open" });

  ui.badge = h("span", { class: "parley-badge", hidden: true, "aria-hidden": "true" });
  ui.launcherIcon = svg(ICON_CHAT);
  ui.launcher = h("button", { type: "button", class: "parley-launcher", "aria-label": "Open chat", "aria-expanded": "false",
    "aria-controls": "parley-panel" }, ui.launcherIcon, ui.badge);
  ui.subtitle = h("p", { class: "parley-subtitle" });
  ui.close = h("button", { type: "button", class: "parley-close", "aria-label": "Close chat" }, svg(ICON_CLOSE));
  ui.status = h("p", { class: "parley-status", role: "status" });
  ui.log = h("div", { class: "parley-log", role: "log", "aria-live": "polite", "aria-label": "Messages", tabindex: "0" });
  // The greeting heads the log; data-seq 0 keeps every message after it (place).
  ui.greeting = h("p", { class: "parley-greeting", "data-seq": "0", hidden: true });
  ui.typing = h("p", { class: "parley-typing", hidden: true });
  ui.replies = h("div", { class: "parley-replies", role: "group", "aria-label": "Suggested replies", hidden: true });
  ui.notice = h("p", { class: "parley-notice", role: "status" });

  ui.csatQuestion = h("p", { class: "parley-csat-question", id: "parley-csat-question" });
  ui.csatScores = h("div", { class: "parley-csat-scores" });
  const scoreNames = ["", "very unhappy", "unhappy", "neutral", "happy", "very happy"];
  for (let i = 1; i <= 5; i++) {
    ui.csatScores.append(
      h("button", { type: "button", class: "parley-csat-score", "data-score": i, "aria-pressed": "false", "aria-label": i + " of 5, " + scoreNames[i] }, String(i)),
    );
  }
  ui.csatComment = h("textarea", { id: "parley-csat-comment", class: "parley-csat-comment", rows: "2", maxlength: String(MAX_CHARS) });
  ui.csatSend = h("button", { type: "button", class: "parley-csat-send", disabled: true }, "Send rating");
  ui.csatForm = h("div", { class: "parley-csat-form" }, ui.csatScores,
    h("p", { class: "parley-csat-scale", "aria-hidden": "true" }, h("span", {}, "1 = very unhappy"), h("span", {}, "5 = very happy")),
    h("label", { for: "parley-csat-comment", class: "parley-csat-label" }, "Comment (optional)"), ui.csatComment, ui.csatSend);
  ui.csatThanks = h("p", { class: "parley-csat-thanks", hidden: true }, "Thank you for your feedback!");
  ui.csat = h("div", { class: "parley-csat", role: "group", "aria-labelledby": "parley-csat-question", hidden: true }, ui.csatQuestion, ui.csatForm, ui.csatThanks);

  ui.input = h("textarea", { id: "parley-input", class: "parley-input", rows: "1", placeholder: "Type your message…",
    autocomplete: "off", "aria-describedby": "parley-hint" });
  ui.form = h("form", { class: "parley-form" },
    h("label", { for: "parley-input", class: "parley-sr-only" }, "Your message"),
    h("span", { id: "parley-hint", class: "parley-sr-only" }, "Enter sends, Shift+Enter starts a new line, Escape closes the chat."),
    ui.input,
    h("button", { type: "submit", class: "parley-send", "aria-label": "Send" }, svg(ICON_SEND)));
  ui.panel = h("div", { id: "parley-panel", class: "parley-panel", role: "dialog", "aria-modal": "false",
    "aria-labelledby": "parley-title", hidden: true },
    h("div", { class: "parley-header" },
      h("div", { class: "parley-heading" }, h("h2", { id: "parley-title", class: "parley-title" }, title), ui.subtitle), ui.close),
    ui.status, ui.log, ui.typing, ui.replies, ui.csat, ui.notice, ui.form);
  ui.root = h("div", { class: "parley-root", hidden: true }, ui.launcher, ui.panel);

  const css = h("link", { rel: "stylesheet", href: cssURL });
  // Show the widget once its styles are there (or failed), never unstyled; an open
  // panel (reopened after a reload) is laid out only now: show its newest message.
  const reveal = () => {
    ui.root.removeAttribute("hidden");
    if (isOpen()) scrollDown(true);
  };
  css.addEventListener("load", reveal);
  css.addEventListener("error", reveal);
  ui.shadow.append(css, ui.root);

  const pendingEls = new Map(); // client_id -> element

  const senderNames = { customer: "You", bot: "Assistant", system: "Notice" };

  function messageElement(m, pending) {
    const sender = pending ? "customer" : m.sender;
    const who = sender === "agent" ? m.agent || "Agent" : senderNames[sender] || "Assistant";
    const kind = sender in senderNames || sender === "agent" ? sender : "bot";
    const e = h("div", { class: "parley-msg parley-msg--" + kind });
    const name = h("span", { class: sender === "agent" ? "parley-msg-name" : "parley-sr-only" });
    name.textContent = sender === "agent" ? who + " (agent)" : who + ": ";
    const body = h("span", { class: "parley-msg-text" });
    body.textContent = m.text;
    e.append(name, body);
    const meta = h("span", { class: "parley-msg-meta" });
    meta.textContent = pending ? "Sending…" : timeText(m.at);
    e.append(meta);
    if (pending) {
      e.classList.add("parley-msg--pending");
    } else {
      e.dataset.seq = String(m.seq);
    }
    return e;
  }

  function timeText(at) {
    const d = at ? new Date(at) : null;
    if (!d || isNaN(d)) return "";
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // place puts a confirmed message's element in seq order, before pending ones.
  function place(e, seq) {
    let before = null;
    for (const child of ui.log.children) {
      const s = child.dataset.seq;
      if (s === undefined || Number(s) > seq) {
        before = child;
        break;
      }
    }
    if (e.parentNode === ui.log && (e.nextElementSibling === before || e === before)) {
      return; // already in place: moving it would make screen readers read it again
    }
    ui.log.insertBefore(e, before);
  }

  function nearBottom() {
    return ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 60;
  }

  function scrollDown(force) {
    if (force || nearBottom()) {
      ui.log.scrollTop = ui.log.scrollHeight;
      pinned = true;
    }
  }

  // pinned: the log shows its newest message, and stays so when its box changes
  // size (the panel laid out once its styles load, a status line or the starters
  // coming and going, a phone's keyboard) until the visitor scrolls up.
  let pinned = true;
  ui.log.addEventListener("scroll", () => {
    if (!ui.log.clientHeight) return; // hidden: no layout to read
    pinned = nearBottom();
  }, { passive: true });
  if (typeof ResizeObserver === "function") {
    new ResizeObserver(() => {
      if (pinned && ui.log.clientHeight) ui.log.scrollTop = ui.log.scrollHeight;
    }).observe(ui.log);
  }

  function renderAll() {
    ui.log.replaceChildren(ui.greeting);
    pendingEls.clear();
    for (const m of state.messages) ui.log.append(messageElement(m, false));
    for (const o of state.outbox) {
      const e = messageElement(o, true);
      pendingEls.set(o.client_id, e);
      ui.log.append(e);
    }
    renderReplies();
    scrollDown(true);
  }

  function renderReplies() {
    const last = state.messages[state.messages.length - 1];
    let offer = state.outbox.length === 0 && last && last.sender !== "customer" && Array.isArray(last.quick_replies) ? last.quick_replies : [];
    const starting = state.messages.length === 0 && state.outbox.length === 0;
    if (starting) offer = welcome.starters;
    ui.replies.setAttribute("aria-label", starting ? "Ways to start" : "Suggested replies");
    ui.replies.replaceChildren();
    for (const label of offer) {
      if (typeof label !== "string" || !label.trim()) continue;
      const b = h("button", { type: "button", class: starting ? "parley-reply parley-starter" : "parley-reply" });
      b.textContent = label;
      b.addEventListener("click", () => sendText(label));
      ui.replies.append(b);
    }
    ui.replies.hidden = ui.replies.children.length === 0;
  }

  // ---- greeting and starters ------------------------------------------------------

  // welcome is the server's widget.json: {greeting, starters}. It is fetched once, on
  // the first open; without it (an older server, offline) the panel simply starts empty.
  const welcome = { greeting: "", starters: [], asked: false };

  function fetchWelcome() {
    if (welcome.asked || typeof fetch !== "function") return;
    welcome.asked = true;
    fetch(welcomeURL, { credentials: "omit" })
      .then((r) => (r.ok ? r.json() : null))
      .then((w) => {
        if (!w || typeof w !== "object") return;
        const stick = nearBottom();
        welcome.greeting = typeof w.greeting === "string" ? w.greeting : "";
        welcome.starters = Array.isArray(w.starters) ? w.starters.filter((s) => typeof s === "string" && s.trim()) : [];
        ui.greeting.textContent = welcome.greeting;
        ui.greeting.hidden = !welcome.greeting;
        renderReplies();
        scrollDown(stick);
      })
      .catch(() => {
        welcome.asked = false; // try again on the next open
      });
  }

  // ---- messages ---------------------------------------------------------------

  // addMessage stores and shows a message from the server; false when its seq is
  // known. A message of our own outbox (replayed or echoed) settles it.
  function addMessage(f) {
    if (!Number.isInteger(f.seq) || f.seq <= 0 || typeof f.text !== "string") return false;
    const mine = typeof f.client_id === "string" && f.client_id ? takeOutbox(f.client_id) : null;
    if (state.messages.some((m) => m.seq === f.seq)) {
      if (mine && mine.el) mine.el.remove();
      return !!mine;
    }
    const m = { seq: f.seq, id: typeof f.id === "string" ? f.id : "", sender: typeof f.sender === "string" ? f.sender : "bot",
      text: f.text, at: typeof f.at === "string" ? f.at : new Date().toISOString() };
    if (typeof f.agent === "string" && f.agent) m.agent = f.agent;
    if (typeof f.client_id === "string" && f.client_id) m.client_id = f.client_id;
    if (Array.isArray(f.quick_replies) && f.quick_replies.length) m.quick_replies = f.quick_replies.filter((q) => typeof q === "string");
    const stick = nearBottom() || m.sender === "customer";
    insertMessage(m, mine && mine.el);
    if (m.sender !== "customer") {
      showTyping(false);
      if (!isOpen()) setUnread(unread + 1);
    }
    scrollDown(stick);
    return true;
  }

  // insertMessage adds m to the state and the log. pendingEl, the element shown
  // while m was unacknowledged, is turned into m's in place, so that screen
  // readers do not read it twice.
  function insertMessage(m, pendingEl) {
    let i = state.messages.length;
    while (i > 0 && state.messages[i - 1].seq > m.seq) {
      i--;
    }
    state.messages.splice(i, 0, m);
    state.lastSeq = Math.max(state.lastSeq, m.seq);
    let e = pendingEl;
    if (e) {
      e.classList.remove("parley-msg--pending");
      e.dataset.seq = String(m.seq);
      e.querySelector(".parley-msg-meta").textContent = timeText(m.at);
    } else {
      e = messageElement(m, false);
    }
    place(e, m.seq);
    renderReplies();
  }

  // takeOutbox removes an entry the server has stored from the outbox; its
  // pending element stays in the log for the caller.
  function takeOutbox(clientID) {
    const i = state.outbox.findIndex((o) => o.client_id === clientID);
    if (i < 0) return null;
    const [o] = state.outbox.splice(i, 1);
    const el = pendingEls.get(clientID) || null;
    pendingEls.delete(clientID);
    sentOn.delete(clientID);
    return { o, el };
  }

  function onAck(f) {
    const mine = typeof f.client_id === "string" ? takeOutbox(f.client_id) : null;
    if (!mine) {
      return; // the ack of a resend whose message frame came first
    }
    if (!Number.isInteger(f.seq) || f.seq <= 0 || state.messages.some((m) => m.seq === f.seq)) {
      if (mine.el) mine.el.remove();
    } else {
      const m = { seq: f.seq, id: typeof f.id === "string" ? f.id : "", sender: "customer", text: mine.o.text, at: new Date().toISOString(), client_id: mine.o.client_id };
      insertMessage(m, mine.el);
    }
    renderReplies();
    save();
  }

  function sendText(raw) {
    const text = String(raw).replace(/\r\n?/g, "\n").trim();
    if (!text) return false;
    if (tooLong(text)) {
      notice("That message is too long: at most 2,000 characters (fewer with emoji), please.");
      return false;
    }
    const o = { client_id: newClientID(), text };
    state.outbox.push(o);
    const e = messageElement(o, true);
    pendingEls.set(o.client_id, e);
    ui.log.append(e);
    renderReplies();
    scrollDown(true);
    save();
    stopTyping();
    if (!ws) {
      connectNow();
    } else {
      flushOutbox();
    }
    return true;
  }

  // ---- connection ---------------------------------------------------------------

  let ws = null; // the current socket
  let welcomed = false; // hello answered on ws
  let everWelcomed = false;
  let attempt = 0; // reconnects since the last welcome
  let retryTimer = 0;
  let stopped = false; // a closing error that a retry cannot fix
  let resync = false; // reconnect at once (new token or a new conversation)
  let helloSeq = 0;
  let flushTimer = 0;
  let connectingTimer = 0;
  const sentOn = new Map(); // client_id -> the socket it was sent on

  function connectNow() {
    clearTimeout(retryTimer);
    retryTimer = 0;
    connect();
  }

  function connect() {
    if (ws || stopped) return;
    let sock;
    try {
      sock = new WebSocket(wsURL);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = sock;
    welcomed = false;
    if (!everWelcomed && !connectingTimer) {
      connectingTimer = setTimeout(() => {
        if (!welcomed && !everWelcomed) setStatus("Connecting…");
      }, 1000);
    }
    sock.addEventListener("open", () => {
      if (ws !== sock) return;
      helloSeq = state.token ? state.lastSeq : 0;
      const hello = { v: 1, type: "hello", token: state.token, last_seq: helloSeq };
      if (identity) hello.identity = identity;
      sock.send(JSON.stringify(hello));
    });
    sock.addEventListener("message", (ev) => {
      if (ws !== sock || typeof ev.data !== "string") return;
      let f;
      try {
        f = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (f && typeof f === "object") onFrame(f, sock);
    });
    sock.addEventListener("close", () => {
      if (ws !== sock) return;
      ws = null;
      welcomed = false;
      showTyping(false);
      if (stopped) return;
      if (resync) {
        resync = false;
        connect();
        return;
      }
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    if (retryTimer || stopped) return;
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(attempt, 16));
    attempt++;
    const wait = ceiling / 2 + Math.random() * (ceiling / 2);
    if (everWelcomed) setStatus("Reconnecting…");
    retryTimer = setTimeout(() => {
      retryTimer = 0;
      connect();
    }, wait);
  }

  function send(f) {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify(Object.assign({ v: 1 }, f)));
      return true;
    }
    return false;
  }

  // flushOutbox sends every unacknowledged message not yet sent on this socket.
  function flushOutbox() {
    if (!welcomed) return;
    for (const o of state.outbox) {
      if (sentOn.get(o.client_id) === ws) continue;
      if (send({ type: "message", client_id: o.client_id, text: o.text })) sentOn.set(o.client_id, ws);
    }
  }

  function resendLater(clientID, ms) {
    sentOn.delete(clientID);
    clearTimeout(flushTimer);
    flushTimer = setTimeout(flushOutbox, Math.max(250, ms || 0));
  }

  // Frame handlers by type. A newer server may send types this widget does not
  // know: they are ignored.
  const handlers = {
    welcome: (f, sock) => onWelcome(f, sock),
    ack: (f) => onAck(f),
    message: (f) => addMessage(f) && save(),
    typing: (f) => f.sender !== "customer" && showTyping(!!f.typing, f.sender),
    state: (f) => setConversationState(f.state, f.queue),
    csat_request: (f) => showSurvey(f),
    csat_ack: () => {
      state.csatDone = state.conversationId;
      save();
      showThanks();
    },
    error: (f) => onError(f),
  };

  function onFrame(f, sock) {
    if (typeof f.type === "string" && Object.hasOwn(handlers, f.type)) handlers[f.type](f, sock);
  }

  function onWelcome(f, sock) {
    if (typeof f.token !== "string" || !f.token) return;
    const conv = typeof f.conversation_id === "string" ? f.conversation_id : "";
    if (state.conversationId && conv && conv !== state.conversationId) {
      // Another conversation than the one we keep: start over with its history.
      clearConversation();
      state.token = f.token;
      state.conversationId = conv;
      save();
      if (helloSeq > 0) {
        resync = true;
        sock.close(1000, "resync");
        return;
      }
    }
    if (Number.isInteger(f.last_seq) && f.last_seq >= 0 && f.last_seq < state.lastSeq) {
      // The server has fewer messages than we keep (its store was restored from a
      // backup): forget ours after its last, so that the new ones with those seqs show.
      state.messages = state.messages.filter((m) => m.seq <= f.last_seq);
      state.lastSeq = f.last_seq;
      renderAll();
    }
    state.token = f.token;
    state.conversationId = conv;
    welcomed = true;
    everWelcomed = true;
    attempt = 0;
    clearTimeout(connectingTimer);
    if (ui.status.textContent === "Reconnecting…") {
      setStatus("Connected again.", 2500);
    } else {
      setStatus("");
    }
    if (typeof f.customer_name === "string" && f.customer_name) customerName = f.customer_name;
    setConversationState(f.state);
    save();
    flushOutbox();
  }

  function clearConversation() {
    state.token = "";
    state.conversationId = "";
    state.lastSeq = 0;
    state.messages = [];
    state.csatDone = "";
    hideSurvey();
    renderAll();
  }

  function onError(f) {
    const id = typeof f.client_id === "string" ? f.client_id : "";
    switch (f.code) {
      case "too_large":
        if (id) {
          const mine = takeOutbox(id);
          if (mine) {
            if (mine.el) mine.el.remove();
            if (!ui.input.value) ui.input.value = mine.o.text;
          }
          renderReplies();
          save();
        }
        notice("That message is too long: at most 2,000 characters (fewer with emoji), please.");
        break;
      case "rate_limited": {
        const ms = Number.isFinite(f.retry_after_ms) ? f.retry_after_ms : 2000;
        if (id) resendLater(id, ms);
        notice("You're sending messages quickly. I'll send yours in a moment.");
        break;
      }
      case "internal":
        if (id) resendLater(id, 3000);
        notice("Something went wrong on our side. Retrying…");
        break;
      case "invalid_token":
        // The server does not know our token (its data was reset): start afresh,
        // keeping the messages not sent yet.
        clearConversation();
        save();
        resync = true;
        break;
      case "invalid_identity":
        stop("The chat couldn't confirm who you are. Please reload the page or sign in again.");
        break;
      case "unsupported_version":
        stop("The chat was updated. Please reload the page.");
        break;
      case "bad_score":
        notice("Please choose a rating from 1 to 5.");
        break;
      default: {
        // bad_frame, invalid_utf8, unknown_type, hello_required: a bug, not the visitor's doing.
        const mine = id ? takeOutbox(id) : null;
        if (mine) {
          if (mine.el) mine.el.remove();
          renderReplies();
          save();
          notice("That message couldn't be sent.");
        }
        console.warn("parley: server error", f.code, f.message);
      }
    }
  }

  function stop(text) {
    stopped = true;
    clearTimeout(retryTimer);
    setStatus(text);
    if (ws) ws.close(1000);
  }

  // ---- conversation state, typing, survey ------------------------------------------

  let customerName = "";

  function setConversationState(s, queue) {
    if (typeof s !== "string") return;
    const lines = {
      bot: "Our assistant answers right away",
      waiting: "Waiting for a person" + (queue ? " (" + queue + ")" : "") + "…",
      agent: "You're chatting with our team",
      resolved: "This conversation is closed. Write to start again.",
    };
    ui.subtitle.textContent = (customerName && s === "bot" ? "Hi " + customerName.split(" ")[0] + "! " : "") + (lines[s] || "");
    if (s !== "resolved") {
      hideSurvey(); // written to again: the conversation is open, the survey is over
    }
  }

  let typingTimer = 0;
  function showTyping(on, sender) {
    clearTimeout(typingTimer);
    if (on) {
      ui.typing.textContent = sender === "agent" ? "An agent is typing…" : "The assistant is typing…";
      ui.typing.hidden = false;
      typingTimer = setTimeout(() => showTyping(false), TYPING_SHOWN_MS);
      scrollDown(false);
    } else {
      ui.typing.hidden = true;
    }
  }

  let myTyping = false;
  let myTypingTimer = 0;
  function onInput() {
    if (!welcomed || !ui.input.value.trim()) return;
    if (!myTyping) {
      myTyping = send({ type: "typing", typing: true });
    }
    clearTimeout(myTypingTimer);
    myTypingTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    clearTimeout(myTypingTimer);
    if (myTyping) {
      send({ type: "typing", typing: false });
      myTyping = false;
    }
  }

  let score = 0;
  function showSurvey(f) {
    if (state.csatDone && state.csatDone === state.conversationId) return;
    ui.csatQuestion.textContent = typeof f.question === "string" && f.question ? f.question : "How did we do?";
    setScore(0);
    ui.csatForm.hidden = false;
    ui.csatThanks.hidden = true;
    ui.csat.hidden = false;
    scrollDown(true);
  }

  function hideSurvey() {
    ui.csat.hidden = true;
    ui.csatThanks.hidden = true;
    ui.csatComment.value = "";
  }

  function showThanks() {
    ui.csatQuestion.textContent = "";
    ui.csatForm.hidden = true;
    ui.csatThanks.hidden = false;
    ui.csat.hidden = false;
  }

  function setScore(n) {
    score = n;
    for (const b of ui.csatScores.children) b.setAttribute("aria-pressed", String(Number(b.dataset.score) === n));
    ui.csatSend.disabled = n === 0;
  }

  ui.csatScores.addEventListener("click", (e) => {
    const b = e.target.closest(".parley-csat-score");
    if (b) setScore(Number(b.dataset.score));
  });
  ui.csatSend.addEventListener("click", () => {
    if (!score) return;
    const comment = ui.csatComment.value.trim();
    if (tooLong(comment)) {
      notice("That comment is too long: at most 2,000 characters (fewer with emoji), please.");
      return;
    }
    if (!send({ type: "csat", score, comment })) notice("You're offline right now. Please try again in a moment.");
  });

  // ---- status and notices -------------------------------------------------------

  let statusTimer = 0;
  function setStatus(text, clearAfterMs) {
    clearTimeout(statusTimer);
    ui.status.textContent = text;
    ui.status.classList.toggle("parley-status--shown", !!text);
    if (text && clearAfterMs) statusTimer = setTimeout(() => setStatus(""), clearAfterMs);
  }

  let noticeTimer = 0;
  function notice(text) {
    clearTimeout(noticeTimer);
    ui.notice.textContent = text;
    ui.notice.classList.toggle("parley-notice--shown", !!text);
    if (text) noticeTimer = setTimeout(() => notice(""), NOTICE_MS);
  }

  // ---- open, close, keyboard ------------------------------------------------------

  let unread = 0;
  function setUnread(n) {
    unread = n;
    ui.badge.textContent = n > 9 ? "9+" : String(n);
    ui.badge.hidden = n === 0;
    ui.launcher.setAttribute("aria-label", n ? "Open chat, " + n + (n === 1 ? " new message" : " new messages") : "Open chat");
  }

  function isOpen() {
    return !ui.panel.hidden;
  }

  function open(focus) {
    ui.panel.hidden = false;
    ui.root.classList.add("parley-is-open");
    ui.launcher.setAttribute("aria-expanded", "true");
    ui.launcher.setAttribute("aria-label", "Close chat");
    ui.launcherIcon.firstChild.setAttribute("d", ICON_CLOSE);
    unread = 0;
    ui.badge.hidden = true;
    state.open = true;
    save();
    scrollDown(true);
    if (focus) ui.input.focus();
    fetchWelcome();
    connect();
  }

  function close() {
    ui.panel.hidden = true;
    ui.root.classList.remove("parley-is-open");
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.launcherIcon.firstChild.setAttribute("d", ICON_CHAT);
    setUnread(0);
    state.open = false;
    save();
    stopTyping();
    ui.launcher.focus();
  }

  ui.launcher.addEventListener("click", () => (isOpen() ? close() : open(true)));
  ui.close.addEventListener("click", close);
  ui.root.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !e.isComposing && isOpen()) {
      e.preventDefault();
      close();
    }
  });
  ui.input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });
  ui.input.addEventListener("input", onInput);
  ui.form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
  });

  function submit() {
    if (sendText(ui.input.value)) ui.input.value = "";
    ui.input.focus();
  }

  document.addEventListener("click", (e) => {
    const t = e.target instanceof Element ? e.target.closest("[data-parley-open]") : null;
    if (t) {
      e.preventDefault();
      open(true);
    }
  });
  window.addEventListener("online", () => {
    if (!ws && !stopped && (everWelcomed || state.token || state.outbox.length)) {
      attempt = 0;
      connectNow();
    }
  });

  // ---- start ----------------------------------------------------------------------

  function start() {
    document.body.append(ui.host);
    renderAll();
    if (state.open) {
      open(false);
    } else if (state.token || state.outbox.length) {
      connect(); // a known visitor: fetch what was said while away
    }
  }

  if (document.body) {
    start();
  } else {
    document.addEventListener("DOMContentLoaded", start, { once: true });
  }
})();
