// The canned responses page: everyone sees them; admins add, change and delete them
// (PUT and DELETE /console/api/canned/{shortcut}).

import { $, h, str, arr, obj } from "./dom.js";
import * as api from "./api.js";
import { app, isAdmin } from "./state.js";

// load fetches the canned responses for the reply box's "/" menu.
export async function load() {
  try {
    const d = await api.get("canned");
    app.canned = arr(d.canned).filter((c) => obj(c) && str(c.shortcut) && str(c.text));
    app.canned.sort((a, b) => (a.shortcut < b.shortcut ? -1 : 1));
  } catch (e) {
    if (e.status !== 401) app.notice("Canned responses couldn't be loaded: " + e.message);
  }
}

function edit(c) {
  $("canned-shortcut").value = str(c.shortcut);
  $("canned-title-input").value = str(c.title);
  $("canned-text").value = str(c.text);
  $("canned-text").focus();
}

async function remove(c) {
  try {
    await api.del("canned/" + encodeURIComponent(str(c.shortcut)));
  } catch (e) {
    app.notice("Not deleted: " + e.message);
    return;
  }
  await show();
}

function render() {
  const admin = isAdmin();
  $("canned-form").hidden = !admin;
  $("canned-list").replaceChildren(...(app.canned.length ? app.canned.map((c) => {
    const li = h("li", { class: "canned-entry", "data-shortcut": str(c.shortcut) },
      h("p", { class: "canned-head" }, h("span", { class: "canned-key" }, "/" + str(c.shortcut)), " ", h("span", { class: "canned-title" }, str(c.title))),
      h("p", { class: "canned-body" }, str(c.text)));
    if (admin) {
      const editBtn = h("button", { type: "button", class: "btn btn--small" }, "Edit");
      const delBtn = h("button", { type: "button", class: "btn btn--small btn--danger" }, "Delete");
      editBtn.addEventListener("click", () => edit(c));
      delBtn.addEventListener("click", () => remove(c));
      li.append(h("p", { class: "canned-actions" }, editBtn, " ", delBtn));
    }
    return li;
  }) : [h("li", { class: "muted" }, admin ? "None yet: add the first below." : "None yet: an admin adds them.")]));
}

export async function show() {
  await load();
  render();
}

$("canned-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const shortcut = $("canned-shortcut").value.trim().toLowerCase();
  const err = $("canned-error");
  err.textContent = "";
  if (!/^[a-z0-9-]{1,64}$/.test(shortcut)) {
    err.textContent = "A shortcut is 1 to 64 of a-z, 0-9 and -.";
    return;
  }
  try {
    await api.put("canned/" + encodeURIComponent(shortcut), { title: $("canned-title-input").value.trim(), text: $("canned-text").value });
  } catch (ex) {
    err.textContent = ex.message;
    return;
  }
  $("canned-form").reset();
  await show();
});
