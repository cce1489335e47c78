// The conversation list: the rows the server sent (GET /console/api/conversations
// and "state" frames), filtered and sorted for the chosen view. Waiting times tick in
// the page; a row turns red once it is past the SLA.

import { $, h, str, num, obj, duration, timeText, pct } from "./dom.js";

export const viewTitles = { mine: "Mine", unassigned: "Unassigned", open: "All open", resolved: "Resolved today" };

// rank orders priorities, urgent first.
const rank = { urgent: 3, high: 2, normal: 1, low: 0 };

// normalize keeps a row's fields of known types and notes when its waiting clock
// started, on this page's clock (the server's waiting_seconds, so clock skew does not
// matter).
export function normalize(r) {
  const row = {
    id: str(r.id),
    channel: str(r.channel),
    state: str(r.state, "bot"),
    queue: str(r.queue),
    priority: str(r.priority, "normal"),
    assigned_agent: str(r.assigned_agent),
    assigned_name: str(r.assigned_name),
    customer: null,
    last_message: null,
    state_since: str(r.state_since),
    sla_breached: r.sla_breached === true,
    satisfaction_risk: num(r.satisfaction_risk),
    created_at: str(r.created_at),
    updated_at: str(r.updated_at),
  };
  const c = obj(r.customer);
  if (c) row.customer = { id: str(c.id), name: str(c.name), tier: str(c.tier) };
  const m = obj(r.last_message);
  if (m) row.last_message = { sender: str(m.sender), text: str(m.text), at: str(m.at) };
  // In the queue: the server's count, immune to clock skew; otherwise since the state began.
  const since = Date.parse(row.state_since || row.updated_at);
  row.clockStart = row.state === "waiting" || !Number.isFinite(since) ? Date.now() - num(r.waiting_seconds) * 1000 : Math.min(since, Date.now());
  return row;
}

export function customerName(row) {
  if (row && row.customer && row.customer.name) return row.customer.name;
  return "Visitor " + (row ? row.id.slice(-6) : "");
}

export function inView(view, row, me) {
  switch (view) {
    case "mine":
      return row.state === "agent" && row.assigned_agent === me;
    case "unassigned":
      return row.state === "waiting";
    case "open":
      return row.state !== "resolved";
    case "resolved":
      return row.state === "resolved";
    default:
      return false;
  }
}

function compare(view) {
  if (view === "unassigned") {
    // The most urgent first, then whoever has waited longest.
    return (a, b) => (rank[b.priority] ?? 1) - (rank[a.priority] ?? 1) || a.clockStart - b.clockStart || (a.id < b.id ? -1 : 1);
  }
  return (a, b) => (b.updated_at > a.updated_at ? 1 : b.updated_at < a.updated_at ? -1 : a.id < b.id ? -1 : 1);
}

export function sorted(rows, view, me) {
  return [...rows.values()].filter((r) => inView(view, r, me)).sort(compare(view));
}

// elapsed is how long the row has been in its state, in seconds.
function elapsed(row) {
  return (Date.now() - row.clockStart) / 1000;
}

function breached(row, slaSeconds) {
  if (row.state === "resolved") return false;
  return row.sla_breached || (slaSeconds > 0 && row.state === "waiting" && elapsed(row) >= slaSeconds);
}

function clockText(row) {
  const d = duration(elapsed(row));
  switch (row.state) {
    case "waiting":
      return "waiting " + d;
    case "agent":
      return (row.assigned_name || row.assigned_agent || "agent") + " · " + d;
    case "resolved":
      return "resolved " + timeText(row.updated_at);
    default:
      return "bot · " + d;
  }
}

const senderLabel = { customer: "", bot: "Bot: ", agent: "Agent: ", system: "System: " };

function rowElement(row, selected, slaSeconds) {
  const risk = row.satisfaction_risk;
  const li = h("li", {
    class: "row" + (selected ? " row--selected" : "") + (breached(row, slaSeconds) ? " row--late" : ""),
    role: "option",
    "aria-selected": selected ? "true" : "false",
    "data-id": row.id,
    "data-state": row.state,
  },
  h("div", { class: "row-top" },
    h("span", { class: "row-name" }, customerName(row)),
    row.customer && row.customer.tier ? h("span", { class: "tag tag--tier" }, row.customer.tier) : null,
    row.priority !== "normal" ? h("span", { class: "tag tag--prio tag--" + (rank[row.priority] >= 2 ? "hot" : "cool") }, row.priority) : null,
    risk > 0 ? h("span", { class: "tag tag--risk" + (risk >= 0.5 ? " tag--hot" : ""), title: "Predicted satisfaction risk" }, "risk " + pct(risk)) : null),
  h("div", { class: "row-mid" },
    h("span", { class: "row-queue" }, row.queue || "no queue"),
    h("span", { class: "row-clock", "data-clock": "" }, clockText(row))),
  h("div", { class: "row-last" },
    row.last_message ? (senderLabel[row.last_message.sender] ?? "") + row.last_message.text : ""));
  return li;
}

// render draws the list of the view with the selected row marked.
export function render(rows, view, me, selected, slaSeconds) {
  const list = sorted(rows, view, me);
  const ul = $("rows");
  ul.replaceChildren(...list.map((r) => rowElement(r, r.id === selected, slaSeconds)));
  $("rows-empty").hidden = list.length > 0;
  $("rows-empty").textContent = view === "unassigned" ? "Nobody is waiting." : view === "mine" ? "You hold no conversation." : "Nothing here.";
  const sel = ul.querySelector(".row--selected");
  if (sel) {
    sel.id = "row-selected";
    ul.setAttribute("aria-activedescendant", "row-selected");
  } else {
    ul.removeAttribute("aria-activedescendant");
  }
  return list;
}

// tick updates the waiting clocks and the SLA colour of the rows shown.
export function tick(rows, slaSeconds) {
  for (const li of $("rows").children) {
    const row = rows.get(li.dataset.id);
    if (!row) continue;
    li.querySelector("[data-clock]").textContent = clockText(row);
    li.classList.toggle("row--late", breached(row, slaSeconds));
  }
}
