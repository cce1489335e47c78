// Parley agent console: the entry module of /console. Plain ES modules of this server,
// no build step and no framework; every string from the server is rendered as text.
//
// It signs in (POST /console/api/login, or the session of GET /console/api/me), keeps
// the conversation list from REST and the console websocket's frames, and routes by the
// URL's hash: #/mine, #/unassigned, #/open, #/resolved (each may end with /<id> of the
// conversation shown), #/today and #/canned.

import { $, h, str, num, obj, arr, inField } from "./dom.js";
import * as api from "./api.js";
import { openSocket } from "./socket.js";
import { app, agentName } from "./state.js";
import * as list from "./list.js";
import * as conversation from "./conversation.js";
import * as composer from "./composer.js";
import * as alerts from "./alerts.js";
import * as today from "./today.js";
import * as canned from "./canned.js";

const NOTICE_MS = 8000;
const REFRESH_MS = 60000; // the lists again, so that SLA colours and clocks follow the server
const VIEWS = ["mine", "unassigned", "open", "resolved"];

// ---- notices and status --------------------------------------------------------------

let noticeTimer = 0;
app.notice = (text) => {
  clearTimeout(noticeTimer);
  const n = $("notice");
  n.textContent = text;
  n.classList.toggle("notice--shown", !!text);
  if (text) noticeTimer = setTimeout(() => app.notice(""), NOTICE_MS);
};

function setStatus(text) {
  $("status").textContent = text;
  $("status").classList.toggle("status--shown", !!text);
}

// ---- login ---------------------------------------------------------------------------

function showLogin(message) {
  if (app.sock) app.sock.close();
  app.sock = null;
  app.me = null;
  api.setCSRF("");
  conversation.close();
  alerts.clear();
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("login-password").value = "";
  $("login-email").focus();
}

function signedIn(d) {
  const a = obj(d.agent);
  if (!a || !str(a.login)) throw new Error("no agent in the answer");
  app.me = { login: str(a.login), name: str(a.name) || str(a.login), role: str(a.role, "agent"), teams: arr(a.teams).map(String) };
  api.setCSRF(str(d.csrf));
  if (num(d.sla_seconds) > 0) app.slaSeconds = num(d.sla_seconds);
  start();
}

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const email = $("login-email").value.trim();
  const password = $("login-password").value;
  const err = $("login-error");
  if (!email || !password) {
    err.textContent = "Enter your e-mail and password.";
    return;
  }
  $("login-submit").disabled = true;
  err.textContent = "";
  try {
    signedIn(await api.post("login", { email, password }));
  } catch (ex) {
    if (ex.status === 429) {
      const min = Math.max(1, Math.ceil((ex.retryAfter || 300) / 60));
      err.textContent = "Too many failed attempts. Try again in " + min + (min === 1 ? " minute." : " minutes.");
    } else if (ex.status === 401) {
      err.textContent = "Wrong e-mail or password.";
    } else {
      err.textContent = "Signing in failed: " + ex.message;
    }
    $("login-password").select();
  } finally {
    $("login-submit").disabled = false;
  }
});

$("logout").addEventListener("click", async () => {
  try {
    await api.post("logout");
  } catch (e) {
    // Signed out or unreachable: the login form shows either way.
  }
  history.replaceState(null, "", location.pathname);
  showLogin("You are signed out.");
});

api.whenUnauthorized(() => {
  if (app.me) showLogin("Your session ended. Please sign in again.");
});

// ---- the console ----------------------------------------------------------------------

function start() {
  $("login").hidden = true;
  $("app").hidden = false;
  $("me-name").textContent = app.me.name;
  $("presence").value = "online";
  renderPresence();
  $("notify-enable").hidden = !alerts.notificationsAskable();
  app.rows.clear();
  reload(false);
  app.sock = openSocket({
    hello: (f, fresh) => {
      setStatus("");
      // The first socket: reload, as frames between the first load and this hello are not replayed.
      if (fresh) reload(true);
      app.sock.send({ type: "presence", presence: $("presence").value });
      if (app.openId) app.sock.send({ type: "view", conversation_id: app.openId });
      conversation.flush();
    },
    event: (f) => (app.loading ? app.queued.push(f) : apply(f)),
    reset: () => reload(true),
    ack: (f) => conversation.onAck(f),
    error: (f) => (str(f.client_id) ? conversation.onSendError(f) : console.warn("parley console: socket error", f.code, f.message)),
    down: (everUp) => everUp && setStatus("Reconnecting…"),
    failed: () => checkSession(),
    ended: () => showLogin("Your session ended. Please sign in again."),
  });
  Promise.all([loadAgents(), loadQueues(), canned.load()]).then(() => conversation.refreshHead());
  route();
}

async function checkSession() {
  try {
    await api.get("me");
  } catch (e) {
    if (e.status === 401 && app.me) showLogin("Your session ended. Please sign in again.");
  }
}

async function loadAgents() {
  try {
    const d = await api.get("agents");
    app.agents.clear();
    for (const a of arr(d.agents)) {
      if (obj(a) && str(a.login)) app.agents.set(a.login, { login: a.login, name: str(a.name), role: str(a.role), teams: arr(a.teams), presence: str(a.presence, "offline") });
    }
  } catch (e) {
    // The transfer menu lists queues only then.
  }
}

async function loadQueues() {
  try {
    const d = await api.get("queues");
    app.queues = arr(d.queues).filter((q) => typeof q === "string" && q);
  } catch (e) {
    app.queues = [];
  }
}

// reload fetches the lists (and, with conv, the conversation shown) by REST; frames
// that come meanwhile wait and are applied after it.
let loads = 0;
async function reload(conv) {
  loads++;
  app.loading = true;
  try {
    const [open, resolved] = await Promise.all([api.get("conversations?view=open"), api.get("conversations?view=resolved")]);
    app.rows.clear();
    for (const d of [open, resolved]) {
      if (num(d.sla_seconds) > 0) app.slaSeconds = num(d.sla_seconds);
      for (const r of arr(d.conversations)) if (obj(r) && str(r.id)) app.rows.set(r.id, list.normalize(r));
    }
  } catch (e) {
    if (e.status !== 401) app.notice("The conversations couldn't be loaded: " + e.message);
  } finally {
    loads--;
    app.loading = loads > 0;
  }
  if (conv) conversation.reload();
  if (app.loading) return; // the later load applies the frames
  const q = app.queued;
  app.queued = [];
  for (const f of q) apply(f);
  renderList();
}

app.setRow = (raw) => {
  const row = list.normalize(raw);
  if (!row.id) return row;
  const before = app.rows.get(row.id);
  app.rows.set(row.id, row);
  // An alert is over once someone else holds the conversation.
  if (row.state !== "waiting" && !(row.state === "agent" && row.assigned_agent === app.me.login)) alerts.seen(row.id);
  if (before && before.last_message && !row.last_message) row.last_message = before.last_message;
  renderList();
  return row;
};

// apply handles one world frame of the socket.
function apply(f) {
  switch (f.kind) {
    case "message": {
      const m = obj(f.message);
      const id = str(f.conversation_id);
      const row = app.rows.get(id);
      if (row && m) {
        row.last_message = { sender: str(m.sender), text: str(m.text), at: str(m.created_at) };
        row.updated_at = str(m.created_at) || row.updated_at;
        renderList();
      }
      conversation.onMessage(id, m);
      break;
    }
    case "state": {
      if (!obj(f.conversation)) return;
      const row = app.setRow(f.conversation);
      conversation.onState(row);
      break;
    }
    case "lifecycle":
      conversation.onLifecycle(f.event);
      break;
    case "typing":
      conversation.onTyping(f);
      break;
    case "viewers":
      conversation.onViewers(f);
      break;
    case "presence": {
      const a = app.agents.get(str(f.agent));
      if (a) a.presence = str(f.presence, "offline");
      else if (str(f.agent)) loadAgents();
      if (app.me && f.agent === app.me.login && (f.presence === "online" || f.presence === "away")) {
        $("presence").value = f.presence; // changed in another tab of mine
        renderPresence();
      }
      conversation.refreshHead();
      break;
    }
    case "erased": {
      const id = str(f.conversation_id);
      app.rows.delete(id);
      alerts.seen(id);
      if (id === app.openId) app.go("#/" + app.view);
      renderList();
      break;
    }
    case "alert": {
      const id = str(f.conversation_id);
      if (!id || id === app.openId) return;
      const row = app.rows.get(id);
      alerts.alert(id, str(f.reason), str(f.queue), row ? list.customerName(row) : "", (cid) => app.go("#/" + viewFor(cid) + "/" + encodeURIComponent(cid)));
      renderList();
      break;
    }
    default:
    // A newer server's kind: ignored.
  }
}

function viewFor(id) {
  const row = app.rows.get(id);
  if (!row) return app.view;
  return list.inView(app.view, row, app.me.login) ? app.view : row.state === "waiting" ? "unassigned" : "open";
}

let shown = [];
function renderList() {
  if (!app.me) return;
  shown = list.render(app.rows, app.view, app.me.login, app.selected, app.slaSeconds);
  for (const v of ["mine", "unassigned", "open"]) {
    const n = list.sorted(app.rows, v, app.me.login).length;
    const c = document.querySelector('[data-count="' + v + '"]');
    c.textContent = n ? String(n) : "";
  }
}

// ---- routing -----------------------------------------------------------------------

app.go = (hash) => {
  if (location.hash === hash) route();
  else location.hash = hash;
};

function route() {
  if (!app.me) return;
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  const page = parts[0] || "mine";
  for (const a of document.querySelectorAll(".view-link")) {
    if (a.dataset.view === page) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const inbox = VIEWS.includes(page);
  $("inbox").hidden = !inbox;
  $("today").hidden = page !== "today";
  $("canned").hidden = page !== "canned";
  if (page === "today") today.show();
  if (page === "canned") canned.show();
  if (!inbox) {
    conversation.close();
    return;
  }
  if (app.view !== page) {
    app.view = page;
    app.selected = "";
  }
  $("list-title").textContent = list.viewTitles[page];
  let id = "";
  try {
    id = parts.length > 1 ? decodeURIComponent(parts.slice(1).join("/")) : "";
  } catch (e) {
    id = "";
  }
  if (id) {
    app.selected = id;
    conversation.open(id);
  } else {
    conversation.close();
  }
  renderList();
}

window.addEventListener("hashchange", route);

function openSelected() {
  if (app.selected) app.go("#/" + app.view + "/" + encodeURIComponent(app.selected));
}

function move(step) {
  if (!shown.length) return;
  let i = shown.findIndex((r) => r.id === app.selected);
  i = i < 0 ? (step > 0 ? 0 : shown.length - 1) : Math.max(0, Math.min(shown.length - 1, i + step));
  app.selected = shown[i].id;
  renderList();
  const sel = document.getElementById("row-selected");
  if (sel) sel.scrollIntoView({ block: "nearest" });
}

$("rows").addEventListener("click", (e) => {
  const li = e.target instanceof Element ? e.target.closest(".row") : null;
  if (!li) return;
  app.selected = li.dataset.id;
  openSelected();
});

$("conv-back").addEventListener("click", () => app.go("#/" + app.view));

// ---- presence, help, notifications, side panel --------------------------------------------

function renderPresence() {
  $("presence-dot").className = "presence-dot presence-dot--" + $("presence").value;
}

$("presence").addEventListener("change", () => {
  renderPresence();
  if (app.sock) app.sock.send({ type: "presence", presence: $("presence").value });
});

function setHelp(open) {
  $("help").hidden = !open;
  if (open) $("help-close").focus();
}

$("help-open").addEventListener("click", () => setHelp(true));
$("help-close").addEventListener("click", () => setHelp(false));
$("help").addEventListener("click", (e) => e.target === $("help") && setHelp(false));

$("notify-enable").addEventListener("click", async () => {
  await alerts.askNotifications();
  $("notify-enable").hidden = !alerts.notificationsAskable();
});

$("side-toggle").addEventListener("click", () => {
  const open = !document.body.classList.contains("side-open");
  document.body.classList.toggle("side-open", open);
  $("side-toggle").setAttribute("aria-expanded", String(open));
});

// ---- keyboard ----------------------------------------------------------------------------

document.addEventListener("keydown", (e) => {
  alerts.unlockAudio();
  if (!app.me || e.isComposing || e.ctrlKey || e.metaKey || e.altKey) return;
  if (!$("help").hidden) {
    if (e.key === "Escape" || e.key === "?") {
      e.preventDefault();
      setHelp(false);
    }
    return;
  }
  if (e.key === "Escape") {
    if (document.body.classList.contains("side-open")) {
      document.body.classList.remove("side-open");
      $("side-toggle").setAttribute("aria-expanded", "false");
    } else if (inField(e.target)) {
      e.target.blur();
    } else if (app.openId) {
      app.go("#/" + app.view);
    }
    return;
  }
  if (inField(e.target) || $("inbox").hidden) {
    if (e.key === "?" && !inField(e.target)) setHelp(true);
    return;
  }
  const keys = {
    j: () => move(1),
    k: () => move(-1),
    ArrowDown: () => move(1),
    ArrowUp: () => move(-1),
    Enter: () => {
      if (e.target instanceof Element && e.target.closest("button, a, select")) return false;
      openSelected();
    },
    a: () => (app.openId ? conversation.claim() : app.selected && claimSelected()),
    r: () => composer.focus("reply"),
    n: () => composer.focus("note"),
    e: () => conversation.resolve(),
    "?": () => setHelp(true),
  };
  for (const [i, v] of VIEWS.entries()) keys[String(i + 1)] = () => app.go("#/" + v);
  const fn = keys[e.key];
  if (fn && fn() !== false) e.preventDefault();
});

// claimSelected opens the selected conversation and claims it.
async function claimSelected() {
  openSelected();
  await conversation.open(app.selected);
  conversation.claim();
}

document.addEventListener("pointerdown", alerts.unlockAudio);

window.addEventListener("online", () => app.sock && app.sock.now());

// The clocks of the rows tick; the lists are fetched again now and then.
setInterval(() => app.me && list.tick(app.rows, app.slaSeconds), 1000);
setInterval(() => app.me && !app.loading && !document.hidden && reload(false), REFRESH_MS);

// ---- start ---------------------------------------------------------------------------------

(async () => {
  try {
    signedIn(await api.get("me"));
  } catch (e) {
    showLogin(e.status === 0 ? "The server can't be reached." : "");
  }
})();
