package crmtest

import (
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/crm"
)

// testChannelSeen checks MarkSeen and PruneSeen: a key is fresh once, until
// it is pruned; the bound of a prune is exclusive.
func testChannelSeen(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	mark := func(key string, n int, want bool) {
		t.Helper()
		if got := must[bool](t)(st.MarkSeen(ctx, key, day(n))); got != want {
			t.Fatalf("MarkSeen(%q, day %d) = %v, want %v", key, n, got, want)
		}
	}
	mark("ev:Ev01", 0, true)
	mark("ev:Ev01", 0, false)
	mark("ev:Ev01", 5, false) // a later delivery is no fresher
	mark("ev:Ev02", 1, true)
	mark("ev:Ev03", 2, true)
	mark("act:trigger 1:parley_take", 2, true)
	mark("ev:Ünïcode ✓", 3, true)
	mark(strings.Repeat("k", crm.MaxStateKey), 3, true)

	// A mark is no link: the two are apart.
	_, err := st.Link(ctx, "ev:Ev01")
	wantErr(t, "link of a key only marked seen", err, crm.ErrNotFound)

	if n := must[int](t)(st.PruneSeen(ctx, day(0))); n != 0 {
		t.Errorf("PruneSeen(day 0) forgot %d keys, want 0 (the bound is exclusive)", n)
	}
	// The re-delivery at day 5 did not move Ev01's time: it goes with day 0.
	if n := must[int](t)(st.PruneSeen(ctx, day(2))); n != 2 {
		t.Errorf("PruneSeen(day 2) forgot %d keys, want 2 (Ev01, Ev02)", n)
	}
	mark("ev:Ev03", 2, false) // seen at the bound: kept
	mark("act:trigger 1:parley_take", 9, false)
	mark("ev:Ev02", 9, true) // pruned: fresh again
	mark("ev:Ev01", 9, true)
	mark("ev:Ev01", 9, false)
	if n := must[int](t)(st.PruneSeen(ctx, day(2))); n != 0 {
		t.Errorf("second PruneSeen(day 2) forgot %d keys, want 0", n)
	}
	if n := must[int](t)(st.PruneSeen(ctx, day(100))); n != 6 {
		t.Errorf("PruneSeen(day 100) forgot %d keys, want all 6", n)
	}
	mark("ev:Ev03", 100, true)
}

// testChannelSeenConcurrent marks one key from many goroutines at once:
// exactly one of them takes it.
func testChannelSeenConcurrent(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	const n = 16
	for round := range 3 {
		key := "ev:concurrent" + strings.Repeat("!", round)
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex // guards fresh and errs
			fresh int
			errs  []error
		)
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				ok, err := st.MarkSeen(ctx, key, day(round))
				mu.Lock()
				defer mu.Unlock()
				if ok {
					fresh++
				}
				if err != nil {
					errs = append(errs, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if len(errs) > 0 || fresh != 1 {
			t.Fatalf("round %d: %d of %d concurrent MarkSeen calls got fresh, want exactly 1 (errors: %v)", round, fresh, n, errs)
		}
	}
}

// testChannelLinks checks PutLink and Link: round trip, replace, delete.
func testChannelLinks(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	get := func(key, want string) {
		t.Helper()
		if got := must[string](t)(st.Link(ctx, key)); got != want {
			t.Fatalf("Link(%q) = %q, want %q", key, got, want)
		}
	}
	put := func(key, value string) {
		t.Helper()
		if err := st.PutLink(ctx, key, value); err != nil {
			t.Fatalf("PutLink(%q, %q): %v", key, value, err)
		}
	}
	_, err := st.Link(ctx, "slack:c:dest:slack_0123")
	wantErr(t, "link of an empty store", err, crm.ErrNotFound)

	put("slack:c:dest:slack_0123", "D0123 1712345678.000100")
	put("slack:a:card:conv_1", "1712345678.000200")
	put("slack:a:thread:1712345678.000200", "conv_1")
	put("ünïcode ✓", "välue ✓")
	long := strings.Repeat("v", crm.MaxStateValue)
	put(strings.Repeat("k", crm.MaxStateKey), long)
	get("slack:c:dest:slack_0123", "D0123 1712345678.000100")
	get("slack:a:card:conv_1", "1712345678.000200")
	get("slack:a:thread:1712345678.000200", "conv_1")
	get("ünïcode ✓", "välue ✓")
	get(strings.Repeat("k", crm.MaxStateKey), long)
	_, err = st.Link(ctx, "slack:a:card:conv_")
	wantErr(t, "link of a prefix of a key", err, crm.ErrNotFound)

	put("slack:a:card:conv_1", "1712345999.000900")
	get("slack:a:card:conv_1", "1712345999.000900")
	get("slack:a:thread:1712345678.000200", "conv_1") // the others are untouched

	put("slack:a:card:conv_1", "")
	_, err = st.Link(ctx, "slack:a:card:conv_1")
	wantErr(t, "link after a delete", err, crm.ErrNotFound)
	put("slack:a:card:conv_1", "") // deleting what is not there is no error
	put("slack:a:card:conv_never", "")
	_, err = st.Link(ctx, "slack:a:card:conv_never")
	wantErr(t, "link after deleting an absent key", err, crm.ErrNotFound)
	put("slack:a:card:conv_1", "1712346000.000100")
	get("slack:a:card:conv_1", "1712346000.000100")

	// A link is no mark.
	if !must[bool](t)(st.MarkSeen(ctx, "slack:a:thread:1712345678.000200", day(0))) {
		t.Error("MarkSeen of a key only linked: not fresh")
	}
}

// testChannelStateRefused checks that bad keys and values fail with
// ErrInvalid and change nothing.
func testChannelStateRefused(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	if err := st.PutLink(ctx, "slack:c:sent:conv_1", "7"); err != nil {
		t.Fatal(err)
	}
	if !must[bool](t)(st.MarkSeen(ctx, "ev:kept", day(0))) {
		t.Fatal("first MarkSeen not fresh")
	}
	badKeys := []struct{ name, key string }{
		{"empty key", ""},
		{"key over the limit", strings.Repeat("k", crm.MaxStateKey+1)},
		{"key not UTF-8", "ev:caf\xe9"},
		{"key with NUL", "ev:a\x00b"},
	}
	for _, tt := range badKeys {
		t.Run(tt.name, func(t *testing.T) {
			_, err := st.MarkSeen(ctx, tt.key, day(0))
			wantErr(t, "MarkSeen", err, crm.ErrInvalid)
			wantErr(t, "PutLink", st.PutLink(ctx, tt.key, "x"), crm.ErrInvalid)
			wantErr(t, "PutLink of an empty value", st.PutLink(ctx, tt.key, ""), crm.ErrInvalid)
		})
	}
	badValues := []struct{ name, value string }{
		{"value over the limit", strings.Repeat("v", crm.MaxStateValue+1)},
		{"value not UTF-8", "caf\xe9"},
		{"value with NUL", "7\x00"},
	}
	for _, tt := range badValues {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, "PutLink", st.PutLink(ctx, "slack:c:sent:conv_1", tt.value), crm.ErrInvalid)
			wantErr(t, "PutLink of a new key", st.PutLink(ctx, "slack:c:sent:conv_2", tt.value), crm.ErrInvalid)
		})
	}
	if got := must[string](t)(st.Link(ctx, "slack:c:sent:conv_1")); got != "7" {
		t.Errorf("link after refused puts: %q, want 7", got)
	}
	_, err := st.Link(ctx, "slack:c:sent:conv_2")
	wantErr(t, "link of a key whose puts were refused", err, crm.ErrNotFound)
	if st.PutLink(ctx, strings.Repeat("k", crm.MaxStateKey+1), "x") == nil {
		t.Fatal("a long key was taken")
	}
	// Only the one good mark is there to prune.
	if n := must[int](t)(st.PruneSeen(ctx, day(100))); n != 1 {
		t.Errorf("PruneSeen after refused marks forgot %d keys, want 1", n)
	}
}

// testChannelStateClosed checks that a closed store refuses channel state
// with ErrClosed.
func testChannelStateClosed(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	c, ok := st.(io.Closer)
	if !ok {
		t.Skip("the store has no Close method")
	}
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	_, err := st.MarkSeen(ctx, "ev:1", day(0))
	wantErr(t, "MarkSeen after close", err, crm.ErrClosed)
	_, err = st.PruneSeen(ctx, day(0))
	wantErr(t, "PruneSeen after close", err, crm.ErrClosed)
	wantErr(t, "PutLink after close", st.PutLink(ctx, "k", "v"), crm.ErrClosed)
	_, err = st.Link(ctx, "k")
	wantErr(t, "Link after close", err, crm.ErrClosed)
}
