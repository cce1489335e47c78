// Package admin is the local admin channel of "bot serve": a Unix socket in
// the data folder, readable and writable by its owner only (mode 0600), over
// which the commands that need the store (bot backup, bot customer ...) reach
// the server that holds it. bbolt lets one process open the store file, so
// while a server runs, these commands ask it to do the work.
//
// The server answers a registry of named operations (Op); a command adds one
// by giving it a name and a function. The protocol is HTTP/1.1 over the
// socket:
//
//	POST /v1/NAME
//	Content-Type: application/json   (optional)
//
//	{"id": "cus_ada"}                 the arguments: one JSON object, at most
//	                                  MaxRequestBytes; an empty body is {}
//
// A success is 200 with the operation's output as the body, streamed (a
// backup is the store file). A failure before any output is a 4xx or 5xx
// status with a JSON body {"error": {"code": CODE, "message": TEXT}}; a
// failure after the output began ends the body early and puts the same
// object in the trailer Admin-Error. Client.Call turns both back into an
// *Error, which matches the crm sentinel errors with errors.Is
// (crm.ErrNotFound for the code not_found, and so on).
//
// Caveats: the socket's mode is what keeps other users out, so the folder
// must be one that they cannot replace files in. A path longer than the
// system's limit for socket names (about 100 bytes) cannot be bound: Listen
// says so.
package admin
