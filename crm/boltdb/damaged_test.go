package boltdb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/internal/shop"
)

// demoStore writes a store with the demo shop's customers and history to
// path and closes it; it returns the bytes in use (the high-water mark).
func demoStore(t testing.TB, path string) int64 {
	t.Helper()
	db, err := Open(path, &Options{BcryptCost: minBcryptCost})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if seeded, err := shop.EnsureSeeded(context.Background(), db, time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)); err != nil || !seeded {
		t.Fatalf("seed: %v, %v", seeded, err)
	}
	var size int64
	if err := db.bolt.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil }); err != nil {
		t.Fatal(err)
	}
	return size
}

func fileHash(t testing.TB, path string) [32]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

// middleTreePage returns the page of a bucket's B+tree nearest the middle of
// the pages in use: a page every read of its records goes through.
func middleTreePage(t testing.TB, path string) (id, pageSize int) {
	t.Helper()
	raw, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	err = raw.View(func(tx *bolt.Tx) error {
		hwm := int(tx.Size()) / raw.Info().PageSize
		for d := 0; d < hwm/2; d++ {
			for _, p := range []int{hwm/2 + d, hwm/2 - d} {
				info, err := tx.Page(p)
				if err != nil {
					return err
				}
				if info != nil && (info.Type == "leaf" || info.Type == "branch") {
					id = p
					return nil
				}
			}
		}
		return errors.New("no tree page")
	})
	if err != nil {
		t.Fatal(err)
	}
	return id, raw.Info().PageSize
}

func writeAt(t testing.TB, path string, off int64, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(data, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func garbage(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestOpenRefusesDamagedStore damages a store in the ways the issue
// reproduced (an empty file was seeded again; a truncated one opened and
// died with SIGBUS on the first lookup; a page of garbage panicked in the
// web chat's hello) and expects Open to refuse each with a message that says
// what to do, and to leave the file exactly as it was.
func TestOpenRefusesDamagedStore(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string, data int64)
		want   string
	}{
		{"empty file", func(t *testing.T, path string, _ int64) {
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
		}, "the file is empty (0 bytes)"},
		{"truncated to half its data", func(t *testing.T, path string, data int64) {
			if err := os.Truncate(path, data/2); err != nil {
				t.Fatal(err)
			}
		}, "it was truncated"},
		{"backup copy truncated to half", func(t *testing.T, path string, _ int64) {
			db, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			_, err = db.Backup(context.Background(), &buf)
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, buf.Bytes()[:buf.Len()/2], 0o600); err != nil {
				t.Fatal(err)
			}
		}, "it was truncated"},
		{"a page of garbage in the middle", func(t *testing.T, path string, _ int64) {
			id, ps := middleTreePage(t, path)
			writeAt(t, path, int64(id*ps), garbage(ps))
		}, "holds something else"},
		{"zeroed page in the middle", func(t *testing.T, path string, _ int64) {
			id, ps := middleTreePage(t, path)
			writeAt(t, path, int64(id*ps), make([]byte, ps))
		}, "holds something else"},
		{"both meta pages garbage", func(t *testing.T, path string, _ int64) {
			writeAt(t, path, 0, garbage(2*4096))
		}, "neither meta page is valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "parley.db")
			data := demoStore(t, path)
			tt.damage(t, path, data)
			before := fileHash(t, path)
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}

			db, err := Open(path, nil)
			if err == nil {
				db.Close()
				t.Fatal("Open accepted the damaged store")
			}
			if !errors.Is(err, ErrDamaged) {
				t.Errorf("Open: %v, want ErrDamaged", err)
			}
			for _, s := range []string{path, tt.want, "restore it from a backup", "move it away"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Open: %q does not say %q", err, s)
				}
			}
			after, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fileHash(t, path) != before || after.Size() != info.Size() || !after.ModTime().Equal(info.ModTime()) {
				t.Errorf("Open changed the damaged file")
			}

			rep, err := CheckFile(context.Background(), path, nil)
			if !errors.Is(err, ErrDamaged) || len(rep.Faults) == 0 || !strings.Contains(rep.Faults[0].Error(), tt.want) {
				t.Errorf("CheckFile: %v, faults %v; want ErrDamaged, first fault saying %q", err, rep.Faults, tt.want)
			}
			if fileHash(t, path) != before {
				t.Errorf("CheckFile changed the damaged file")
			}
		})
	}
}

// TestOpenAcceptsRecoverableStore: what bbolt is built to survive is not
// damage. The room to grow past the high-water mark may go, and one meta
// page may be invalid (a commit cut short by a power cut): bbolt falls
// back on the other, from the last complete commit.
func TestOpenAcceptsRecoverableStore(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		change func(t *testing.T, path string, data int64)
	}{
		{"room to grow cut off", func(t *testing.T, path string, data int64) {
			if err := os.Truncate(path, data); err != nil {
				t.Fatal(err)
			}
		}},
		{"newer meta page torn", func(t *testing.T, path string, _ int64) {
			// One more commit that changes nothing (Open writes the schema
			// version), so that the one before it holds the same data.
			db, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			raw, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			var txid int
			err = raw.View(func(tx *bolt.Tx) error { txid = tx.ID(); return nil })
			ps := raw.Info().PageSize
			raw.Close()
			if err != nil {
				t.Fatal(err)
			}
			// Page txid%2 holds the last commit; break its checksum.
			writeAt(t, path, int64((txid%2)*ps+pageHeaderSize+40), []byte{0xff, 0xff})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "parley.db")
			data := demoStore(t, path)
			tt.change(t, path, data)
			db, err := Open(path, nil)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer db.Close()
			if db.Created() {
				t.Error("Created() = true for an existing store")
			}
			if _, err := db.CustomerByEmail(ctx, "ana@example.com"); err != nil {
				t.Fatal(err)
			}
			if err := db.Check(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCreated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "parley.db")
	for i, want := range []bool{true, false} {
		db, err := Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if db.Created() != want {
			t.Errorf("open %d: Created() = %v, want %v", i, db.Created(), want)
		}
		db.Close()
	}
	// bbolt made the file, and the Open that did stopped before its first
	// commit: nothing is in it, so the store is still new.
	path = filepath.Join(dir, "interrupted.db")
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if !db.Created() {
		t.Error("Created() = false for a file that holds nothing")
	}
}

// TestOpenRefusesForeignFile: a bbolt file of another program is not
// written to.
func TestOpenRefusesForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("widgets"))
		return err
	})
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	before := fileHash(t, path)
	db, err := Open(path, nil)
	if err == nil {
		db.Close()
		t.Fatal("Open accepted another program's file")
	}
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "not a Parley store") {
		t.Errorf("Open: %v", err)
	}
	if fileHash(t, path) != before {
		t.Error("Open changed the file")
	}
}

// TestCheckFileReport: on a good store CheckFile reports what it read and
// no fault; while another process holds the file it says so.
func TestCheckFileReport(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	data := demoStore(t, path)
	rep, err := CheckFile(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.DataSize != data || rep.PageSize == 0 || rep.Pages == 0 || rep.SchemaVersion != latestVersion() ||
		rep.Stats == nil || rep.Stats.Customers != 32 || len(rep.Buckets) != len(allBuckets) || rep.MetaPages != [2]error{} {
		t.Errorf("report %+v", rep)
	}
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := CheckFile(ctx, path, &Options{Timeout: 10 * time.Millisecond}); !errors.Is(err, crm.ErrInUse) {
		t.Errorf("CheckFile of a store in use: %v, want ErrInUse", err)
	}
}

// TestCheckFindsDamageOfOpenStore: Check reads every page of the tree, past
// what Open's bounded check reads.
func TestCheckFindsDamageOfOpenStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	demoStore(t, path)
	id, ps := middleTreePage(t, path)
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The garbage goes in under the open store, as a failing disk would.
	writeAt(t, path, int64(id*ps), garbage(ps))
	err = db.Check(context.Background())
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "holds something else") {
		t.Fatalf("Check: %v", err)
	}
}

// syncBuffer is a bytes.Buffer for a logger written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFileShrunkWhileOpen: a file truncated under a running store made the
// first read past its end a SIGBUS that ended the process. Now that read,
// and a write, fail with ErrDamaged, the panic is logged once with its
// stack, and the store still answers what the file holds.
func TestFileShrunkWhileOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	demoStore(t, path)
	var logs syncBuffer
	db, err := Open(path, &Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids, err := db.CustomerIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 3*int64(db.bolt.Info().PageSize)); err != nil {
		t.Fatal(err)
	}
	_, err = db.Customer(ctx, ids[len(ids)/2])
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("read past the end of the file: %v, want ErrDamaged", err)
	}
	_, err = db.CreateCustomer(ctx, crm.Customer{Email: "new@example.com"})
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("write past the end of the file: %v, want ErrDamaged", err)
	}
	if n := strings.Count(logs.String(), `"msg":"store panic"`); n != 2 {
		t.Errorf("%d panic log lines, want 2:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `"stack":"goroutine`) {
		t.Errorf("the panic's stack is not logged:\n%s", logs.String())
	}
	if err := db.Check(ctx); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("Check: %v", err)
	}
}

// TestPanicInCommitFailsOneCall: a panic inside the committer's shared
// transaction fails the call that caused it; the appends committed with it
// are retried alone and stored.
func TestPanicInCommitFailsOneCall(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	conv := must[crm.Conversation](t)(db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb}))
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			if i == 3 {
				errs[i] = db.write(ctx, func(tx *bolt.Tx) error { panic("boom") })
				return
			}
			_, _, errs[i] = db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "hi"})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i == 3 {
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "boom") {
				t.Errorf("panicking write: %v", err)
			}
		} else if err != nil {
			t.Errorf("append %d: %v", i, err)
		}
	}
	got := must[crm.Conversation](t)(db.Conversation(ctx, conv.ID))
	if got.LastSeq != 7 {
		t.Errorf("last seq %d, want 7", got.LastSeq)
	}
}

// TestOpenTime measures Open of a store with the demo history, which now
// includes the structural check.
func TestOpenTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	demoStore(t, path)
	start := time.Now()
	const n = 5
	for range n {
		db, err := Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	open := time.Since(start) / n
	start = time.Now()
	l, faults := verifyPath(path, openCheckPages)
	if len(faults) > 0 || !l.complete {
		t.Fatalf("demo store: faults %v, complete %v", faults, l.complete)
	}
	t.Logf("Open of the demo store: %v, of which the structural check of all its %d pages %v", open, l.pages, time.Since(start))
}
