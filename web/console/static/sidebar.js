// The context sidebar of the open conversation: who the customer is (tier, lifetime
// orders, last rating), the handoff card (why, the routing, the intent with its top
// scores, the entities, the satisfaction risk), recent orders, open tickets and past
// conversations.

import { $, h, str, num, obj, arr, dateText, money, pct } from "./dom.js";
import { app } from "./state.js";

export function clear() {
  $("side").replaceChildren();
}

function section(title, cls, ...body) {
  return h("section", { class: "card " + cls }, h("h3", { class: "card-title" }, title), ...body);
}

function field(label, value) {
  if (value === "" || value == null) return null;
  return h("div", { class: "field" }, h("dt", {}, label), h("dd", {}, String(value)));
}

// meter is a bar of value (0..1); hot colours it as a warning past one half.
function meter(value, label, hot) {
  const v = Math.max(0, Math.min(1, num(value)));
  const fill = h("span", { class: "meter-fill" });
  fill.style.width = Math.round(v * 100) + "%"; // CSSOM: no inline style attribute needed
  return h("div", { class: "meter" + (hot && v >= 0.5 ? " meter--hot" : ""), role: "meter", "aria-valuemin": "0", "aria-valuemax": "1",
    "aria-valuenow": v.toFixed(2), "aria-label": label }, fill);
}

function customerCard(c) {
  if (!c) {
    return section("Customer", "card--customer", h("p", { class: "muted" }, "An anonymous visitor: not linked to a customer."));
  }
  const rating = c.last_rating;
  return section("Customer", "card--customer",
    h("p", { class: "cust-name" }, str(c.name) || str(c.id), str(c.tier) ? h("span", { class: "tag tag--tier" }, str(c.tier)) : null),
    h("dl", { class: "fields" },
      field("E-mail", str(c.email)),
      field("Phone", str(c.phone)),
      field("Lifetime orders", String(num(c.lifetime_orders))),
      field("Last rating", typeof rating === "number" ? rating + " / 5" : "none"),
      field("Customer since", dateText(c.created_at))));
}

function handoffCard(hd) {
  if (!hd) return null;
  const top = arr(hd.top).filter(obj).slice(0, 3);
  const entities = arr(hd.entities).filter(obj);
  return section("Handoff", "card--handoff",
    h("dl", { class: "fields" },
      field("Why", str(hd.reason)),
      field("Routing", str(hd.routing_reason)),
      field("Queue", str(hd.queue)),
      field("Priority", str(hd.priority)),
      field("Intent", str(hd.intent) ? str(hd.intent) + " (" + pct(hd.confidence) + ")" : "")),
    top.length ? h("ol", { class: "scores", "aria-label": "Top intents" },
      ...top.map((t) => h("li", { class: "score" },
        h("span", { class: "score-name" }, str(t.intent)),
        meter(t.confidence, str(t.intent)),
        h("span", { class: "score-value" }, pct(t.confidence))))) : null,
    entities.length ? h("ul", { class: "entities", "aria-label": "Entities" },
      ...entities.map((e) => h("li", {},
        h("span", { class: "tag" }, str(e.type)), " ", str(e.text),
        str(e.value) && str(e.value) !== str(e.text) ? " → " + str(e.value) : ""))) : null,
    h("div", { class: "risk" }, h("span", {}, "Satisfaction risk " + pct(hd.satisfaction_risk)), meter(hd.satisfaction_risk, "Satisfaction risk", true)));
}

function ordersCard(orders) {
  const list = orders.filter(obj);
  return section("Recent orders", "card--orders", list.length ? h("ul", { class: "plain" },
    ...list.map((o) => h("li", { class: "order" },
      h("span", { class: "order-id" }, "#" + str(o.id)),
      h("span", { class: "tag tag--status" }, str(o.status)),
      h("span", { class: "order-total" }, money(o.total_cents, o.currency)),
      h("span", { class: "muted" }, dateText(o.placed_at)),
      str(o.tracking) ? h("span", { class: "muted order-track" }, str(o.carrier) + " " + str(o.tracking)) : null))) :
    h("p", { class: "muted" }, "No orders."));
}

function ticketsCard(tickets) {
  const list = tickets.filter(obj);
  return section("Open tickets", "card--tickets", list.length ? h("ul", { class: "plain" },
    ...list.map((t) => h("li", {},
      h("span", { class: "order-id" }, str(t.id)), " ", str(t.subject), " ",
      h("span", { class: "tag tag--status" }, str(t.status)), str(t.queue) ? h("span", { class: "muted" }, " " + str(t.queue)) : null))) :
    h("p", { class: "muted" }, "No open tickets."));
}

function pastCard(past) {
  const list = past.filter(obj).filter((p) => str(p.id) && str(p.id) !== app.openId);
  return section("Past conversations", "card--past", list.length ? h("ul", { class: "plain" },
    ...list.map((p) => {
      const a = h("a", { href: "#/" + app.view + "/" + encodeURIComponent(str(p.id)) }, dateText(p.created_at) || str(p.id));
      return h("li", {}, a, " ", h("span", { class: "tag tag--status" }, str(p.state)), str(p.queue) ? " " + str(p.queue) : "");
    })) :
    h("p", { class: "muted" }, "None before this one."));
}

// render draws the sidebar from GET /console/api/conversations/{id}.
export function render(d) {
  const side = $("side");
  side.replaceChildren(
    customerCard(obj(d.customer)),
    handoffCard(obj(d.handoff)),
    ordersCard(arr(d.orders)),
    ticketsCard(arr(d.open_tickets)),
    pastCard(arr(d.past_conversations)));
}
