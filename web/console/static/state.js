// The console's shared state, one object for every module. console.js fills it and
// sets the functions; the other modules read it.

export const app = {
  me: null, // {login, name, role, teams}
  agents: new Map(), // login -> {login, name, role, teams, presence}
  queues: [],
  canned: [], // crm.CannedResponse
  rows: new Map(), // conversation id -> list row (list.js normalize)
  slaSeconds: 0, // when the server says; else rows turn red on its sla_breached
  view: "mine",
  selected: "", // the row the keyboard is on
  openId: "", // the conversation shown
  sock: null, // socket.js
  loading: false, // a REST reload is under way: frames wait in queued
  queued: [],

  // Set by console.js.
  notice: (text) => {},
  setRow: (raw) => null, // stores a server row, redraws the list; returns the stored row
  go: (hash) => {},
};

export function isAdmin() {
  return !!app.me && app.me.role === "admin";
}

// agentName is the display name of an agent login, the login itself when unknown.
export function agentName(login) {
  if (app.me && login === app.me.login) return app.me.name || login;
  const a = app.agents.get(login);
  return (a && a.name) || login;
}

// actorName names who did something: an agent, the bot or the system.
export function actorName(actor) {
  if (actor === "bot") return "the bot";
  if (actor === "system" || !actor) return "the system";
  return agentName(actor);
}
