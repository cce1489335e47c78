package webchat

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Contexts separate the MACs of the two kinds of visitor token from each
// other and from any other use of the key.
const (
	tokenContext    = "parley webchat token v1\n"
	newTokenContext = "parley webchat new-conversation token v1\n"
)

var strictBase64 = base64.RawURLEncoding.Strict()

// maxToken is the longest token verifyToken looks at.
const maxToken = 512

// A visitor token names a conversation, signed with the handler's key. It
// comes in two kinds:
//
//   - a stored conversation's token: base64url(id) "." base64url(MAC),
//     MAC = HMAC-SHA256(key, tokenContext + id). It is deterministic, so a
//     resumed conversation keeps its token.
//   - a new conversation's token, which hello issues before anything is
//     stored: base64url(id) "." issued "." base64url(MAC), issued the Unix
//     time in seconds (decimal), MAC = HMAC-SHA256(key, newTokenContext +
//     id + "\n" + issued).
//
// A stored conversation that is gone (erased) refuses its token; a new
// conversation's token resumes a conversation that is not stored (yet) as
// an empty one while it is recent (Limits.NewTokenTTL). See hello.

// signToken returns the token of a stored conversation.
func signToken(key []byte, conversationID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(conversationID)) + "." +
		base64.RawURLEncoding.EncodeToString(tokenMAC(key, conversationID))
}

// signNewToken returns the token of a conversation not stored yet, issued
// at the given time.
func signNewToken(key []byte, conversationID string, issued time.Time) string {
	at := strconv.FormatInt(issued.Unix(), 10)
	return base64.RawURLEncoding.EncodeToString([]byte(conversationID)) + "." + at + "." +
		base64.RawURLEncoding.EncodeToString(newTokenMAC(key, conversationID, at))
}

// verifyToken returns the conversation id of a token signed with key and,
// for a new conversation's token, when it was issued (zero for a stored
// conversation's); false for anything else.
func verifyToken(key []byte, token string) (id string, issued time.Time, ok bool) {
	if len(token) > maxToken {
		return "", time.Time{}, false
	}
	parts := strings.Split(token, ".")
	if len(parts) != 2 && len(parts) != 3 {
		return "", time.Time{}, false
	}
	// Strict: the unused low bits of the last character must be zero, so
	// that a token has one spelling.
	raw, err := strictBase64.DecodeString(parts[0])
	if err != nil || len(raw) == 0 {
		return "", time.Time{}, false
	}
	mac, err := strictBase64.DecodeString(parts[len(parts)-1])
	if err != nil {
		return "", time.Time{}, false
	}
	id = string(raw)
	if len(parts) == 2 {
		return id, time.Time{}, hmac.Equal(mac, tokenMAC(key, id))
	}
	at := parts[1]
	secs, err := strconv.ParseInt(at, 10, 64)
	// One spelling per time (no sign, no leading zeros), so that a token
	// has a single form.
	if err != nil || secs <= 0 || strconv.FormatInt(secs, 10) != at {
		return "", time.Time{}, false
	}
	if !hmac.Equal(mac, newTokenMAC(key, id, at)) {
		return "", time.Time{}, false
	}
	return id, time.Unix(secs, 0), true
}

func tokenMAC(key []byte, conversationID string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(tokenContext))
	m.Write([]byte(conversationID))
	return m.Sum(nil)
}

func newTokenMAC(key []byte, conversationID, issued string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(newTokenContext))
	m.Write([]byte(conversationID))
	m.Write([]byte("\n"))
	m.Write([]byte(issued))
	return m.Sum(nil)
}

// IdentitySignature returns what the host page's backend sends as
// identity.signature: the hex HMAC-SHA256, keyed with secret, of
// userID + "\n" + email (PROTOCOL.md). It is exported for hosts written in
// Go and for tests.
func IdentitySignature(secret []byte, userID, email string) string {
	return hex.EncodeToString(identityMAC(secret, userID, email))
}

func identityMAC(secret []byte, userID, email string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(userID))
	m.Write([]byte("\n"))
	m.Write([]byte(email))
	return m.Sum(nil)
}

// verifyIdentity checks an identity's signature in constant time.
func verifyIdentity(secret []byte, id *identity) bool {
	if len(secret) == 0 || id == nil || id.UserID == "" {
		return false
	}
	sig, err := hex.DecodeString(id.Signature)
	if err != nil {
		return false
	}
	return hmac.Equal(sig, identityMAC(secret, id.UserID, id.Email))
}
