// Package console is the agent console: the web application support agents
// use to take conversations over from the bot, answer customers live, and
// close the loop. It serves, under /console (package web mounts it there):
//
//   - /console and /console/<file>: the console's page, scripts and styles,
//     embedded from static/ (plain files, no build step, no CDN);
//   - /console/api/...: a JSON API for the page;
//   - /console/ws: a websocket of live updates (the hub, hub.go).
//
// # Sessions and the rules every request follows
//
// An agent logs in with POST /console/api/login {"email","password"}
// (checked by crm.AgentStore.Authenticate) and gets the cookie
// parley_console (HttpOnly, SameSite=Strict, Path=/console, Secure when
// the request came over TLS or with X-Forwarded-Proto: https) and a CSRF
// token. Sessions are kept in memory: a restart logs every agent out. A
// session ends after Config.SessionTTL unused (each request starts that
// time again), at logout, and when its agent is removed or given a new
// password. Five failed logins for one account, or from one address (the
// connection's peer: forwarded headers are not trusted, so behind a proxy
// they count against the proxy), within five minutes lock it until the
// oldest is five minutes old: 429 too_many_attempts with Retry-After, even
// for the right password.
//
// Every POST, PUT and DELETE (login included) is refused with 403
// cross_origin when its Origin is not this server's own scheme://host or
// its Sec-Fetch-Site is not same-origin; every one but login needs the
// header X-CSRF-Token with the session's token (403 csrf). The websocket
// needs the session and an Origin of this server before it is upgraded.
//
// An admin sees every conversation; an agent with teams sees those of
// their queues, those in no queue and those assigned to them; an agent
// without teams serves every queue. Anything else is 403 forbidden, and
// is left out of lists and of the socket.
//
// # API
//
// Errors have the REST API's shape, {"error":{"code","message"}}:
// 400 bad_request, invalid_json, unknown_agent, unknown_queue;
// 401 unauthorized; 403 forbidden, cross_origin, csrf; 404 not_found;
// 405 method_not_allowed; 409 already_claimed (with "agent" and
// "agent_name" beside "error"), conflict (not possible in the
// conversation's state); 413 too_large; 429 too_many_attempts;
// 500 internal.
//
//	POST   /console/api/login                     {"email","password"} -> {"agent":{...},"csrf"}
//	POST   /console/api/logout                    -> 204
//	GET    /console/api/me                        -> {"agent":{...},"csrf"}
//	GET    /console/api/conversations?view=V      V: mine|unassigned|open|resolved -> {"conversations":[Row]}
//	GET    /console/api/conversations/{id}        -> transcript, events, sidebar, handoff card, viewers
//	POST   /console/api/conversations/{id}/claim|release|return|resolve  -> {"conversation":Row}
//	POST   /console/api/conversations/{id}/transfer {"queue"} or {"agent_id"} -> {"conversation":Row}
//	POST   /console/api/conversations/{id}/messages {"text","client_id"} -> 201 {"message"}
//	POST   /console/api/conversations/{id}/notes  {"text"} -> 201 {"event"}
//	GET    /console/api/canned                    -> {"canned":[...]}
//	PUT    /console/api/canned/{shortcut}         {"title","text"} (admins) -> the stored response
//	DELETE /console/api/canned/{shortcut}         (admins) -> 204
//	GET    /console/api/agents                    -> {"agents":[{...,"presence"}]}
//	GET    /console/api/queues                    -> {"queues":[...]}
//	GET    /console/api/today                     -> the Today numbers (todayAnswer)
//
// Every string an agent or a customer wrote goes out as JSON: the page
// renders it as text, never as markup. Changes go through the dialog
// engine (Engine), which stores each one with its event and publishes it,
// so that the REST API, Slack and the console see the same lifecycle.
package console
