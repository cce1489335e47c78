// Suggested replies: up to three chips above the reply box, from past agents' replies,
// canned responses and the help centre, then a reply model's draft when serve has one
// (GET .../suggestions). Clicking one puts its text in the reply box for the agent to
// edit and send; when a reply that started from a suggestion is sent, the use is recorded (POST .../suggestions/used), which the
// Today page and /metrics count. A server without suggestions answers 404: no chips.

import { $, h, str, num, arr, obj } from "./dom.js";
import * as api from "./api.js";
import * as composer from "./composer.js";

const box = $("suggestions");
const input = $("composer-input");

const sourceNames = { past_reply: "Past reply", canned: "Canned", kb: "Help centre", draft: "Draft: check before sending" };

let convID = "";
let gen = 0; // counts the requests: only the latest one's answer is shown
let chosen = null; // {conv, id} of the suggestion the reply being written started from

// attach shows the suggestions of a conversation just opened.
export function attach(id) {
  convID = id;
  chosen = null;
  refresh();
}

export function detach() {
  convID = "";
  chosen = null;
  gen++;
  hide();
}

function hide() {
  box.hidden = true;
  box.replaceChildren();
}

// refresh asks for the open conversation's suggestions again (a message came in).
export async function refresh() {
  if (!convID) return;
  const my = ++gen;
  const id = convID;
  let d;
  try {
    d = await api.get(api.conv(id) + "/suggestions");
  } catch (e) {
    if (my === gen) hide(); // not enabled (404), not visible (403), or offline: no chips
    return;
  }
  if (my !== gen || id !== convID) return;
  render(arr(obj(d) && d.suggestions).filter((s) => obj(s) && str(s.id) && str(s.text)).slice(0, 3));
}

function render(list) {
  if (!list.length) {
    hide();
    return;
  }
  box.replaceChildren(h("span", { class: "suggest-label" }, "Suggested"), ...list.map((s) => {
    const name = sourceNames[str(s.source)] || "Suggestion";
    const chip = h("button", {
      type: "button", class: "suggest-chip", "data-id": str(s.id), "data-source": str(s.source),
      title: name + (str(s.ref) ? " (" + str(s.ref) + ")" : "") + ", score " + num(s.score).toFixed(2) + ". Click to edit and send:\n" + str(s.text),
    }, h("span", { class: "suggest-source" }, name), h("span", { class: "suggest-text" }, str(s.text)));
    chip.addEventListener("click", () => use(s));
    return chip;
  }));
  box.hidden = false;
}

// use puts a suggestion in the reply box, with the variables the server could not fill
// filled as canned responses are, and the first one left selected to type over.
function use(s) {
  composer.focus("reply");
  if (input.disabled) return;
  const text = composer.fill(str(s.text));
  input.value = text;
  chosen = { conv: convID, id: str(s.id) };
  const left = /\{\{[^}]*\}\}/.exec(text);
  if (left) input.setSelectionRange(left.index, left.index + left[0].length);
  else input.setSelectionRange(text.length, text.length);
  input.dispatchEvent(new Event("input")); // the typing indicator, as if typed
}

// sent is told of every reply the agent sends; one that started from a suggestion
// counts as its use. The count is best effort: a failure does not stop the reply.
export function sent(conv, text) {
  if (!chosen || chosen.conv !== conv || !str(text).trim()) return;
  const c = chosen;
  chosen = null;
  hide();
  api.post(api.conv(conv) + "/suggestions/used", { id: c.id }).catch(() => {});
}

// Emptying the reply box ends the link to the suggestion: what is typed next is the
// agent's own.
input.addEventListener("input", () => {
  if (chosen && !input.value.trim()) chosen = null;
});

// today fetches today's counts for the Today page: null when suggestions are off.
export async function today() {
  try {
    const d = await api.get("suggestions/today");
    return obj(d) ? { shown: num(d.shown), used: num(d.used), pct: num(d.used_pct) } : null;
  } catch (e) {
    return null;
  }
}
