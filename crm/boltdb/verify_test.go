package boltdb

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// smallStore returns the bytes of a store with 1 KiB pages (so that a few
// records make every kind of page): the schema's buckets, one bucket with a
// B+tree of branch and leaf pages, inline buckets, a value on overflow
// pages and free pages.
func smallStore(t testing.TB) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "small.db")
	raw, err := bolt.Open(path, 0o600, &bolt.Options{PageSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		if _, _, err := migrate(tx, migrations); err != nil {
			return err
		}
		c := tx.Bucket(bucketCustomers)
		for i := range 80 {
			if err := c.Put(fmt.Appendf(nil, "cus_%03d", i), bytes.Repeat([]byte{'x'}, 60)); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketOrders).Put([]byte("1042"), []byte(`{"id":"1042"}`)); err != nil {
			return err
		}
		return tx.Bucket(bucketMessages).Put([]byte("long"), bytes.Repeat([]byte{'m'}, 3000))
	})
	if err == nil {
		err = raw.Update(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketCustomers)
			for i := 0; i < 80; i += 3 {
				if err := c.Delete(fmt.Appendf(nil, "cus_%03d", i)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	var size int64
	if err == nil {
		err = raw.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil })
	}
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data[:size]
}

func TestVerifySmallStore(t *testing.T) {
	data := smallStore(t)
	l, faults := verifyFile(bytes.NewReader(data), int64(len(data)), 0)
	if len(faults) > 0 || !l.complete {
		t.Fatalf("faults %v, complete %v", faults, l.complete)
	}
	if l.pageSize != 1024 || len(l.buckets) != len(allBuckets) || l.pages < 8 {
		t.Errorf("layout %+v", l)
	}
	// A budget stops the walk, and says it did.
	if l, faults := verifyFile(bytes.NewReader(data), int64(len(data)), 2); len(faults) > 0 || l.complete || l.pages > 3 {
		t.Errorf("walk of 2 pages: read %d, complete %v, faults %v", l.pages, l.complete, faults)
	}
}

// TestVerifyFindsEachFault breaks the small store one way at a time.
func TestVerifyFindsEachFault(t *testing.T) {
	good := smallStore(t)
	l, _ := verifyFile(bytes.NewReader(good), int64(len(good)), 0)
	ps := l.pageSize
	root := int(l.meta.root)
	branch := branchPage(t, good)
	tests := []struct {
		name   string
		damage func(b []byte) []byte
		want   string
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-ps] }, "it was truncated"},
		{"root page renumbered", func(b []byte) []byte { ne.PutUint64(b[root*ps:], 9999); return b }, "holds something else"},
		{"root page of another type", func(b []byte) []byte { ne.PutUint16(b[root*ps+8:], metaPageFlag); return b }, "neither a branch nor a leaf"},
		{"root page claims too many elements", func(b []byte) []byte { ne.PutUint16(b[root*ps+10:], 0xffff); return b }, "more than it can hold"},
		{"key outside the page", func(b []byte) []byte {
			ne.PutUint32(b[root*ps+pageHeaderSize+4:], 1<<20) // the first element's pos
			return b
		}, "outside the page"},
		{"keys out of order", func(b []byte) []byte {
			// The root bucket's first key is "agents"; make it sort last.
			i := bytes.Index(b[root*ps:(root+1)*ps], []byte("agents"))
			b[root*ps+i] = 'z'
			return b
		}, "keys out of order"},
		{"key below its parent's key", func(b []byte) []byte {
			// The customers bucket has branch pages: raise the key its
			// second child sits under, so that the child's first key is
			// below it (and a lookup of it would go to the first child).
			pg := b[branch*ps : (branch+1)*ps]
			at := pageHeaderSize + elementSize
			pos, ksize := int(ne.Uint32(pg[at:])), int(ne.Uint32(pg[at+4:]))
			pg[at+pos+ksize-1]++
			return b
		}, "outside the key range its parent gives"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.damage(slices.Clone(good))
			_, faults := verifyFile(bytes.NewReader(b), int64(len(b)), 0)
			if len(faults) == 0 || !strings.Contains(faults[0].Error(), tt.want) {
				t.Fatalf("faults %v, want one saying %q", faults, tt.want)
			}
		})
	}
}

// branchPage returns a branch page of the store in data with three
// elements or more, that bbolt reads (not a free one).
func branchPage(t *testing.T, data []byte) int {
	t.Helper()
	path := filepath.Join(t.TempDir(), "store.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	id := 0
	err = raw.View(func(tx *bolt.Tx) error {
		for p := 2; p < int(tx.Size())/raw.Info().PageSize; p++ {
			if info, err := tx.Page(p); err != nil || info != nil && info.Type == "branch" && info.Count >= 3 {
				id = p
				return err
			}
		}
		return nil
	})
	if err != nil || id == 0 {
		t.Fatalf("no branch page (%v)", err)
	}
	return id
}

// FuzzVerifyFile damages a store at random. The structural check must never
// panic, and when it passes a file, bbolt must be able to read every
// bucket of it without a panic or a fault: that is what Open relies on.
func FuzzVerifyFile(f *testing.F) {
	good := smallStore(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	zeroed := slices.Clone(good)
	clear(zeroed[3*1024 : 4*1024])
	f.Add(zeroed)
	// A new store with 4 KiB pages, as Open makes it, without its room
	// to grow.
	path := filepath.Join(f.TempDir(), "new.db")
	db, err := Open(path, nil)
	if err != nil {
		f.Fatal(err)
	}
	db.Close()
	l, _ := verifyPath(path, 0)
	fresh, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fresh[:l.dataSize()])

	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		l, faults := verifyFile(bytes.NewReader(data), int64(len(data)), 0)
		if len(faults) > 0 {
			return
		}
		path := filepath.Join(dir, "fuzz.db")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		raw, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("verified, but bbolt does not open it: %v", err)
		}
		defer raw.Close()
		var buckets []string
		err = func() (err error) {
			defer func() {
				if v := recover(); v != nil {
					err = fmt.Errorf("panic: %v", v)
				}
			}()
			defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			return raw.View(func(tx *bolt.Tx) error {
				return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
					buckets = append(buckets, string(name))
					return readBucket(b)
				})
			})
		}()
		if err != nil {
			t.Fatalf("verified (%d pages), but reading it through bbolt failed: %v", l.pages, err)
		}
		if !slices.Equal(buckets, l.buckets) {
			t.Fatalf("buckets %q, bbolt reads %q", l.buckets, buckets)
		}
	})
}

// readBucket reads every key and value of b and of the buckets in it.
func readBucket(b *bolt.Bucket) error {
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			if sub := b.Bucket(k); sub != nil {
				return readBucket(sub)
			}
		}
		return nil
	})
}
