package jetstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/parleyhq/parley/dialog"
)

// Defaults of Options.
const (
	DefaultStream        = "PARLEY_EVENTS"
	DefaultSubjectPrefix = "parley.events"
	DefaultMaxAge        = 24 * time.Hour
	DefaultMaxPending    = 4096
	DefaultCloseTimeout  = 5 * time.Second
	// Duplicates is the stream's de-duplication window: a second publish
	// with the same Nats-Msg-Id within it is acknowledged but not stored.
	Duplicates = 2 * time.Minute
)

// logEvery is the least time between two log lines about dropped or
// undecodable events, so that an outage does not flood the log.
const logEvery = time.Minute

// Options configure a Bus; zero fields mean the defaults.
type Options struct {
	// Stream is the JetStream stream's name ("" means DefaultStream). New
	// creates it, or updates its configuration, at start.
	Stream string
	// SubjectPrefix is the subjects' prefix ("" means
	// DefaultSubjectPrefix): events of a conversation go to
	// SubjectPrefix.<token>, and the stream holds SubjectPrefix.>.
	SubjectPrefix string
	// MaxAge is how long the stream keeps an event (0 or less means
	// DefaultMaxAge).
	MaxAge time.Duration
	// Replicas is the stream's replica count on a NATS cluster (0 means 1).
	Replicas int
	// Memory keeps the stream in memory instead of files (tests).
	Memory bool
	// MaxPending bounds the events queued for publishing, and separately
	// those awaiting the server's acknowledgement (0 or less means
	// DefaultMaxPending); past it, events are dropped, not waited for.
	MaxPending int
	// CloseTimeout bounds how long Close waits for pending publishes and
	// the consumer to finish (0 or less means DefaultCloseTimeout).
	CloseTimeout time.Duration
	// Name is the client name the NATS server shows ("" means "parley").
	Name string
	// Logger gets connection changes and (at most once a minute) drops;
	// nil discards them.
	Logger *slog.Logger
}

// Stats counts what a Bus did since New. Published and Dropped count this
// node's Publish calls; Delivered, Invalid and Redelivered count what its
// consumer received.
type Stats struct {
	Published   uint64 // events the stream acknowledged, Duplicates included
	Duplicates  uint64 // events the stream acknowledged as duplicates and did not store
	Dropped     uint64 // events never stored: queue full, stalled server, failed publish, closed bus
	Delivered   uint64 // events handed to this node's subscribers
	Invalid     uint64 // received messages that did not decode (see Decode)
	Redelivered uint64 // received messages the server said it had delivered before
}

// Bus is a dialog.Events over NATS JetStream. It is safe for concurrent
// use; call New to make one and Close to end it.
type Bus struct {
	opts   Options
	log    *slog.Logger
	nc     *nats.Conn
	js     jetstream.JetStream
	cc     jetstream.ConsumeContext
	local  *dialog.Bus    // the fan-out to this node's subscribers
	queue  chan *nats.Msg // encoded events for the publishing goroutine
	quit   chan struct{}  // closed by Close: the publishing goroutine finishes the queue and returns
	wg     sync.WaitGroup // the publishing goroutine
	closer sync.Once

	mu     sync.RWMutex
	closed bool // guarded by mu: Publish drops events once it is set

	published, duplicates, dropped  atomic.Uint64
	delivered, invalid, redelivered atomic.Uint64
	lastDropLog, lastInvalidLog     atomic.Int64 // unix nanoseconds of the last such log line

	peers peers // what Heartbeat heard (peers.go)
}

var _ dialog.Events = (*Bus)(nil)

// New connects to the NATS server at url (a nats:// URL, or several
// separated by commas), creates or updates the stream, and starts this
// node's consumer of new events. Errors come back for a bad option, a
// server that cannot be reached or has no JetStream, or a stream whose
// subjects overlap another's; nothing is left running then. ctx bounds the
// stream and consumer set-up, not the Bus's life.
func New(ctx context.Context, url string, opts Options) (*Bus, error) {
	b := &Bus{opts: opts, quit: make(chan struct{}), local: dialog.NewBus()}
	if err := b.defaults(); err != nil {
		return nil, err
	}
	b.queue = make(chan *nats.Msg, b.opts.MaxPending)
	var err error
	b.nc, err = nats.Connect(url,
		nats.Name(b.opts.Name),
		nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				b.log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { b.log.Info("nats reconnected", "server", c.ConnectedUrlRedacted()) }),
	)
	if err != nil {
		return nil, fmt.Errorf("connect nats: %w", err)
	}
	if err := b.start(ctx); err != nil {
		b.nc.Close()
		b.local.Close()
		return nil, err
	}
	b.wg.Add(1)
	go b.publisher()
	return b, nil
}

// defaults fills b.opts and b.log, and checks the names.
func (b *Bus) defaults() error {
	o := &b.opts
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	if strings.ContainsAny(o.Stream, ".*> \t\r\n/\\") {
		return fmt.Errorf("stream name %q: may not contain '.', '*', '>', '/', '\\' or white space", o.Stream)
	}
	if o.SubjectPrefix == "" {
		o.SubjectPrefix = DefaultSubjectPrefix
	}
	for _, t := range strings.Split(o.SubjectPrefix, ".") {
		if t == "" || t == "*" || t == ">" || strings.ContainsAny(t, " \t\r\n") {
			return fmt.Errorf("subject prefix %q: want dot-separated tokens without wildcards or white space", o.SubjectPrefix)
		}
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = DefaultCloseTimeout
	}
	if o.Name == "" {
		o.Name = "parley"
	}
	b.log = o.Logger
	if b.log == nil {
		b.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return nil
}

// start creates the stream and this node's consumer.
func (b *Bus) start(ctx context.Context) error {
	var err error
	b.js, err = jetstream.New(b.nc,
		jetstream.WithPublishAsyncMaxPending(b.opts.MaxPending),
		jetstream.WithPublishAsyncAckHandler(func(_ jetstream.JetStream, _ *nats.Msg, ack *jetstream.PubAck) {
			b.published.Add(1)
			if ack.Duplicate {
				b.duplicates.Add(1)
			}
		}),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, _ *nats.Msg, err error) {
			b.drop("publish failed", err)
		}),
	)
	if err != nil {
		return fmt.Errorf("open jetstream: %w", err)
	}
	storage := jetstream.FileStorage
	if b.opts.Memory {
		storage = jetstream.MemoryStorage
	}
	cfg := jetstream.StreamConfig{
		Name:        b.opts.Stream,
		Description: "Parley conversation events",
		Subjects:    []string{b.opts.SubjectPrefix + ".>"},
		Storage:     storage,
		Replicas:    b.opts.Replicas,
		MaxAge:      b.opts.MaxAge,
		Duplicates:  Duplicates,
		Discard:     jetstream.DiscardOld,
	}
	if err := b.ensureStream(ctx, cfg); err != nil {
		return fmt.Errorf("create stream %s: %w", b.opts.Stream, err)
	}
	// No subject filter: the stream holds nothing but events, and
	// FilterSubjects needs nats-server 2.10 where 2.9 is still common.
	cons, err := b.js.OrderedConsumer(ctx, b.opts.Stream, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return fmt.Errorf("create consumer on %s: %w", b.opts.Stream, err)
	}
	b.cc, err = cons.Consume(b.receive, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		b.log.Debug("event consumer", "err", err)
	}))
	if err != nil {
		return fmt.Errorf("consume %s: %w", b.opts.Stream, err)
	}
	return nil
}

// ensureStream creates the stream, or leaves it alone when it exists as
// cfg asks. Nodes of a cluster start together, so it must not update a
// stream that does not need it: nats-server 2.9 crashes (nil pointer in
// stream.updateWithAdvisory) when one node updates a stream that another is
// still creating, which is what CreateOrUpdateStream does on every start.
func (b *Bus) ensureStream(ctx context.Context, cfg jetstream.StreamConfig) error {
	for lost := false; ; lost = true {
		s, err := b.js.Stream(ctx, cfg.Name)
		if err == nil {
			if sameStream(s.CachedInfo().Config, cfg) {
				return nil
			}
			_, err = b.js.UpdateStream(ctx, cfg)
			return err
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			return err
		}
		_, err = b.js.CreateStream(ctx, cfg)
		if err == nil || lost || !lostCreateRace(err) {
			return err
		}
		// Another node created it after our look: look again.
	}
}

// sameStream reports whether the server's stream config has the settings
// a Bus asks for (the server fills in the others).
func sameStream(have, want jetstream.StreamConfig) bool {
	return slices.Equal(have.Subjects, want.Subjects) && have.Storage == want.Storage &&
		have.Replicas == want.Replicas && have.MaxAge == want.MaxAge &&
		have.Duplicates == want.Duplicates && have.Discard == want.Discard &&
		have.Description == want.Description
}

// errSubjectsOverlap is the server's answer to creating a stream whose
// subjects another stream already holds; nats.go names no constant for it.
const errSubjectsOverlap jetstream.ErrorCode = 10065

// lostCreateRace reports whether err is what a node gets when another node
// created the same stream at the same moment: "name in use", or, from
// nats-server 2.9, "subjects overlap" with the stream just created.
func lostCreateRace(err error) bool {
	var api *jetstream.APIError
	if !errors.As(err, &api) {
		return false
	}
	return api.ErrorCode == jetstream.JSErrCodeStreamNameInUse || api.ErrorCode == errSubjectsOverlap
}

// receive hands one message of the stream to this node's subscribers. The
// ordered consumer needs no acknowledgements.
func (b *Bus) receive(m jetstream.Msg) {
	if md, err := m.Metadata(); err == nil && md.NumDelivered > 1 {
		b.redelivered.Add(1)
	}
	ev, err := Decode(m.Data())
	if err == nil && m.Subject() != b.subject(ev.ConversationID) {
		err = fmt.Errorf("event of conversation %q on subject %q: %w", ev.ConversationID, m.Subject(), ErrWire)
	}
	if err != nil {
		b.invalid.Add(1)
		if b.due(&b.lastInvalidLog) {
			b.log.Warn("undecodable event on the stream", "subject", m.Subject(), "err", err, "invalid_total", b.invalid.Load())
		}
		return
	}
	b.delivered.Add(1)
	b.local.Publish(ev)
}

// subject is where the events of a conversation go.
func (b *Bus) subject(conversationID string) string {
	return b.opts.SubjectPrefix + "." + token(conversationID)
}

// Publish implements dialog.Events. It encodes ev and queues it for the
// publishing goroutine, and never blocks: an event that finds the queue
// full or the Bus closed is dropped and counted, as is one that does not
// encode (a type dialog does not define). The event reaches this node's
// own subscribers when it comes back from the stream, not here.
func (b *Bus) Publish(ev dialog.Event) {
	data, err := Encode(ev)
	if err != nil {
		b.drop("event does not encode", err)
		return
	}
	m := nats.NewMsg(b.subject(ev.ConversationID))
	m.Data = data
	if id := msgID(ev, data); id != "" {
		m.Header.Set(jetstream.MsgIDHeader, id)
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		b.drop("bus closed", nil)
		return
	}
	select {
	case b.queue <- m:
	default:
		b.drop("publish queue full", nil)
	}
}

// publisher publishes the queued events in order until Close, then the
// ones still queued. A publish that stalls (MaxPending events await the
// server's acknowledgement for StallWait) or fails is dropped.
func (b *Bus) publisher() {
	defer b.wg.Done()
	publish := func(m *nats.Msg) {
		if _, err := b.js.PublishMsgAsync(m, jetstream.WithStallWait(stallWait)); err != nil {
			b.drop("publish", err)
		}
	}
	for {
		select {
		case m := <-b.queue:
			publish(m)
		case <-b.quit:
			for {
				select {
				case m := <-b.queue:
					publish(m)
				default:
					return
				}
			}
		}
	}
}

// stallWait is how long the publishing goroutine waits for room among the
// pending acknowledgements before it drops an event; meanwhile Publish
// keeps queueing (and, once the queue is full, dropping).
const stallWait = 200 * time.Millisecond

// drop counts an event that was not published and logs it, at most once a
// minute.
func (b *Bus) drop(why string, err error) {
	n := b.dropped.Add(1)
	if b.due(&b.lastDropLog) {
		b.log.Warn("event dropped; subscribers catch up from the store", "why", why, "err", err, "dropped_total", n)
	}
}

// due reports whether a log line rate-limited by last may be written now,
// and if so records it.
func (b *Bus) due(last *atomic.Int64) bool {
	now := time.Now().UnixNano()
	prev := last.Load()
	return (prev == 0 || now-prev >= int64(logEvery)) && last.CompareAndSwap(prev, now)
}

// Subscribe implements dialog.Events with dialog.Bus's rules: the channel
// gets the events of conversationID ("" for all) that reach this node
// after the call, and is closed when stop is called, when the Bus closes,
// or when the subscriber falls more than buffer events behind (0 or less
// means dialog.DefaultBuffer).
func (b *Bus) Subscribe(conversationID string, buffer int) (<-chan dialog.Event, func()) {
	return b.local.Subscribe(conversationID, buffer)
}

// Subscribers counts this node's live subscriptions.
func (b *Bus) Subscribers() int { return b.local.Subscribers() }

// Stats returns the counts so far.
func (b *Bus) Stats() Stats {
	return Stats{
		Published: b.published.Load(), Duplicates: b.duplicates.Load(), Dropped: b.dropped.Load(),
		Delivered: b.delivered.Load(), Invalid: b.invalid.Load(), Redelivered: b.redelivered.Load(),
	}
}

// Ping checks that the server answers and the stream exists, for a
// readiness probe. It returns the connection's or the stream's error, or
// ctx's.
func (b *Bus) Ping(ctx context.Context) error {
	if err := b.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("ping nats: %w", err)
	}
	if _, err := b.js.Stream(ctx, b.opts.Stream); err != nil {
		return fmt.Errorf("ping stream %s: %w", b.opts.Stream, err)
	}
	return nil
}

// Close stops publishing (later events are dropped), publishes what is
// queued and waits up to CloseTimeout for the server's acknowledgements,
// drains the consumer, closes the connection and ends every subscription.
// It returns an error when the wait timed out; the Bus is closed anyway.
// Calling it again does nothing and returns nil.
func (b *Bus) Close() error {
	var err error
	b.closer.Do(func() { err = b.close() })
	return err
}

func (b *Bus) close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	close(b.quit)
	b.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.CloseTimeout)
	defer cancel()
	var errs []error
	select {
	case <-b.js.PublishAsyncComplete():
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("close: %d events still unacknowledged after %v", b.js.PublishAsyncPending(), b.opts.CloseTimeout))
	}
	b.cc.Drain()
	select {
	case <-b.cc.Closed():
	case <-ctx.Done():
		errs = append(errs, errors.New("close: consumer did not drain in time"))
	}
	b.nc.Close()
	b.local.Close()
	return errors.Join(errs...)
}
