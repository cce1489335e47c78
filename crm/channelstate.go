package crm

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxStateKey and MaxStateValue bound the keys and values of a
// ChannelStateStore.
const (
	MaxStateKey   = 512
	MaxStateValue = 4096
)

// ChannelStateStore keeps what a channel adapter (Slack) must remember
// across restarts and across nodes: the outside events it has taken, so
// that each is processed once however often it is delivered, and links
// from its own ids (a Slack thread, a channel and user) to conversations and
// back. Keys are 1 to MaxStateKey bytes and values at most MaxStateValue
// bytes of valid UTF-8 without NUL; anything else fails with ErrInvalid and
// changes nothing.
type ChannelStateStore interface {
	// MarkSeen records key, seen at at, and reports whether it is new: false
	// when it was recorded before (and not pruned since), in which case
	// nothing changes. Of many concurrent calls with one key exactly one
	// gets true.
	MarkSeen(ctx context.Context, key string, at time.Time) (bool, error)
	// PruneSeen forgets the keys seen before before and returns how many.
	PruneSeen(ctx context.Context, before time.Time) (int, error)
	// PutLink stores value under key, replacing the one there; an empty
	// value deletes the link.
	PutLink(ctx context.Context, key, value string) error
	// Link returns the value under key, or ErrNotFound.
	Link(ctx context.Context, key string) (string, error)
}

// CheckStateKey validates a ChannelStateStore key and value (value may be
// empty). Errors wrap ErrInvalid.
func CheckStateKey(key, value string) error {
	for _, f := range []struct {
		what, s string
		max     int
	}{{"state key", key, MaxStateKey}, {"state value", value, MaxStateValue}} {
		switch {
		case f.s == "" && f.what == "state key":
			return fmt.Errorf("state key missing: %w", ErrInvalid)
		case len(f.s) > f.max:
			return fmt.Errorf("%s longer than %d bytes: %w", f.what, f.max, ErrInvalid)
		case !utf8.ValidString(f.s):
			return fmt.Errorf("%s not valid UTF-8: %w", f.what, ErrInvalid)
		case strings.IndexByte(f.s, 0) >= 0:
			return fmt.Errorf("%s contains a NUL byte: %w", f.what, ErrInvalid)
		}
	}
	return nil
}
