// The reply box under a conversation: a Reply tab (sent to the customer) and a
// Private note tab (kept for agents), Enter sends and Shift+Enter starts a new line,
// "/" opens the canned responses, and typing in a reply tells the customer (and the
// other agents) that the agent is typing. Drafts are kept per conversation.

import { $, h, str, arr, obj } from "./dom.js";
import { app } from "./state.js";
import * as conversation from "./conversation.js";

const TYPING_IDLE_MS = 3000;
const MAX_CHARS = 4096;

const input = $("composer-input");
const menu = $("canned-menu");

let convID = "";
let mode = "reply"; // or "note"
let blocked = ""; // why replies are refused ("" when allowed)
const drafts = new Map(); // conversation id -> {reply, note}

export function attach(id) {
  convID = id;
  const d = drafts.get(id) || { reply: "", note: "" };
  setMode("reply", false);
  input.value = d.reply;
  closeMenu();
}

export function detach() {
  saveDraft();
  stopTyping();
  closeMenu();
  convID = "";
}

function saveDraft() {
  if (!convID) return;
  const d = drafts.get(convID) || { reply: "", note: "" };
  d[mode] = input.value;
  drafts.set(convID, d);
}

// allow says why replies are refused ("" to allow them); notes are always allowed.
export function allow(reason) {
  blocked = reason;
  render();
}

export function restore(text) {
  if (mode === "reply" && !input.value) input.value = text;
}

export function focus(which) {
  if (!convID) return;
  setMode(which, true);
  input.focus();
}

function setMode(m, keepDraft) {
  if (keepDraft && m !== mode) {
    saveDraft();
    const d = drafts.get(convID) || { reply: "", note: "" };
    input.value = d[m];
  }
  if (m !== mode) stopTyping();
  mode = m;
  render();
}

function render() {
  const note = mode === "note";
  $("tab-reply").setAttribute("aria-selected", String(!note));
  $("tab-note").setAttribute("aria-selected", String(note));
  $("composer").classList.toggle("composer--note", note);
  $("composer-label").textContent = note ? "Private note, never shown to the customer" : "Reply to the customer";
  const refused = !note && !!blocked;
  input.disabled = refused;
  $("composer-send").disabled = refused;
  $("composer-send").textContent = note ? "Add note" : "Send";
  input.placeholder = refused ? blocked : note ?
    "Private note for your team: the customer never sees it (Enter saves)" :
    "Reply… (Enter sends, Shift+Enter new line, / for canned responses)";
}

async function submit() {
  const text = input.value.replace(/\r\n?/g, "\n").trim();
  if (!text || !convID) return;
  if (Array.from(text).length > MAX_CHARS || new TextEncoder().encode(text).length > MAX_CHARS) {
    app.notice("That is too long: at most 4,096 bytes.");
    return;
  }
  if (mode === "note") {
    input.value = "";
    if (!(await conversation.sendNote(text)) && !input.value) input.value = text;
    return;
  }
  if (blocked) return;
  input.value = "";
  stopTyping();
  conversation.sendReply(text);
}

// ---- typing --------------------------------------------------------------------------

let typing = false;
let typingTimer = 0;

function onInput() {
  updateMenu();
  if (mode !== "reply" || !input.value.trim()) {
    stopTyping();
    return;
  }
  if (!typing) {
    typing = true;
    conversation.typing(true);
  }
  clearTimeout(typingTimer);
  typingTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping() {
  clearTimeout(typingTimer);
  if (typing) {
    typing = false;
    conversation.typing(false);
  }
}

// ---- canned responses -------------------------------------------------------------------

let choices = []; // canned responses shown in the menu
let active = 0;
let query = null; // {start, end} of the "/shortcut" typed, null when the menu is closed

function updateMenu() {
  const before = input.value.slice(0, input.selectionStart);
  const m = /(^|\s)\/([a-z0-9-]*)$/.exec(before);
  if (!m) {
    closeMenu();
    return;
  }
  const q = m[2];
  choices = app.canned.filter((c) => str(c.shortcut).startsWith(q) || (q && str(c.title).toLowerCase().includes(q)));
  query = { start: before.length - q.length - 1, end: input.selectionStart };
  active = Math.min(active, Math.max(0, choices.length - 1));
  renderMenu();
}

function renderMenu() {
  if (!choices.length) {
    menu.replaceChildren(h("li", { class: "canned-none" }, app.canned.length ? "No canned response starts like that." : "No canned responses yet."));
  } else {
    menu.replaceChildren(...choices.map((c, i) => h("li", {
      class: "canned-item" + (i === active ? " canned-item--active" : ""),
      role: "option",
      "aria-selected": String(i === active),
      "data-i": i,
    }, h("span", { class: "canned-key" }, "/" + str(c.shortcut)), h("span", { class: "canned-title" }, str(c.title)),
    h("span", { class: "canned-preview" }, str(c.text)))));
  }
  menu.hidden = false;
}

function closeMenu() {
  menu.hidden = true;
  query = null;
  choices = [];
  active = 0;
}

// fill replaces the variables of a canned text with what the conversation shows.
export function fill(text) {
  const cur = conversation.current();
  const d = cur && cur.detail ? cur.detail : {};
  const customer = obj(d.customer);
  const name = customer && str(customer.name) ? str(customer.name) : "";
  let order = "";
  const handoff = obj(d.handoff);
  for (const e of arr(handoff && handoff.entities)) {
    if (obj(e) && /order/.test(str(e.type)) && (str(e.value) || str(e.text))) {
      order = str(e.value) || str(e.text);
      break;
    }
  }
  if (!order) {
    const latest = arr(d.orders).find((o) => obj(o) && str(o.id));
    if (latest) order = latest.id;
  }
  const vars = { "customer.name": name || "there", "order.id": order, "agent.name": (app.me && app.me.name) || "" };
  return text.replace(/\{\{\s*([a-z.]+)\s*\}\}/g, (all, k) => (Object.hasOwn(vars, k) && vars[k] ? vars[k] : all));
}

function choose(i) {
  const c = choices[i];
  if (!c || !query) return;
  const text = fill(str(c.text));
  const v = input.value;
  input.value = v.slice(0, query.start) + text + v.slice(query.end);
  let caret = query.start + text.length;
  let selEnd = caret;
  // A variable with nothing to fill it (no order known): select it for the agent to type over.
  const left = /\{\{[^}]*\}\}/.exec(text);
  if (left) {
    caret = query.start + left.index;
    selEnd = caret + left[0].length;
  }
  closeMenu();
  input.focus();
  input.setSelectionRange(caret, selEnd);
  onInput();
}

input.addEventListener("keydown", (e) => {
  if (e.isComposing) return;
  if (query) {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (choices.length) active = (active + (e.key === "ArrowDown" ? 1 : choices.length - 1)) % choices.length;
      renderMenu();
      return;
    }
    if ((e.key === "Enter" && !e.shiftKey) || e.key === "Tab") {
      if (choices.length) {
        e.preventDefault();
        choose(active);
        return;
      }
    }
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      closeMenu();
      return;
    }
  }
  if (e.key === "Enter" && !e.shiftKey) {
    e.preventDefault();
    submit();
  } else if (e.key === "Escape") {
    e.preventDefault();
    e.stopPropagation();
    input.blur();
  }
});
input.addEventListener("input", onInput);
input.addEventListener("click", updateMenu);
input.addEventListener("blur", () => setTimeout(() => document.activeElement !== input && closeMenu(), 150));
menu.addEventListener("mousedown", (e) => {
  const li = e.target instanceof Element ? e.target.closest(".canned-item") : null;
  if (!li) return;
  e.preventDefault(); // keep the focus in the input
  choose(Number(li.dataset.i));
});
$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  submit();
});
$("tab-reply").addEventListener("click", () => focus("reply"));
$("tab-note").addEventListener("click", () => focus("note"));
