// DOM and formatting helpers of the console. Every string that comes from the
// server goes into the page through text nodes (h's children, textContent), never
// through innerHTML: a customer's "<img onerror=...>" is shown as those characters.

// h builds an element. attrs are static strings of the console's own code (class
// names, roles, ids); children are elements or strings, and strings become text nodes.
export function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== false && v != null) e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c != null && c !== false) e.append(c);
  }
  return e;
}

const SVG_NS = "http://www.w3.org/2000/svg";

// s builds an SVG element; attribute values are numbers or the console's own strings.
export function s(tag, attrs, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  for (const c of children) {
    if (c != null) e.append(c);
  }
  return e;
}

export const $ = (id) => document.getElementById(id);

// str returns v when it is a string, else fallback: the server's JSON is trusted for
// shape only as far as this check.
export function str(v, fallback = "") {
  return typeof v === "string" ? v : fallback;
}

export function num(v, fallback = 0) {
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

export function arr(v) {
  return Array.isArray(v) ? v : [];
}

export function obj(v) {
  return v && typeof v === "object" && !Array.isArray(v) ? v : null;
}

// duration writes seconds as "45s", "3m", "1h 5m", "2d".
export function duration(sec) {
  sec = Math.max(0, Math.floor(sec));
  if (sec < 60) return sec + "s";
  const m = Math.floor(sec / 60);
  if (m < 60) return m + "m";
  const hrs = Math.floor(m / 60);
  if (hrs < 24) return hrs + "h" + (m % 60 ? " " + (m % 60) + "m" : "");
  return Math.floor(hrs / 24) + "d";
}

export function timeText(at) {
  const d = at ? new Date(at) : null;
  if (!d || isNaN(d)) return "";
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function dateText(at) {
  const d = at ? new Date(at) : null;
  if (!d || isNaN(d)) return "";
  return d.toLocaleDateString([], { year: "numeric", month: "short", day: "numeric" });
}

export function pct(x) {
  return Math.round(num(x) * 100) + "%";
}

// money writes cents in a currency; an unknown currency code is written as a plain number.
export function money(cents, currency) {
  const v = num(cents) / 100;
  try {
    return new Intl.NumberFormat([], { style: "currency", currency: str(currency, "EUR") }).format(v);
  } catch (e) {
    return v.toFixed(2) + " " + str(currency);
  }
}

// inField reports whether a key event belongs to a text field, where single-key
// shortcuts must not fire.
export function inField(target) {
  if (!(target instanceof Element)) return false;
  return target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']") !== null;
}
