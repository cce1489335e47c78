package web

import (
	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/nlp"
)

// Error codes of the REST API's JSON errors that package httpjson does not
// define: those the agent console also answers come from there, the rest
// only this API uses. API.md lists them all with their HTTP statuses.
const (
	codeAPIDisabled    = "api_disabled"
	codeModelNotLoaded = "model_not_loaded"
	codeNotReady       = "not_ready"
)

// maxBodyBytes bounds an API request body. The texts it carries are at most
// maxTextBytes; the rest is room for JSON escapes (\u00e9 is six bytes for
// two) and the other fields.
const maxBodyBytes = 64 << 10

// maxTextBytes bounds the text of a parse request or a posted message: the
// smaller of the store's default limit for a message and the most the NLU
// reads (4096 today, as API.md says).
const maxTextBytes = min(crm.DefaultMaxMessageBytes, nlp.MaxTextBytes)
