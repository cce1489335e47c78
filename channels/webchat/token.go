package webchat

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// tokenContext separates visitor-token MACs from any other use of the key.
const tokenContext = "parley webchat token v1\n"

// signToken returns the visitor token of a conversation:
// base64url(conversation id) "." base64url(HMAC-SHA256(key, context+id)).
// It is deterministic, so a resumed conversation keeps its token.
func signToken(key []byte, conversationID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(conversationID)) + "." +
		base64.RawURLEncoding.EncodeToString(tokenMAC(key, conversationID))
}

// verifyToken returns the conversation id of a token signed with key, and
// false for anything else.
func verifyToken(key []byte, token string) (string, bool) {
	idPart, macPart, ok := strings.Cut(token, ".")
	if !ok || len(token) > 512 {
		return "", false
	}
	id, err := base64.RawURLEncoding.DecodeString(idPart)
	if err != nil || len(id) == 0 {
		return "", false
	}
	mac, err := base64.RawURLEncoding.DecodeString(macPart)
	if err != nil {
		return "", false
	}
	if !hmac.Equal(mac, tokenMAC(key, string(id))) {
		return "", false
	}
	return string(id), true
}

func tokenMAC(key []byte, conversationID string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(tokenContext))
	m.Write([]byte(conversationID))
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
