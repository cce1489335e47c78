// Package webhook calls the company's own backend over HTTP for the dialog
// engine's "webhook:NAME" actions: Client implements dialog.Caller.
//
// A call POSTs the dialog.WebhookRequest as JSON to the hook's URL with
//
//	Content-Type: application/json
//	X-Parley-Timestamp: <Unix seconds when the request was sent>
//	X-Parley-Signature: sha256=<hex HMAC-SHA256 of the body, keyed with the secret>
//
// where the secret is the value of the environment variable the hook's
// secret_env names. The backend verifies the signature over the raw body
// (Verify does it in Go) and answers 2xx with a dialog.WebhookReply as JSON,
// such as {"text": "You have 120 points.", "slots": {"points": "120"}}.
// Anything else is an error saying why: no secret, a transport error or the
// hook's timeout, a status outside 2xx, a body over Client.MaxReply bytes
// (64 KiB by default), or a body that is not one JSON object of the reply's
// shape. The engine turns every error into a polite reply and a log line;
// so that no card number or one-time code reaches the log, what an error
// quotes of the backend's answer (its status line, a slot name) is redacted
// with crm.Redact. Nothing of a request or reply body is logged or stored
// here: the reply's text and slots go to the store, which redacts them.
//
// Caveats: the signature covers the body only, not the timestamp header, so
// a receiver that wants replay protection should also reject requests whose
// conversation and text it has already answered. Redirects are not followed
// (a signed body is not re-sent to another host). Unknown fields in a reply
// are ignored so a backend can add its own.
package webhook
