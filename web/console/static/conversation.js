// The open conversation: its header and actions (claim, transfer, return to bot,
// resolve), the transcript (messages and lifecycle events, notes among them, in time
// order), the agent's replies pending until the server acknowledges them, the
// customer's typing indicator and the "Sam is viewing / typing" badge.

import { $, h, str, num, obj, arr, timeText, pct } from "./dom.js";
import { app, agentName, actorName, isAdmin } from "./state.js";
import * as api from "./api.js";
import { customerName } from "./list.js";
import * as side from "./sidebar.js";
import * as composer from "./composer.js";
import * as alerts from "./alerts.js";
import * as suggest from "./suggest.js";

const TYPING_SHOWN_MS = 20000;

// cur is the conversation shown: null when none.
//   id, row, detail (the GET answer), seqs (message seqs shown), events (event ids
//   shown), viewers ([{login,name,typing}]), loaded, buffer (frames that came while
//   it loaded), claimedBy (who won a claim we lost, until the state frame comes), gen
//   (counts the loads: only the latest one's answer is shown)
let cur = null;

// outbox holds the replies sent and not acknowledged: client_id -> {conv, text, el}.
const outbox = new Map();
const idPrefix = "a-" + Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, "0")).join("");
let nextId = 1;

export function current() {
  return cur;
}

// open shows a conversation, loading it by REST.
export async function open(id) {
  if (cur && cur.id === id) return;
  close();
  cur = { id, row: app.rows.get(id) || null, detail: null, seqs: new Set(), events: new Set(), viewers: [], loaded: false, buffer: [], claimedBy: null, gen: 0 };
  app.openId = id;
  alerts.seen(id);
  $("conv-empty").hidden = true;
  $("conv-body").hidden = false;
  document.body.classList.add("has-conv");
  $("transcript").replaceChildren(h("p", { class: "loading" }, "Loading…"));
  $("collision").hidden = true;
  $("cust-typing").hidden = true;
  side.clear();
  renderHead();
  composer.attach(id);
  suggest.attach(id);
  app.sock && app.sock.send({ type: "view", conversation_id: id });
  await load(cur);
}

// close hides the conversation (the list shows alone on a narrow screen).
export function close() {
  if (!cur) return;
  composer.detach();
  suggest.detach();
  cur = null;
  app.openId = "";
  $("conv-body").hidden = true;
  $("conv-empty").hidden = false;
  document.body.classList.remove("has-conv");
  side.clear();
  app.sock && app.sock.send({ type: "view", conversation_id: "" });
}

// reload fetches the conversation shown again (after the socket said frames were lost).
export function reload() {
  if (!cur) return;
  cur.loaded = false;
  cur.buffer = [];
  load(cur);
}

async function load(my) {
  const gen = ++my.gen;
  let d;
  try {
    d = await api.get(api.conv(my.id));
  } catch (e) {
    if (cur !== my || my.gen !== gen) return;
    const text = e.status === 403 ? "This conversation is in a queue you don't serve." :
      e.status === 404 ? "There is no such conversation." : "The conversation couldn't be loaded: " + e.message;
    $("transcript").replaceChildren(h("p", { class: "loading" }, text));
    return;
  }
  if (cur !== my || my.gen !== gen) return;
  my.detail = d;
  if (obj(d.conversation)) my.row = app.setRow(d.conversation);
  const t = $("transcript");
  t.replaceChildren();
  my.seqs.clear();
  my.events.clear();
  for (const m of arr(d.messages)) addMessage(m, false);
  for (const ev of arr(d.events)) addEvent(ev, false);
  for (const [id, o] of outbox) {
    if (o.conv === my.id) {
      o.el = messageElement({ sender: "agent", agent_id: app.me.login, text: o.text }, true, id);
      t.append(o.el);
    }
  }
  my.loaded = true;
  for (const [kind, v] of my.buffer) (kind === "m" ? addMessage : addEvent)(v, true);
  my.buffer = [];
  my.viewers = arr(d.viewers);
  side.render(d);
  renderHead();
  renderViewers();
  t.scrollTop = t.scrollHeight;
}

// ---- transcript ----------------------------------------------------------------

function timeOf(at) {
  const t = Date.parse(str(at));
  return Number.isFinite(t) ? t : Date.now();
}

const senderNames = { bot: "Bot", system: "System" };

function messageElement(m, pending, clientID) {
  const sender = ["customer", "bot", "agent", "system"].includes(m.sender) ? m.sender : "bot";
  const who = sender === "customer" ? customerName(cur && cur.row) : sender === "agent" ? agentName(str(m.agent_id)) : senderNames[sender];
  const e = h("div", { class: "item msg msg--" + sender + (pending ? " msg--pending" : "") },
    h("div", { class: "msg-head" },
      h("span", { class: "msg-who" }, who),
      h("span", { class: "msg-time" }, pending ? "Sending…" : timeText(m.created_at))),
    h("div", { class: "msg-text" }, str(m.text)));
  if (pending) {
    e.dataset.client = clientID;
  } else {
    e.dataset.seq = String(m.seq);
    e.dataset.t = String(timeOf(m.created_at));
  }
  return e;
}

// place puts a stored item in time order, before the pending replies.
function place(e) {
  const t = $("transcript");
  const at = Number(e.dataset.t);
  const stick = t.scrollHeight - t.scrollTop - t.clientHeight < 80;
  let before = null;
  for (const c of t.children) {
    if (c.dataset.t === undefined || Number(c.dataset.t) > at) {
      before = c;
      break;
    }
  }
  t.insertBefore(e, before);
  if (stick) t.scrollTop = t.scrollHeight;
}

function addMessage(raw, live) {
  const m = obj(raw);
  if (!m || !Number.isInteger(m.seq) || cur.seqs.has(m.seq)) {
    if (m && str(m.client_id)) settle(str(m.client_id), null);
    return;
  }
  cur.seqs.add(m.seq);
  const mine = str(m.client_id) && outbox.get(str(m.client_id));
  if (mine) {
    outbox.delete(str(m.client_id));
    if (mine.el) mine.el.remove();
  }
  place(messageElement(m, false));
  if (live && m.sender === "customer") showCustomerTyping(false);
}

function eventText(ev) {
  const who = actorName(str(ev.actor));
  const agent = str(ev.agent) ? agentName(str(ev.agent)) : "";
  const queue = str(ev.queue);
  const text = str(ev.text);
  switch (ev.type) {
    case "handoff":
      return "Handed off to " + (queue || "a person") + (text ? ": " + text : "");
    case "claim":
      return who + " claimed it";
    case "assign":
      return "Assigned to " + (agent || "an agent") + " by " + who;
    case "release":
      return who + " put it back in " + (queue || "the queue");
    case "transfer":
      return "Transferred to " + (agent || queue || "?") + " by " + who + (text ? ": " + text : "");
    case "return":
      return who + " gave it back to the bot";
    case "resolve":
      return "Resolved by " + who;
    case "timeout":
      return "Nobody claimed it in time; the customer was offered an e-mail reply";
    case "requeue":
      return "Back in " + (queue || "the queue") + (text ? ": " + text : "");
    case "contact":
      return "The customer left an address for a reply" + (text ? ": " + text : "");
    case "leave":
      return "The customer left the queue";
    default:
      return str(ev.type) + (text ? ": " + text : "");
  }
}

function addEvent(raw, live) {
  const ev = obj(raw);
  if (!ev) return;
  const key = str(ev.id) || "seq-" + num(ev.seq);
  if (cur.events.has(key)) return;
  cur.events.add(key);
  let e;
  if (ev.type === "note") {
    e = h("div", { class: "item note" },
      h("div", { class: "msg-head" },
        h("span", { class: "msg-who" }, "Private note · " + actorName(str(ev.actor))),
        h("span", { class: "msg-time" }, timeText(ev.at))),
      h("div", { class: "msg-text" }, str(ev.text)));
  } else {
    e = h("div", { class: "item event event--" + str(ev.type).replace(/[^a-z]/g, "") },
      h("span", { class: "event-text" }, eventText(ev)),
      h("span", { class: "msg-time" }, timeText(ev.at)));
  }
  e.dataset.t = String(timeOf(ev.at));
  e.dataset.event = key;
  place(e);
}

// ---- live frames -------------------------------------------------------------------

export function onMessage(convID, m) {
  if (!cur || cur.id !== convID) return;
  if (!cur.loaded) cur.buffer.push(["m", m]);
  else addMessage(m, true);
  suggest.refresh(); // a customer message asks for new ones; an agent's reply ends them
}

export function onLifecycle(ev) {
  if (!cur || !obj(ev) || cur.id !== str(ev.conversation_id)) return;
  if (!cur.loaded) cur.buffer.push(["e", ev]);
  else addEvent(ev, true);
}

export function onState(row) {
  if (!cur || cur.id !== row.id) return;
  cur.row = row;
  cur.claimedBy = null;
  renderHead();
}

export function onTyping(f) {
  if (!cur || cur.id !== str(f.conversation_id)) return;
  if (f.sender === "customer") {
    showCustomerTyping(f.typing === true);
    return;
  }
  const v = cur.viewers.find((x) => obj(x) && x.login === f.agent);
  if (v) {
    v.typing = f.typing === true;
    renderViewers();
  }
}

export function onViewers(f) {
  if (!cur || cur.id !== str(f.conversation_id)) return;
  cur.viewers = arr(f.viewers);
  renderViewers();
}

let typingTimer = 0;
function showCustomerTyping(on) {
  clearTimeout(typingTimer);
  $("cust-typing").hidden = !on;
  if (on) typingTimer = setTimeout(() => showCustomerTyping(false), TYPING_SHOWN_MS);
}

function names(list) {
  return list.length <= 2 ? list.join(" and ") : list.slice(0, -1).join(", ") + " and " + list[list.length - 1];
}

function renderViewers() {
  const others = cur.viewers.filter((v) => obj(v) && str(v.login) && v.login !== app.me.login);
  const typing = others.filter((v) => v.typing === true).map((v) => str(v.name) || str(v.login));
  const viewing = others.filter((v) => v.typing !== true).map((v) => str(v.name) || str(v.login));
  const parts = [];
  if (typing.length) parts.push(names(typing) + (typing.length === 1 ? " is typing…" : " are typing…"));
  if (viewing.length) parts.push(names(viewing) + (viewing.length === 1 ? " is viewing" : " are viewing"));
  const c = $("collision");
  c.textContent = parts.join(" · ");
  c.hidden = parts.length === 0;
  c.classList.toggle("collision--typing", typing.length > 0);
}

// ---- header and actions ---------------------------------------------------------------

function holder(row) {
  return row && row.state === "agent" ? row.assigned_agent : "";
}

// heldByOther names the other agent who holds the conversation, or "".
function heldByOther() {
  if (cur.claimedBy) return cur.claimedBy.name;
  const who = holder(cur.row);
  if (!who || who === app.me.login) return "";
  return cur.row.assigned_name || agentName(who);
}

function stateText(row) {
  switch (row.state) {
    case "waiting":
      return "Waiting in " + (row.queue || "the queue");
    case "agent":
      return row.assigned_agent === app.me.login ? "With you" : "With " + (row.assigned_name || agentName(row.assigned_agent));
    case "resolved":
      return "Resolved";
    default:
      return "With the bot";
  }
}

function renderHead() {
  const row = cur.row;
  $("conv-title").textContent = row ? customerName(row) : "Conversation";
  const meta = [];
  if (row) {
    meta.push(stateText(row));
    if (row.queue) meta.push("queue " + row.queue);
    if (row.priority && row.priority !== "normal") meta.push(row.priority + " priority");
    if (row.channel) meta.push(row.channel);
    if (row.satisfaction_risk > 0) meta.push("risk " + pct(row.satisfaction_risk));
  }
  $("conv-meta").textContent = meta.join(" · ");

  const other = row ? heldByOther() : "";
  const open = !!row && row.state !== "resolved";
  const mine = !!row && holder(row) === app.me.login;
  const may = open && (!other || isAdmin());
  const claim = $("act-claim");
  claim.hidden = !open || (mine && !cur.claimedBy);
  claim.disabled = !!other;
  claim.textContent = other ? other + " has it" : "Claim";
  $("act-return").hidden = !row || (row.state !== "waiting" && row.state !== "agent");
  $("act-return").disabled = !may;
  $("act-resolve").hidden = !open;
  $("act-resolve").disabled = !may;
  renderTransfer(row, may);
  composer.allow(
    !row ? "" : row.state === "resolved" ? "This conversation is resolved." : other ? other + " has this conversation." : "",
  );
}

function renderTransfer(row, may) {
  const sel = $("act-transfer");
  const opts = [h("option", { value: "" }, "Transfer…")];
  if (row && row.state === "agent") opts.push(h("option", { value: "release" }, "Back to the queue"));
  const qs = h("optgroup", { label: "Queues" });
  for (const q of app.queues) {
    if (row && row.state === "waiting" && q === row.queue) continue;
    qs.append(h("option", { value: "queue:" + q }, q));
  }
  if (qs.children.length) opts.push(qs);
  const ags = h("optgroup", { label: "Agents" });
  for (const a of app.agents.values()) {
    if (a.login === app.me.login || (row && holder(row) === a.login)) continue;
    ags.append(h("option", { value: "agent:" + a.login }, (a.name || a.login) + " (" + (a.presence || "offline") + ")"));
  }
  if (ags.children.length) opts.push(ags);
  sel.replaceChildren(...opts);
  sel.value = "";
  sel.disabled = !may;
  sel.parentElement.hidden = !row || row.state === "resolved";
}

// act runs a lifecycle call on the conversation shown and shows its answer.
async function act(path, body) {
  const my = cur;
  if (!my) return;
  try {
    const d = await api.post(api.conv(my.id) + "/" + path, body);
    if (obj(d.conversation)) {
      const row = app.setRow(d.conversation);
      if (cur === my) onState(row);
    }
  } catch (e) {
    if (e.code === "already_claimed") {
      const name = str(e.body.agent_name) || agentName(str(e.body.agent));
      if (cur === my) {
        my.claimedBy = { login: str(e.body.agent), name };
        renderHead();
      }
      app.notice(name + " has this conversation.");
      return;
    }
    app.notice(e.message);
  }
}

export function claim() {
  if (!cur || !cur.row || $("act-claim").hidden || $("act-claim").disabled) return;
  act("claim");
}

export function resolve() {
  if (!cur || $("act-resolve").hidden || $("act-resolve").disabled) return;
  act("resolve");
}

function returnToBot() {
  act("return");
}

function transfer() {
  const v = $("act-transfer").value;
  $("act-transfer").value = "";
  if (v === "release") act("release");
  else if (v.startsWith("queue:")) act("transfer", { queue: v.slice(6) });
  else if (v.startsWith("agent:")) act("transfer", { agent_id: v.slice(6) });
}

// ---- replies and notes ------------------------------------------------------------------

// sendReply shows text as pending and sends it over the socket (or, without one, by
// POST); it stays pending until the server acknowledges it after the store committed it.
export function sendReply(text) {
  if (!cur) return;
  const id = idPrefix + "-" + nextId++;
  const o = { conv: cur.id, text, el: messageElement({ sender: "agent", agent_id: app.me.login, text }, true, id) };
  outbox.set(id, o);
  suggest.sent(cur.id, text);
  const t = $("transcript");
  t.append(o.el);
  t.scrollTop = t.scrollHeight;
  transmit(id, o);
}

function transmit(id, o) {
  if (app.sock && app.sock.send({ type: "send", conversation_id: o.conv, text: o.text, client_id: id })) return;
  api.post(api.conv(o.conv) + "/messages", { text: o.text, client_id: id })
    .then((d) => settle(id, obj(d.message)))
    .catch((e) => {
      if (e.status !== 0) fail(id, e.code, e.message, e.body);
      // Offline: it stays in the outbox and goes again with the next socket.
    });
}

// flush sends the outbox again on a new socket; the server keeps one message per
// client_id, so a reply whose ack was lost is not doubled.
export function flush() {
  for (const [id, o] of outbox) transmit(id, o);
}

// settle turns a pending reply into the stored message (or drops its element when
// the message is shown already).
function settle(id, m) {
  const o = outbox.get(id);
  if (!o) return;
  outbox.delete(id);
  if (!o.el) return;
  if (m && Number.isInteger(m.seq) && cur && cur.id === o.conv && !cur.seqs.has(m.seq)) {
    cur.seqs.add(m.seq);
    o.el.remove();
    place(messageElement(m, false));
  } else {
    o.el.remove();
  }
}

function fail(id, code, message, body) {
  const o = outbox.get(id);
  if (!o) return;
  outbox.delete(id);
  if (o.el) o.el.remove();
  if (cur && cur.id === o.conv) composer.restore(o.text);
  if (code === "already_claimed") {
    const name = str(body && body.agent_name) || agentName(str(body && body.agent)) || "Another agent";
    app.notice(name + " has this conversation; your reply was not sent.");
  } else {
    app.notice("Your reply was not sent: " + (message || code));
  }
}

export function onAck(f) {
  settle(str(f.client_id), obj(f.message));
}

export function onSendError(f) {
  const id = str(f.client_id);
  if (f.code === "internal" || f.code === "unavailable" || f.code === "rate_limited") {
    setTimeout(() => outbox.has(id) && transmit(id, outbox.get(id)), 2000);
    return;
  }
  fail(id, str(f.code), str(f.message), f);
}

export async function sendNote(text) {
  const my = cur;
  if (!my) return false;
  try {
    const d = await api.post(api.conv(my.id) + "/notes", { text });
    if (cur === my && obj(d.event)) addEvent(d.event, true);
    return true;
  } catch (e) {
    app.notice("The note was not saved: " + e.message);
    return false;
  }
}

export function typing(on) {
  if (cur && app.sock) app.sock.send({ type: "typing", conversation_id: cur.id, typing: on });
}

export function refreshHead() {
  if (cur) renderHead();
}

$("act-claim").addEventListener("click", claim);
$("act-resolve").addEventListener("click", resolve);
$("act-return").addEventListener("click", returnToBot);
$("act-transfer").addEventListener("change", transfer);
