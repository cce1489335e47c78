package boltdb

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/parleyhq/parley/crm"
)

// ErrDamaged means the store file is damaged: empty, truncated, or with
// pages that are not what the file's structure says they are, or records
// and indexes that disagree. Open refuses such a file and leaves it exactly
// as it was; what to do is to restore it from a backup, or to move it away
// and start with a new store.
var ErrDamaged = errors.New("store file damaged")

// maxCheckErrors stops Check from listing every fault of a badly broken file.
const maxCheckErrors = 100

// openCheckPages bounds the pages of the B+trees Open's structural check
// reads (64 MiB of 4 KiB pages): every page of a store of that size, and
// for a larger one the top levels of every bucket and as many leaves as
// fit. Check reads them all.
const openCheckPages = 1 << 14

// damagedError is ErrDamaged for one file, with its faults and what to do.
type damagedError struct {
	path   string
	faults []error
}

func (e *damagedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "store %s is damaged: ", e.path)
	const shown = 3
	for i, f := range e.faults[:min(len(e.faults), shown)] {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Error())
	}
	if n := len(e.faults) - shown; n > 0 {
		fmt.Fprintf(&b, " (and %d more)", n)
	}
	b.WriteString(". The file was left as it is: restore it from a backup, or move it away to start with a new store")
	return b.String()
}

func (e *damagedError) Is(target error) bool { return target == ErrDamaged }

func damaged(path string, faults ...error) error { return &damagedError{path: path, faults: faults} }

// precheck verifies an existing store file before bbolt opens it for
// writing, which would otherwise write meta pages into an empty file, and
// map (and fault on) pages past the end of a truncated one. It holds a
// shared lock while it reads, so that it never reads a file another process
// is writing (that is ErrInUse). A missing file passes: bbolt creates it.
func precheck(path string, timeout time.Duration, log *slog.Logger) error {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if info.Size() == 0 {
		return damaged(path, errors.New("the file is empty (0 bytes)"))
	}
	start := time.Now()
	ro, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return inUseError{path}
	}
	if err != nil {
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist) {
			return err
		}
		// bbolt refused the file itself (no valid meta page, too short):
		// find out why. It holds no lock, but no bbolt can use this file.
		if _, faults := verifyPath(path, openCheckPages); len(faults) > 0 {
			return damaged(path, faults...)
		}
		return err
	}
	defer ro.Close()
	l, faults := verifyPath(path, openCheckPages)
	if len(faults) > 0 {
		return damaged(path, faults...)
	}
	for i, m := range l.metas {
		if m.err != nil {
			// bbolt keeps two meta pages so that a commit cut short (by a
			// power cut, say) leaves the previous one to fall back on; the
			// next commit rewrites the bad one.
			log.Warn("store meta page invalid: using the other one, from the last complete commit",
				"path", path, "page", i, "err", m.err, "txid", l.meta.txid)
		}
	}
	log.Debug("store file checked", "path", path, "pages", l.pages, "complete", l.complete, "duration", time.Since(start))
	return nil
}

// verifyPath runs verifyFile on the file at path.
func verifyPath(path string, maxPages int) (*layout, []error) {
	f, err := os.Open(path)
	if err != nil {
		return &layout{}, []error{err}
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return &layout{}, []error{err}
	}
	return verifyFile(f, info.Size(), maxPages)
}

// checkSchema is Open's check of an existing store, in a read transaction
// before any migration writes: it reports whether the file holds nothing
// yet (bbolt created it and no commit of ours followed: the store is new),
// and fails when the file is shorter than its meta page says or lacks what
// the schema needs.
func checkSchema(tx *bolt.Tx, path string, latest int) (empty bool, err error) {
	info, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	if info.Size() < tx.Size() {
		return false, damaged(path, fmt.Errorf("the file is %d bytes, shorter than the %d bytes its meta page names: it was truncated", info.Size(), tx.Size()))
	}
	if k, _ := tx.Cursor().First(); k == nil {
		return true, nil
	}
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return false, damaged(path, errors.New("the file holds buckets but no meta bucket: it is not a Parley store"))
	}
	v := meta.Get(keySchemaVersion)
	if len(v) != 8 {
		// Version 0 (migrate creates everything), or a garbled version
		// that migrate refuses before it writes.
		return false, nil
	}
	version := int(binary.BigEndian.Uint64(v))
	if version > latest {
		return false, nil // migrate says ErrSchemaNewer
	}
	// Every version has the record buckets; the current one has them all.
	need := recordBuckets
	if version == latest {
		need = allBuckets
	}
	var missing []error
	for _, name := range need {
		if tx.Bucket(name) == nil {
			missing = append(missing, fmt.Errorf("bucket %s missing", name))
		}
	}
	if len(missing) > 0 {
		return false, damaged(path, missing...)
	}
	return false, nil
}

// checkBuckets fails when a bucket of the schema is missing after the
// migrations ran: a file they could not bring up to date.
func checkBuckets(tx *bolt.Tx, path string) error {
	var missing []error
	for _, name := range allBuckets {
		if tx.Bucket(name) == nil {
			missing = append(missing, fmt.Errorf("bucket %s missing", name))
		}
	}
	if len(missing) > 0 {
		return damaged(path, missing...)
	}
	return nil
}

// openTx runs one of Open's transactions. A panic in it (bbolt's, on a page
// that is not what the structural check could see) refuses the file.
func openTx(bdb *bolt.DB, path string, write bool, fn func(tx *bolt.Tx) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = damaged(path, fmt.Errorf("reading it panicked: %v", v))
		}
	}()
	defer faultsPanic()()
	if write {
		return bdb.Update(fn)
	}
	return bdb.View(fn)
}

// boltView is bbolt's View, and boltUpdate its Update, for every read and
// write of an open store: a panic, or a fault on a page the file no longer
// holds, fails this one call with an error wrapping ErrDamaged.
func (db *DB) boltView(fn func(tx *bolt.Tx) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = db.panicked("read store", v)
		}
	}()
	defer faultsPanic()()
	// A read transaction's rollback only lets go of it: it cannot fail.
	return db.bolt.View(fn)
}

func (db *DB) boltUpdate(fn func(tx *bolt.Tx) error) (err error) {
	if db.wedged.Load() {
		return fmt.Errorf("write store: %w", errWedged)
	}
	var tx *bolt.Tx
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		err = db.panicked("write store", v)
		// Rolling back rereads the freelist page. When that faults too
		// (the file was cut short), bbolt keeps its write lock for good.
		if tx != nil && tx.DB() != nil && !rollback(tx) {
			db.wedged.Store(true)
			db.log.Error("store write lock lost: no write can follow; restart", "path", db.path)
		}
	}()
	defer faultsPanic()()
	tx, err = db.bolt.Begin(true)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// errWedged is the error of every write after one whose rollback failed.
var errWedged = fmt.Errorf("an earlier write could not be rolled back (the file changed under the store): %w", ErrDamaged)

// rollback rolls tx back and reports whether it could.
func rollback(tx *bolt.Tx) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_ = tx.Rollback()
	return true
}

// panicked logs a recovered panic once, with its stack, and returns the
// error that replaces it. bbolt panics on some pages that are not what
// their parent says; with faultsPanic, a read of a page the file no longer
// holds panics too, where it would end the process with SIGBUS.
func (db *DB) panicked(op string, v any) error {
	db.log.Error("store panic", "op", op, "path", db.path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	return fmt.Errorf("%s: store panicked (%v): %w", op, v, ErrDamaged)
}

// faultsPanic makes a memory fault of this goroutine (a page of the map the
// file does not hold) a panic that guard recovers, until the returned
// function restores the setting.
func faultsPanic() func() {
	old := debug.SetPanicOnFault(true)
	return func() { debug.SetPanicOnFault(old) }
}

// Check verifies the file and the store's own rules, and returns every fault
// found (joined, wrapping ErrDamaged), or nil:
//   - the file's structure, as Open checks it but every page of every
//     bucket (see verifyFile); after a fault there the checks below are
//     skipped, since reading the tree through bbolt could crash on it;
//   - bbolt's page check (tx.Check);
//   - every record decodes and sits under its own id; references point at
//     records that exist;
//   - each conversation's messages are numbered 1..LastSeq with no gap, its
//     LastCustomerSeq is the Seq of its last customer message (or 0, in a
//     conversation last written to before the field existed), and its
//     AnsweredSeq is no more than LastSeq;
//   - no two messages of a conversation share a ClientID;
//   - each conversation's events are numbered 1, 2, 3, ... with no gap and
//     have a known type; canned responses validate (schema version 5 on:
//     CheckFile may read an older file, which lacks them);
//   - every index holds exactly the entries its records call for.
//
// It reads everything in one read transaction: run it when the store is
// quiet (at start, in tests, from a maintenance command), not on a busy server.
func (db *DB) Check(ctx context.Context) error {
	errs, err := db.check(ctx, true)
	if err != nil {
		return fmt.Errorf("check store: %w", err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("check store: %w: %w", ErrDamaged, errors.Join(errs...))
	}
	return nil
}

// check runs Check's checks, the structural one only with walk, and
// returns the faults (at most maxCheckErrors, then a count).
func (db *DB) check(ctx context.Context, walk bool) ([]error, error) {
	var errs []error
	err := db.view(ctx, func(tx *bolt.Tx) error {
		if walk {
			if _, faults := verifyTx(tx, db.path, db.bolt.Info().PageSize); len(faults) > 0 {
				errs = faults
				return nil
			}
		}
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		c := checker{tx: tx}
		c.run()
		errs = append(errs, c.errs...)
		return nil
	})
	if len(errs) > maxCheckErrors {
		errs = append(errs[:maxCheckErrors], fmt.Errorf("and %d more", len(errs)-maxCheckErrors))
	}
	return errs, err
}

// CheckReport is what CheckFile found.
type CheckReport struct {
	Path     string
	Size     int64 // bytes of the file
	DataSize int64 // bytes in use up to the high-water mark its meta page names; the rest is room to grow
	PageSize int
	TxID     uint64 // the last complete commit
	// MetaPages says, for each of the two meta pages, why bbolt cannot use
	// it (nil: valid). One invalid page is what a commit cut short leaves;
	// bbolt then uses the other, and its next commit rewrites this one.
	MetaPages     [2]error
	Pages         int      // pages of the freelist and the B+trees read
	Buckets       []string // the top-level buckets
	SchemaVersion int      // 0 when it could not be read
	Stats         *crm.Stats
	Faults        []error // the faults found, as Check lists them
}

// CheckFile runs Check on the store file at path without opening it for
// writing, so that it works on a file Open refuses, and never writes to it.
// The report holds what it could learn even when the file is damaged. It
// fails with crm.ErrInUse when another process holds the file (after
// waiting opts.Timeout), with fs.ErrNotExist when there is no file, and with
// an error wrapping ErrDamaged when it found a fault (listed in the
// report's Faults).
func CheckFile(ctx context.Context, path string, opts *Options) (*CheckReport, error) {
	timeout := time.Second
	if opts != nil && opts.Timeout > 0 {
		timeout = opts.Timeout
	}
	rep := &CheckReport{Path: path}
	info, err := os.Stat(path)
	if err != nil {
		return rep, fmt.Errorf("check store: %w", err)
	}
	rep.Size = info.Size()
	fail := func(faults []error) (*CheckReport, error) {
		rep.Faults = faults
		return rep, damaged(path, faults...)
	}
	if rep.Size == 0 {
		return fail([]error{errors.New("the file is empty (0 bytes)")})
	}
	ro, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return rep, inUseError{path}
	}
	if err != nil && (errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist)) {
		return rep, fmt.Errorf("check store: %w", err)
	}
	if err == nil {
		defer ro.Close()
	}
	l, faults := verifyPath(path, 0)
	rep.fill(l)
	if len(faults) > 0 {
		return fail(faults)
	}
	if err != nil {
		return rep, fmt.Errorf("check store: %w", err)
	}
	rdb := &DB{bolt: ro, path: path, log: slog.New(slog.DiscardHandler), now: time.Now}
	errs, err := rdb.check(ctx, false)
	if err != nil {
		return rep, fmt.Errorf("check store: %w", err)
	}
	if v, err := rdb.SchemaVersion(ctx); err == nil {
		rep.SchemaVersion = v
	}
	if st, err := rdb.Stats(ctx); err == nil {
		rep.Stats = &st
	}
	if len(errs) > 0 {
		return fail(errs)
	}
	return rep, nil
}

func (r *CheckReport) fill(l *layout) {
	r.PageSize, r.Pages, r.Buckets = l.pageSize, l.pages, l.buckets
	r.MetaPages = [2]error{l.metas[0].err, l.metas[1].err}
	if l.meta.hwm > 0 {
		r.DataSize, r.TxID = l.dataSize(), l.meta.txid
	}
}

type checker struct {
	tx   *bolt.Tx
	errs []error
}

func (c *checker) failf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf(format, args...))
}

// index is what an index bucket should hold: key -> value.
type index map[string]string

func (c *checker) run() {
	// A file of a schema before version 5 (CheckFile reads files Open has
	// not migrated yet) lacks the lifecycle buckets, and is checked for
	// the rest.
	var version uint64
	if m := c.tx.Bucket(bucketMeta); m != nil {
		if v := m.Get(keySchemaVersion); len(v) == 8 {
			version = binary.BigEndian.Uint64(v)
		}
	}
	need := func(name []byte) bool {
		switch {
		case lifecycleBucket(name):
			return version >= lifecycleVersion
		case channelStateBucket(name):
			return version >= channelStateVersion
		}
		return true
	}
	for _, name := range allBuckets {
		if need(name) && c.tx.Bucket(name) == nil {
			c.failf("bucket %s missing", name)
			return
		}
	}
	if version == 0 {
		c.failf("schema version missing")
	}
	want := map[string]index{}
	for _, name := range indexBuckets {
		if need(name) {
			want[string(name)] = index{}
		}
	}
	put := func(bucket, k []byte, v string) {
		idx := want[string(bucket)]
		if old, dup := idx[string(k)]; dup {
			c.failf("%s: entry %q wanted twice (%q and %q)", bucket, k, old, v)
		}
		idx[string(k)] = v
	}
	exists := func(bucket []byte, id string) bool { return c.tx.Bucket(bucket).Get([]byte(id)) != nil }

	forEach(c, bucketCustomers, func(k string, cu *crm.Customer) string {
		for _, e := range customerIndexKeys(cu) {
			put(e.bucket, e.key, cu.ID)
		}
		return cu.ID
	})
	forEach(c, bucketOrders, func(k string, o *crm.Order) string {
		if !exists(bucketCustomers, o.CustomerID) {
			c.failf("order %q: customer %q missing", k, o.CustomerID)
		}
		put(idxOrderCustomer, orderIndexKey(o), "")
		return o.ID
	})
	convs := map[string]*crm.Conversation{}
	forEach(c, bucketConversations, func(k string, cv *crm.Conversation) string {
		if cv.CustomerID != "" && !exists(bucketCustomers, cv.CustomerID) {
			c.failf("conversation %q: customer %q missing", k, cv.CustomerID)
		}
		if cv.Open() {
			put(idxConvOpen, convOpenKey(cv), string(convOpenValue(cv)))
		}
		if cv.CustomerID != "" {
			put(idxConvCustomer, convCustomerKey(cv), "")
		}
		convs[cv.ID] = cv
		return cv.ID
	})
	c.checkMessages(convs, put)
	if version >= lifecycleVersion {
		c.checkLifecycle(convs, put)
	}
	forEach(c, bucketTickets, func(k string, t *crm.Ticket) string {
		if !exists(bucketCustomers, t.CustomerID) {
			c.failf("ticket %q: customer %q missing", k, t.CustomerID)
		}
		put(idxTicketCustomer, key(t.CustomerID, t.ID), "")
		if t.Status.Open() {
			put(idxTicketOpen, key(t.CustomerID, t.Topic, t.ID), "")
		}
		return t.ID
	})
	forEach(c, bucketFeedback, func(k string, f *crm.Feedback) string {
		if (f.CustomerID != "" || f.ConversationID == "") && !exists(bucketCustomers, f.CustomerID) {
			c.failf("feedback %q: customer %q missing", k, f.CustomerID)
		}
		if f.ConversationID != "" && !exists(bucketConversations, f.ConversationID) {
			c.failf("feedback %q: conversation %q missing", k, f.ConversationID)
		}
		if f.CustomerID != "" {
			put(idxFeedbackCustomer, feedbackIndexKey(f), "")
		}
		if f.ConversationID != "" {
			put(idxFeedbackConv, feedbackConvKey(f), "")
		}
		return f.ID
	})
	forEach(c, bucketAgents, func(k string, a *crm.Agent) string {
		if err := crm.ValidateAgent(a); err != nil {
			c.failf("agent %q: %v", k, err)
		}
		return a.Login
	})
	for name, idx := range want {
		c.compareIndex([]byte(name), idx)
	}
}

// forEach decodes every record of bucket and checks that it sits under the id
// fn returns.
func forEach[T any](c *checker, bucket []byte, fn func(k string, v *T) string) {
	_ = c.tx.Bucket(bucket).ForEach(func(k, data []byte) error {
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			c.failf("%s %q: %v", bucket, k, err)
			return nil
		}
		if id := fn(string(k), &v); id != string(k) {
			c.failf("%s: record %q stored under %q", bucket, id, k)
		}
		return nil
	})
}

func (c *checker) checkMessages(convs map[string]*crm.Conversation, put func(bucket, k []byte, v string)) {
	seen := map[string]uint64{}     // conversation -> last seq seen
	customer := map[string]uint64{} // conversation -> last customer message seen
	_ = c.tx.Bucket(bucketMessages).ForEach(func(k, data []byte) error {
		if len(k) < 10 || k[len(k)-9] != 0 {
			c.failf("message key %q malformed", k)
			return nil
		}
		conv, seq := string(k[:len(k)-9]), binary.BigEndian.Uint64(k[len(k)-8:])
		var m crm.Message
		if err := json.Unmarshal(data, &m); err != nil {
			c.failf("message %q: %v", k, err)
			return nil
		}
		if m.ConversationID != conv || m.Seq != seq {
			c.failf("message %s/%d stored under %s/%d", m.ConversationID, m.Seq, conv, seq)
		}
		if _, ok := convs[conv]; !ok {
			c.failf("message %s/%d: conversation missing", conv, seq)
		}
		if seq != seen[conv]+1 {
			c.failf("conversation %s: message %d follows %d", conv, seq, seen[conv])
		}
		seen[conv] = seq
		if m.Sender == crm.SenderCustomer {
			customer[conv] = seq
		}
		if m.ClientID != "" {
			put(idxMessageClient, key(conv, m.ClientID), string(u64(seq)))
		}
		return nil
	})
	for id, cv := range convs {
		if seen[id] != cv.LastSeq {
			c.failf("conversation %s: last seq %d, last message %d", id, cv.LastSeq, seen[id])
		}
		if customer[id] != cv.LastCustomerSeq && cv.LastCustomerSeq != 0 {
			c.failf("conversation %s: last customer seq %d, last customer message %d", id, cv.LastCustomerSeq, customer[id])
		}
		if cv.AnsweredSeq > cv.LastSeq {
			c.failf("conversation %s: answered seq %d after last seq %d", id, cv.AnsweredSeq, cv.LastSeq)
		}
	}
}

func (c *checker) compareIndex(name []byte, want index) {
	b := c.tx.Bucket(name)
	got := 0
	_ = b.ForEach(func(k, v []byte) error {
		got++
		w, ok := want[string(k)]
		switch {
		case !ok:
			c.failf("%s: stray entry %q -> %q", name, k, v)
		case w != string(v):
			c.failf("%s: entry %q -> %q, want %q", name, k, v, w)
		}
		return nil
	})
	if got != len(want) {
		for k := range want {
			if gk, _ := b.Cursor().Seek([]byte(k)); string(gk) != k {
				c.failf("%s: entry %q missing", name, k)
			}
		}
	}
}
