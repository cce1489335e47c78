// The "Today" page: GET /console/api/today as numbers, handoffs by queue, and the
// conversations of each hour as a bar chart drawn with inline SVG (no chart library).

import { $, h, s, num, obj, arr, duration } from "./dom.js";
import * as api from "./api.js";
import { app } from "./state.js";
import * as suggest from "./suggest.js";

function stat(label, value, sub) {
  return h("div", { class: "stat" }, h("p", { class: "stat-value" }, value), h("p", { class: "stat-label" }, label),
    sub ? h("p", { class: "stat-sub" }, sub) : null);
}

// chart draws 24 bars, one per hour of the day, with the hours every 3 hours and the
// highest count as the scale.
export function chart(hourly) {
  const counts = Array.from({ length: 24 }, (_, i) => Math.max(0, Math.round(num(hourly[i]))));
  const max = Math.max(1, ...counts);
  const W = 720, H = 220, left = 32, bottom = 24, top = 12;
  const plotH = H - bottom - top;
  const bw = (W - left) / 24;
  const svg = s("svg", { viewBox: "0 0 " + W + " " + H, class: "chart-svg", role: "img",
    "aria-label": "Conversations per hour today: " + counts.reduce((a, b) => a + b, 0) + " in all, at most " + Math.max(...counts) + " in one hour" });
  svg.append(s("line", { x1: left, y1: H - bottom, x2: W, y2: H - bottom, class: "chart-axis" }));
  svg.append(s("text", { x: left - 6, y: top + 4, "text-anchor": "end", class: "chart-label" }, String(max)));
  svg.append(s("text", { x: left - 6, y: H - bottom, "text-anchor": "end", class: "chart-label" }, "0"));
  const now = new Date().getHours();
  counts.forEach((c, i) => {
    const bh = (c / max) * plotH;
    const bar = s("rect", {
      x: (left + i * bw + 2).toFixed(1), y: (H - bottom - bh).toFixed(1), width: (bw - 4).toFixed(1), height: bh.toFixed(1),
      class: "chart-bar" + (i === now ? " chart-bar--now" : ""), "data-hour": i, "data-count": c,
    }, s("title", {}, String(i).padStart(2, "0") + ":00 " + c + (c === 1 ? " conversation" : " conversations")));
    svg.append(bar);
    if (i % 3 === 0) {
      svg.append(s("text", { x: (left + i * bw + bw / 2).toFixed(1), y: H - 6, "text-anchor": "middle", class: "chart-label" }, String(i).padStart(2, "0")));
    }
  });
  return svg;
}

// containedPct is computed from the counts, so it does not matter whether the server's
// contained_pct is a fraction or a percentage.
function containedPct(d) {
  const n = num(d.conversations);
  return n > 0 ? Math.round((num(d.contained) / n) * 100) : 0;
}

export async function show() {
  let d;
  try {
    d = await api.get("today");
  } catch (e) {
    app.notice("Today's numbers couldn't be loaded: " + e.message);
    return;
  }
  const frt = d.median_first_response_seconds;
  const csat = d.csat_average;
  const sg = await suggest.today();
  $("today-numbers").replaceChildren(
    stat("Conversations", String(num(d.conversations))),
    stat("Contained by the bot", containedPct(d) + "%", num(d.contained) + " without a handoff"),
    stat("Handoffs", String(num(d.handoffs))),
    stat("Median first response", typeof frt === "number" ? duration(frt) : "—"),
    stat("CSAT", typeof csat === "number" ? csat.toFixed(1) + " / 5" : "—", num(d.csat_count) + (num(d.csat_count) === 1 ? " rating" : " ratings")),
    ...(sg ? [stat("Suggestions used", Math.round(sg.pct) + "%", "suggestions used: " + sg.used + " of " + sg.shown + " shown (" + sg.pct + "%)")] : []));
  $("today-chart").replaceChildren(chart(arr(d.hourly)));
  const byQueue = obj(d.handoffs_by_queue) || {};
  const queues = Object.keys(byQueue).sort((a, b) => num(byQueue[b]) - num(byQueue[a]) || (a < b ? -1 : 1));
  $("today-queues").replaceChildren(...(queues.length ?
    queues.map((q) => h("li", {}, h("span", { class: "queue-name" }, q), h("span", { class: "queue-count" }, String(num(byQueue[q]))))) :
    [h("li", { class: "muted" }, "No handoffs today.")]));
}
