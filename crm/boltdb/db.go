package boltdb

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/parleyhq/parley/crm"
)

var _ crm.Store = (*DB)(nil)
var _ crm.Backuper = (*DB)(nil)

// Options configures Open. A nil *Options, and zero fields, mean the defaults.
type Options struct {
	// Timeout is how long Open waits for another process to release the file
	// before failing with ErrInUse. Default 1s.
	Timeout time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives the store's few log lines. Default: discard.
	Logger *slog.Logger
	// MaxMessageBytes is the longest message text AppendMessage accepts, in
	// bytes. Default crm.DefaultMaxMessageBytes.
	MaxMessageBytes int
	// BcryptCost is the cost of agent password hashes, 4 to 31. Default
	// crm.DefaultBcryptCost; tests use 4, the cheapest.
	BcryptCost int
}

// The costs bcrypt accepts (golang.org/x/crypto/bcrypt MinCost and MaxCost),
// checked by Open so that a wrong setting fails at start, not at the first
// PutAgent.
const (
	minBcryptCost = 4
	maxBcryptCost = 31
)

// initialMmapSize is the size bbolt maps the file with from the start.
const initialMmapSize = 1 << 30

// DB is the bbolt implementation of Store: one file, one process. It is safe
// for concurrent use. Open it with Open and Close it when done.
type DB struct {
	bolt   *bolt.DB
	path   string
	now    func() time.Time
	log    *slog.Logger
	maxMsg int
	cost   int
	// dummyHash is compared against for an unknown login, so that it takes
	// as long as a wrong password.
	dummyHash func() string

	created bool // this Open made the store (Created)

	calls     chan *commitCall // to the committer; unbuffered
	commits   atomic.Int64     // group commits that succeeded, for tests and benchmarks
	health    commitHealth     // the last commit's failure, for Writable
	closing   chan struct{}    // closed by Close
	wedged    atomic.Bool      // a write could not be rolled back: bbolt holds its write lock for good
	closeOnce sync.Once
	wg        sync.WaitGroup // the committer goroutine
}

// Open opens (creating if needed) the store file at path and brings its schema
// up to date. It fails with ErrInUse when another process holds the file (after
// waiting Options.Timeout), and with ErrSchemaNewer when the file was written by
// a newer version of Parley. An existing file is checked first (its meta
// pages, that it holds every page they name, the top of every bucket's tree
// and as many pages as openCheckPages allows, the buckets of the schema):
// an empty, truncated or damaged file fails with an error wrapping
// ErrDamaged that says what to do, and is left exactly as it was.
func Open(path string, opts *Options) (*DB, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = crm.DefaultMaxMessageBytes
	}
	if o.BcryptCost == 0 {
		o.BcryptCost = crm.DefaultBcryptCost
	}
	if o.BcryptCost < minBcryptCost || o.BcryptCost > maxBcryptCost {
		return nil, fmt.Errorf("open store: bcrypt cost %d: %w", o.BcryptCost, crm.ErrInvalid)
	}
	// Before bbolt maps the file or writes to it.
	if err := precheck(path, o.Timeout, o.Logger); err != nil {
		if errors.Is(err, ErrDamaged) || errors.Is(err, crm.ErrInUse) {
			return nil, err
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// A large initial mapping (address space, not memory) spares a growing
	// store most remaps, each of which waits for every reader and stalls
	// every request meanwhile.
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.Timeout, InitialMmapSize: initialMmapSize})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, inUseError{path}
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db := &DB{
		bolt:    bdb,
		path:    path,
		now:     func() time.Time { return o.Now().UTC().Round(0) },
		log:     o.Logger,
		maxMsg:  o.MaxMessageBytes,
		cost:    o.BcryptCost,
		calls:   make(chan *commitCall),
		closing: make(chan struct{}),
	}
	db.dummyHash = sync.OnceValue(func() string {
		h, _ := crm.HashPassword("parley-dummy-password", o.BcryptCost)
		return h
	})
	var from, to int
	err = openTx(bdb, path, false, func(tx *bolt.Tx) error {
		var err error
		db.created, err = checkSchema(tx, path, migrations[len(migrations)-1].version)
		return err
	})
	if err == nil {
		err = openTx(bdb, path, true, func(tx *bolt.Tx) error {
			var err error
			if from, to, err = migrate(tx, migrations); err != nil {
				return err
			}
			return checkBuckets(tx, path)
		})
	}
	if errors.Is(err, ErrDamaged) {
		_ = bdb.Close()
		return nil, err
	}
	if err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if from != to {
		db.log.Info("store schema migrated", "path", path, "from", from, "to", to)
	}
	db.wg.Add(1)
	go db.commitLoop()
	return db, nil
}

// inUseError is ErrInUse for one file, with a message that names it.
type inUseError struct{ path string }

func (e inUseError) Error() string        { return "store " + e.path + " is in use by another process" }
func (e inUseError) Is(target error) bool { return target == crm.ErrInUse }

// Path returns the file the store lives in.
func (db *DB) Path() string { return db.path }

// Created reports whether this Open made the store: the file did not exist
// (or held nothing at all: bbolt had created it, and the Open that did so
// stopped before its first commit). A program loads its initial data only
// then, so that a store whose records were all deleted stays empty.
func (db *DB) Created() bool { return db.created }

// Close waits for commits under way, then closes the file. Appends still
// waiting get ErrClosed. Close may be called more than once.
func (db *DB) Close() error {
	var err error
	db.closeOnce.Do(func() {
		close(db.closing)
		db.wg.Wait()
		if db.wedged.Load() {
			// bbolt's Close would wait for the write lock forever.
			err = fmt.Errorf("close store: left open: %w", errWedged)
			return
		}
		if cerr := db.bolt.Close(); cerr != nil {
			err = fmt.Errorf("close store: %w", cerr)
		}
	})
	return err
}

// view runs fn in a read transaction. Keep fn short: a read transaction that
// stays open keeps old pages from being reused and holds up remapping.
func (db *DB) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return closedErr(db.boltView(fn))
}

// update runs fn in a write transaction and commits it (with fsync).
func (db *DB) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-db.closing:
		return crm.ErrClosed
	default:
	}
	return closedErr(db.boltUpdate(fn))
}

func closedErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return crm.ErrClosed
	}
	return err
}

// Bucket names. The layout is described in doc.go.
var (
	bucketMeta          = []byte("meta")
	bucketCustomers     = []byte("customers")
	bucketOrders        = []byte("orders")
	bucketConversations = []byte("conversations")
	bucketMessages      = []byte("messages")
	bucketTickets       = []byte("tickets")
	bucketFeedback      = []byte("feedback")
	bucketAgents        = []byte("agents")

	idxCustomerEmail    = []byte("idx_customer_email")
	idxCustomerPhone    = []byte("idx_customer_phone")
	idxCustomerIdentity = []byte("idx_customer_identity")
	idxOrderCustomer    = []byte("idx_order_customer")
	idxConvCustomer     = []byte("idx_conversation_customer")
	idxConvOpen         = []byte("idx_conversation_open")
	idxMessageClient    = []byte("idx_message_client")
	idxTicketCustomer   = []byte("idx_ticket_customer")
	idxTicketOpen       = []byte("idx_ticket_open")
	idxFeedbackCustomer = []byte("idx_feedback_customer")
	idxFeedbackConv     = []byte("idx_feedback_conversation") // schema version 2

	// Schema version 5: the agent console.
	bucketEvents   = []byte("events")
	bucketCanned   = []byte("canned")
	idxConvCreated = []byte("idx_conversation_created")
	idxConvClosed  = []byte("idx_conversation_closed")

	// Schema version 6: channel adapters' state (crm.ChannelStateStore).
	bucketSeen  = []byte("channel_seen")  // key -> time seen (8 bytes, timeKey)
	bucketLinks = []byte("channel_links") // key -> value

	keySchemaVersion = []byte("schema_version")
)

// The buckets of the current schema; v1Buckets are those version 1 created,
// v5Buckets those version 5 added. recordBuckets are in every version (Open
// checks for them before it migrates).
var (
	recordBuckets = [][]byte{
		bucketMeta, bucketCustomers, bucketOrders, bucketConversations, bucketMessages,
		bucketTickets, bucketFeedback, bucketAgents,
	}
	v1Indexes = [][]byte{
		idxCustomerEmail, idxCustomerPhone, idxCustomerIdentity, idxOrderCustomer,
		idxConvCustomer, idxConvOpen, idxMessageClient, idxTicketCustomer, idxTicketOpen,
		idxFeedbackCustomer,
	}
	v1Buckets    = append(append([][]byte(nil), recordBuckets...), v1Indexes...)
	v5Records    = [][]byte{bucketEvents, bucketCanned}
	v5Indexes    = [][]byte{idxConvCreated, idxConvClosed}
	indexBuckets = append(append(append([][]byte(nil), v1Indexes...), idxFeedbackConv), v5Indexes...)
	v6Records    = [][]byte{bucketSeen, bucketLinks}
	allBuckets   = slices.Concat(recordBuckets, v5Records, v6Records, indexBuckets)
)

// migration is one step of the schema: it takes a store at version-1 to version.
type migration struct {
	version int
	name    string
	apply   func(tx *bolt.Tx) error
}

// migrations are applied in order; append a step to change the schema, never
// edit one that has shipped.
var migrations = []migration{
	{version: 1, name: "create buckets", apply: func(tx *bolt.Tx) error {
		for _, name := range v1Buckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	}},
	{version: 2, name: "index feedback by conversation", apply: func(tx *bolt.Tx) error {
		idx, err := tx.CreateBucketIfNotExists(idxFeedbackConv)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketFeedback).ForEach(func(k, v []byte) error {
			var f crm.Feedback
			if err := json.Unmarshal(v, &f); err != nil {
				return fmt.Errorf("decode feedback %q: %w", k, err)
			}
			if f.ConversationID == "" {
				return nil
			}
			return idx.Put(feedbackConvKey(&f), nil)
		})
	}},
	// The open index in the order OpenConversations lists, with state,
	// queue and the unanswered mark in its values (see convOpenKey).
	{version: 3, name: "order the open conversation index by urgency and age", apply: rebuildOpenIndex},
	// Parley before verified disclosure linked a conversation to whoever a
	// visitor claimed to be (an e-mail or an order number they typed),
	// marking it with the slot "_claimed": such links put strangers'
	// conversations into a customer's export and erasure. Undo them.
	{version: 4, name: "unlink conversations linked on an unverified claim", apply: unlinkClaims},
	// The agent console: events and canned responses, and the indexes of
	// conversations by created and closed time, built from the
	// conversations there are (see lifecycle.go).
	{version: lifecycleVersion, name: "add events, canned responses and the time indexes", apply: migrateLifecycle},
	// Slack: the events taken and the links between Slack's ids and
	// conversations (channelstate.go).
	{version: channelStateVersion, name: "add channel state", apply: func(tx *bolt.Tx) error {
		for _, name := range v6Records {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	}},
}

// lifecycleVersion is the schema version that added events, canned
// responses and the time indexes.
const lifecycleVersion = 5

// channelStateVersion is the schema version that added channel state.
const channelStateVersion = 6

// migrate brings the schema in tx up to the last step and returns the version
// found and the version left. A file without a version is at version 0.
func migrate(tx *bolt.Tx, steps []migration) (from, to int, err error) {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	if v := meta.Get(keySchemaVersion); v != nil {
		if len(v) != 8 {
			return 0, 0, fmt.Errorf("migrate: schema version of %d bytes: %w", len(v), crm.ErrInvalid)
		}
		from = int(binary.BigEndian.Uint64(v))
	}
	latest := 0
	if len(steps) > 0 {
		latest = steps[len(steps)-1].version
	}
	if from > latest {
		return from, from, fmt.Errorf("store schema version %d, this program knows up to %d: %w", from, latest, crm.ErrSchemaNewer)
	}
	to = from
	for _, s := range steps {
		if s.version <= from {
			continue
		}
		if s.version != to+1 {
			return from, to, fmt.Errorf("migrate: step %q to version %d follows version %d", s.name, s.version, to)
		}
		if err := s.apply(tx); err != nil {
			return from, to, fmt.Errorf("migrate to version %d (%s): %w", s.version, s.name, err)
		}
		to = s.version
	}
	if err := meta.Put(keySchemaVersion, u64(uint64(to))); err != nil {
		return from, to, fmt.Errorf("migrate: %w", err)
	}
	return from, to, nil
}

// SchemaVersion returns the schema version recorded in the file.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta).Get(keySchemaVersion)
		if len(b) != 8 {
			return fmt.Errorf("schema version missing: %w", crm.ErrInvalid)
		}
		v = int(binary.BigEndian.Uint64(b))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// ---- encoding helpers ----

func u64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

// key joins parts with a 0 byte: parts never contain one (checkPart), so keys
// of one prefix sort together and in the order of their parts.
func key(parts ...string) []byte {
	n := len(parts) - 1
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return b
}

// prefix is key(parts...) followed by the separator, for a prefix scan.
func prefix(parts ...string) []byte { return append(key(parts...), 0) }

// timeKey encodes t so that keys sort by time (times before 1970 sort first).
func timeKey(t time.Time) string {
	return string(u64(uint64(t.UnixNano()) ^ (1 << 63)))
}

// messageKey is conversation id, 0, big-endian seq.
func messageKey(conversationID string, seq uint64) []byte {
	return append(prefix(conversationID), u64(seq)...)
}

// getJSON decodes the value at k in b into v; it reports whether k was there.
// Decoding copies, so v stays valid after the transaction.
func getJSON(b *bolt.Bucket, k []byte, v any) (bool, error) {
	data := b.Get(k)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("decode %q: %w", k, err)
	}
	return true, nil
}

// getRecord reads the record with the id from bucket; ErrNotFound when absent.
func getRecord[T any](tx *bolt.Tx, bucket []byte, what, id string) (T, error) {
	var v T
	ok, err := getJSON(tx.Bucket(bucket), []byte(id), &v)
	if err != nil {
		return v, fmt.Errorf("%s %q: %w", what, id, err)
	}
	if !ok {
		return v, fmt.Errorf("%s %q: %w", what, id, crm.ErrNotFound)
	}
	return v, nil
}

// indexKey is a key of an index bucket that maps to nothing, and whether the
// record should have it.
type indexKey struct {
	bucket []byte
	key    []byte
	want   bool
}

// setIndexKeys adds (or removes) the wanted keys.
func setIndexKeys(tx *bolt.Tx, add bool, keys []indexKey) error {
	for _, k := range keys {
		if !k.want {
			continue
		}
		var err error
		if add {
			err = tx.Bucket(k.bucket).Put(k.key, nil)
		} else {
			err = tx.Bucket(k.bucket).Delete(k.key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// changeIndexKeys replaces the entries old names by those cur names, pair
// by pair (old[i] becomes cur[i]), leaving alone a pair that is the same on
// both sides.
func changeIndexKeys(tx *bolt.Tx, old, cur []indexKey) error {
	for i := range old {
		o, c := old[i], cur[i]
		if o.want == c.want && (!o.want || string(o.key) == string(c.key)) {
			continue
		}
		if err := setIndexKeys(tx, false, []indexKey{o}); err != nil {
			return err
		}
		if err := setIndexKeys(tx, true, []indexKey{c}); err != nil {
			return err
		}
	}
	return nil
}

// editRecord decodes record id of bucket twice and applies fn to the second
// copy: fn may change maps and slices of cur in place, and old must still
// name the index entries to remove.
func editRecord[T any](tx *bolt.Tx, bucket []byte, what, id string, fn func(*T) error) (old, cur T, err error) {
	if old, err = getRecord[T](tx, bucket, what, id); err != nil {
		return old, cur, err
	}
	if cur, err = getRecord[T](tx, bucket, what, id); err != nil {
		return old, cur, err
	}
	return old, cur, fn(&cur)
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	return b.Put(k, data)
}

// scanPrefix calls fn for each key with the prefix, in order, until fn returns
// false. k and v are only valid during the call.
func scanPrefix(b *bolt.Bucket, p []byte, fn func(k, v []byte) bool) {
	c := b.Cursor()
	for k, v := c.Seek(p); k != nil && hasPrefix(k, p); k, v = c.Next() {
		if !fn(k, v) {
			return
		}
	}
}

// scanPrefixReverse is scanPrefix from the last key backwards.
func scanPrefixReverse(b *bolt.Bucket, p []byte, fn func(k, v []byte) bool) {
	scanPrefixBefore(b, p, prefixEnd(p), fn)
}

// scanPrefixBefore is scanPrefixReverse from the last key before end (nil:
// from the last key of the bucket).
func scanPrefixBefore(b *bolt.Bucket, p, end []byte, fn func(k, v []byte) bool) {
	c := b.Cursor()
	var k, v []byte
	if end == nil {
		k, v = c.Last()
	} else if k, v = c.Seek(end); k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	for ; k != nil && hasPrefix(k, p); k, v = c.Prev() {
		if !fn(k, v) {
			return
		}
	}
}

// prefixEnd returns the smallest key greater than every key with prefix p, or
// nil when there is none.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

func hasPrefix(k, p []byte) bool { return len(k) >= len(p) && string(k[:len(p)]) == string(p) }

// lastPart returns what follows the last 0 byte of k, copied.
func lastPart(k []byte) string {
	for i := len(k) - 1; i >= 0; i-- {
		if k[i] == 0 {
			return string(k[i+1:])
		}
	}
	return string(k)
}

// ctxWriter fails writes once ctx is done, so a long copy can be cancelled.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
