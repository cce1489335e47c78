//go:build linux

package boltdb

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/parleyhq/parley/crm"
)

// breakWrites makes every write of db's file fail, as a full disk or a
// failing device would, without filling anything: it puts a read-only
// descriptor of the file in place of the store's own (reads go through the
// memory map and keep working). The returned func puts a writable one back.
func breakWrites(t *testing.T, db *DB) (restore func()) {
	t.Helper()
	fd := storeFD(t, db.path)
	swap := func(flag int) {
		f, err := os.OpenFile(db.path, flag, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := syscall.Dup3(int(f.Fd()), fd, 0); err != nil {
			t.Fatalf("dup3: %v", err)
		}
	}
	swap(os.O_RDONLY)
	return func() { swap(os.O_RDWR) }
}

// storeFD finds the process's one descriptor of path.
func storeFD(t *testing.T, path string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	found := -1
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil || target != path {
			continue
		}
		if found >= 0 {
			t.Fatalf("two descriptors of %s", path)
		}
		var fd int
		for _, r := range e.Name() {
			fd = fd*10 + int(r-'0')
		}
		found = fd
	}
	if found < 0 {
		t.Fatalf("no descriptor of %s", path)
	}
	return found
}

func TestWritableReportsFailedCommits(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	conv := newConversation(t, db)
	say := func(clientID string) error {
		_, _, err := db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "hello", ClientID: clientID})
		return err
	}

	if err := db.Writable(ctx); err != nil {
		t.Fatalf("a new store: Writable = %v", err)
	}
	// Writes the store refuses by its rules are not failures to write.
	if _, _, err := db.AppendMessage(ctx, crm.Message{ConversationID: "conv_nope", Sender: crm.SenderCustomer, Text: "hi"}); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("append to an unknown conversation: %v", err)
	}
	if _, err := db.UpdateConversation(ctx, "conv_nope", func(*crm.Conversation) error { return nil }); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("update of an unknown conversation: %v", err)
	}
	if err := db.Writable(ctx); err != nil {
		t.Fatalf("after refused writes: Writable = %v", err)
	}

	restore := breakWrites(t, db)
	if err := say("c-1"); err == nil {
		t.Fatal("an append was committed to a file that cannot be written")
	}
	err := db.Writable(ctx)
	if err == nil || !strings.Contains(err.Error(), "cannot write") || !errors.Is(err, syscall.EBADF) {
		t.Fatalf("after a failed commit: Writable = %v, want the commit's error", err)
	}
	// Its probe fails as well, and it keeps saying so.
	db.health.mu.Lock()
	db.health.eager = true
	db.health.mu.Unlock()
	if err := db.Writable(ctx); err == nil {
		t.Fatal("Writable = nil while commits still fail")
	}
	db.health.mu.Lock()
	db.health.eager = false
	db.health.mu.Unlock()

	restore()
	// Within the probe interval it reports the last failure until a
	// commit succeeds.
	if err := db.Writable(ctx); err == nil {
		t.Fatal("Writable = nil before any commit succeeded, within the probe interval")
	}
	if err := say("c-2"); err != nil {
		t.Fatalf("append after the file became writable: %v", err)
	}
	if err := db.Writable(ctx); err != nil {
		t.Fatalf("after a commit that succeeded: Writable = %v", err)
	}

	// A store nobody writes to recovers by Writable's own probe.
	restore = breakWrites(t, db)
	if err := say("c-3"); err == nil {
		t.Fatal("an append was committed to a file that cannot be written")
	}
	restore()
	db.health.mu.Lock()
	db.health.eager = true
	db.health.mu.Unlock()
	if err := db.Writable(ctx); err != nil {
		t.Fatalf("after the probe could commit: Writable = %v", err)
	}
	if ms := must[[]crm.Message](t)(db.MessagesAfter(ctx, conv.ID, 0, 0)); len(ms) != 1 || ms[0].ClientID != "c-2" {
		t.Errorf("stored %+v, want only c-2", ms)
	}
}
