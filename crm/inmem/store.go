package inmem

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/parleyhq/parley/crm"
)

var _ crm.Store = (*Store)(nil)

// Options configures New. A nil *Options, and zero fields, mean the
// defaults.
type Options struct {
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// MaxMessageBytes is the longest message text AppendMessage accepts, in
	// bytes. Default crm.DefaultMaxMessageBytes.
	MaxMessageBytes int
	// BcryptCost is the cost of agent password hashes. Default
	// crm.DefaultBcryptCost; tests use bcrypt.MinCost. A cost bcrypt does
	// not accept makes PutAgent (and Import of a seed password) fail with
	// crm.ErrInvalid.
	BcryptCost int
}

// Store is the in-memory crm.Store. It is safe for concurrent use. Make one
// with New; Close it when done (after Close every method fails with
// crm.ErrClosed).
type Store struct {
	now    func() time.Time
	maxMsg int
	cost   int
	// dummyHash is compared against for an unknown login, so that it takes
	// as long as a wrong password.
	dummyHash func() string

	mu     sync.RWMutex // guards closed and d
	closed bool
	d      *data
}

// New returns an empty store.
func New(opts *Options) *Store {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = crm.DefaultMaxMessageBytes
	}
	if o.BcryptCost == 0 {
		o.BcryptCost = crm.DefaultBcryptCost
	}
	s := &Store{
		// Times are kept as the bbolt store keeps them: UTC, without a
		// monotonic reading.
		now:    func() time.Time { return o.Now().UTC().Round(0) },
		maxMsg: o.MaxMessageBytes,
		cost:   o.BcryptCost,
		d:      newData(),
	}
	s.dummyHash = sync.OnceValue(func() string {
		h, _ := crm.HashPassword("parley-dummy-password", o.BcryptCost)
		return h
	})
	return s
}

// Close drops what the store holds. Close may be called more than once.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed, s.d = true, nil
	return nil
}

// read runs fn under the read lock, unless ctx is done or the store closed.
func (s *Store) read(ctx context.Context, fn func(d *data) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return crm.ErrClosed
	}
	return fn(s.d)
}

// write runs fn under the write lock, unless ctx is done or the store
// closed. fn must check everything that can fail before it changes d:
// there is no rollback.
func (s *Store) write(ctx context.Context, fn func(d *data) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return crm.ErrClosed
	}
	return fn(s.d)
}

// data is everything the store holds. The slices and maps inside its
// records are never changed: a write stores a record with fresh ones, and
// a read copies them out, so callers share nothing with the store, and
// clone may share records between two datas.
type data struct {
	customers  map[string]crm.Customer
	emails     map[string]string // crm.NormalizeEmail form -> customer id
	phones     map[string]string // crm.NormalizePhone form -> customer id
	identities map[crm.Identity]string
	orders     map[string]crm.Order
	convs      map[string]*conversation
	tickets    map[string]crm.Ticket
	feedback   map[string]crm.Feedback
	agents     map[string]crm.Agent
	canned     map[string]crm.CannedResponse // by shortcut
	seen       map[string]time.Time          // ChannelStateStore marks
	links      map[string]string             // ChannelStateStore links
}

// conversation is a conversation with its messages and events: msgs[i]
// has Seq i+1, and len(msgs) == c.LastSeq; events[i] has Seq i+1.
type conversation struct {
	c       crm.Conversation
	msgs    []crm.Message
	events  []crm.Event
	clients map[string]uint64 // client id -> seq
}

func newData() *data {
	return &data{
		customers:  map[string]crm.Customer{},
		emails:     map[string]string{},
		phones:     map[string]string{},
		identities: map[crm.Identity]string{},
		orders:     map[string]crm.Order{},
		convs:      map[string]*conversation{},
		tickets:    map[string]crm.Ticket{},
		feedback:   map[string]crm.Feedback{},
		agents:     map[string]crm.Agent{},
		canned:     map[string]crm.CannedResponse{},
		seen:       map[string]time.Time{},
		links:      map[string]string{},
	}
}

// clone copies d, sharing its records (which are never changed in place)
// but not its maps or message and event lists.
func (d *data) clone() *data {
	n := &data{
		customers:  maps.Clone(d.customers),
		emails:     maps.Clone(d.emails),
		phones:     maps.Clone(d.phones),
		identities: maps.Clone(d.identities),
		orders:     maps.Clone(d.orders),
		convs:      make(map[string]*conversation, len(d.convs)),
		tickets:    maps.Clone(d.tickets),
		feedback:   maps.Clone(d.feedback),
		agents:     maps.Clone(d.agents),
		canned:     maps.Clone(d.canned),
		seen:       maps.Clone(d.seen),
		links:      maps.Clone(d.links),
	}
	for id, c := range d.convs {
		n.convs[id] = &conversation{c: c.c, msgs: slices.Clone(c.msgs), events: slices.Clone(c.events), clients: maps.Clone(c.clients)}
	}
	return n
}

// Stats implements crm.Store.
func (s *Store) Stats(ctx context.Context) (crm.Stats, error) {
	var st crm.Stats
	err := s.read(ctx, func(d *data) error {
		st = crm.Stats{
			Customers: len(d.customers), Orders: len(d.orders), Conversations: len(d.convs),
			Tickets: len(d.tickets), Feedback: len(d.feedback), Agents: len(d.agents), Canned: len(d.canned),
		}
		for _, c := range d.convs {
			st.Messages += len(c.msgs)
			st.Events += len(c.events)
		}
		return nil
	})
	if err != nil {
		return crm.Stats{}, fmt.Errorf("stats: %w", err)
	}
	return st, nil
}

// Import implements crm.Store. It loads s into a copy of the store and
// keeps the copy only when all of s went in. Passwords of seed agents are
// hashed, and messages checked and redacted, before the lock is taken.
func (s *Store) Import(ctx context.Context, snap crm.Snapshot) error {
	agents, msgs, err := crm.PrepareSnapshot(snap, s.cost, s.maxMsg)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	err = s.write(ctx, func(live *data) error {
		d := live.clone()
		if err := d.load(snap, msgs, agents, s.now()); err != nil {
			return err
		}
		s.d = d
		return nil
	})
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	return nil
}

// load adds the records of snap to d, with its messages and agents already
// prepared. It stops at the first error, leaving d half changed.
func (d *data) load(snap crm.Snapshot, msgs []crm.Message, agents []crm.Agent, now time.Time) error {
	for _, c := range snap.Customers {
		c = cloneCustomer(c)
		crm.CustomerDefaults(&c, now)
		if err := d.createCustomer(&c); err != nil {
			return fmt.Errorf("customer %q: %w", c.ID, err)
		}
	}
	for _, o := range snap.Orders {
		o = cloneOrder(o)
		if _, ok := d.orders[o.ID]; ok {
			return fmt.Errorf("order %q: %w", o.ID, crm.ErrConflict)
		}
		if o.UpdatedAt.IsZero() {
			o.UpdatedAt = now
		}
		if err := d.putOrder(&o); err != nil {
			return fmt.Errorf("order %q: %w", o.ID, err)
		}
	}
	for _, c := range snap.Conversations {
		c = cloneConversation(c)
		// The messages below set these again.
		c.LastSeq, c.LastCustomerSeq, c.AnsweredSeq = 0, 0, 0
		crm.ConversationDefaults(&c, now)
		if err := d.createConversation(&c); err != nil {
			return fmt.Errorf("conversation %q: %w", c.ID, err)
		}
	}
	for i, m := range msgs {
		if err := d.importMessage(m, now); err != nil {
			return fmt.Errorf("message %d of conversation %q: %w", i, m.ConversationID, err)
		}
	}
	for _, t := range snap.Tickets {
		t = cloneTicket(t)
		crm.TicketDefaults(&t, now)
		if err := d.createTicket(&t); err != nil {
			return fmt.Errorf("ticket %q: %w", t.ID, err)
		}
	}
	for _, f := range snap.Feedback {
		crm.FeedbackDefaults(&f, now)
		if err := d.addFeedback(&f); err != nil {
			return fmt.Errorf("feedback %q: %w", f.ID, err)
		}
	}
	for _, a := range agents {
		if _, ok := d.agents[a.Login]; ok {
			return fmt.Errorf("agent %q: %w", a.Login, crm.ErrConflict)
		}
		if err := d.putAgent(&a); err != nil {
			return fmt.Errorf("agent %q: %w", a.Login, err)
		}
	}
	for _, c := range snap.Canned {
		if err := d.importCanned(c, now); err != nil {
			return fmt.Errorf("canned response %q: %w", c.Shortcut, err)
		}
	}
	return nil
}

// firstN returns the first n of xs (all of them for n <= 0).
func firstN[T any](xs []T, n int) []T {
	if n > 0 && len(xs) > n {
		return xs[:n]
	}
	return xs
}

// newestFirst orders by time, newest first, then by id, greatest first (as
// the bbolt store's time-keyed indexes read backwards do).
func newestFirst(ti, tj time.Time, idi, idj string) int {
	if c := tj.Compare(ti); c != 0 {
		return c
	}
	return cmp.Compare(idj, idi)
}
