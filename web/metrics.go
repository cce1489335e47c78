package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/nlp/nlu"
)

// Metrics owns Parley's Prometheus registry (not the global one) and the
// series in it:
//
//	parley_messages_total{direction="in|out",sender}  messages the engine published (resends not counted)
//	parley_parse_seconds                              NLU parse latency
//	parley_handoffs_total{queue}                      conversations the bot handed to a queue
//	parley_conversation_events_total{type}            lifecycle events: claims, releases, requeues, timeouts, notes...
//	parley_websocket_connections                      open web chat connections (see Connections)
//	parley_store_commit_seconds{op}                   latency of the engine's store writes
//
// plus the Go runtime and process collectors. The counters come from the
// engine's events (see Events), the latencies from wrappers of the parser
// and the store. A nil *Metrics measures nothing: its wrappers return what
// they are given. Safe for concurrent use.
type Metrics struct {
	reg      *prometheus.Registry
	messages *prometheus.CounterVec
	parse    prometheus.Histogram
	handoffs *prometheus.CounterVec
	events   *prometheus.CounterVec
	commit   *prometheus.HistogramVec
}

// Store operations timed by parley_store_commit_seconds.
const (
	opAppendMessage      = "append_message"
	opCommitTurn         = "commit_turn"
	opUpdateConversation = "update_conversation"
	opTransition         = "transition"
)

// NewMetrics returns a registry holding Parley's series, each labelled
// series that a dashboard expects present from the start at zero.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_messages_total",
			Help: "Messages stored and published by the engine, by direction (in: from customers, out: to them) and sender; resends are not counted.",
		}, []string{"direction", "sender"}),
		parse: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "parley_parse_seconds",
			Help:    "Time the NLU model took to parse one text.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		handoffs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_handoffs_total",
			Help: "Conversations the bot handed to a person, by queue (a release, requeue or transfer is not another handoff).",
		}, []string{"queue"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_conversation_events_total",
			Help: "Stored lifecycle events of conversations (claim, release, transfer, return, resolve, note, timeout, requeue...), by type.",
		}, []string{"type"}),
		commit: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "parley_store_commit_seconds",
			Help:    "Time a store write took until it was durable, by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"op"}),
	}
	m.reg.MustRegister(m.messages, m.parse, m.handoffs, m.events, m.commit,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, s := range senders {
		m.messages.WithLabelValues(direction(s), string(s))
	}
	for _, op := range []string{opAppendMessage, opCommitTurn, opUpdateConversation, opTransition} {
		m.commit.WithLabelValues(op)
	}
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Connections publishes f, the number of open web chat connections, as
// parley_websocket_connections; f is called at every scrape and must be
// quick and safe for concurrent use. It fails when called a second time.
func (m *Metrics) Connections(f func() float64) error {
	if m == nil {
		return nil
	}
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "parley_websocket_connections",
		Help: "Open web chat (WebSocket) connections.",
	}, f)
	if err := m.reg.Register(g); err != nil {
		return fmt.Errorf("register websocket gauge: %w", err)
	}
	return nil
}

// Parser returns p timed by parley_parse_seconds (failed parses included).
func (m *Metrics) Parser(p dialog.Parser) dialog.Parser {
	if m == nil || p == nil {
		return p
	}
	return &timedParser{p: p, h: m.parse}
}

type timedParser struct {
	p dialog.Parser
	h prometheus.Histogram
}

func (t *timedParser) Parse(ctx context.Context, text string) (*nlu.Result, error) {
	start := time.Now()
	res, err := t.p.Parse(ctx, text)
	t.h.Observe(time.Since(start).Seconds())
	return res, err
}

// Events returns ev with its published events counted, for the engine's
// Config.Events: each EventMessage counts in parley_messages_total (the
// engine publishes a message once, when it is stored, so resends are not
// counted), each EventLifecycle in parley_conversation_events_total by its
// type, and a handoff event also in parley_handoffs_total under its queue
// ("none" when it has none). Subscriptions pass through. Only this
// process's events are counted; a customer message whose answer ran only in
// Engine.AnswerPending (a crash between acknowledging and answering it) was
// never published, and is not counted.
func (m *Metrics) Events(ev dialog.Events) dialog.Events {
	if m == nil || ev == nil {
		return ev
	}
	return &countedEvents{Events: ev, m: m}
}

type countedEvents struct {
	dialog.Events
	m *Metrics
}

func (e *countedEvents) Publish(ev dialog.Event) {
	switch {
	case ev.Type == dialog.EventMessage && ev.Message != nil:
		e.m.messages.WithLabelValues(direction(ev.Message.Sender), senderLabel(ev.Message.Sender)).Inc()
	case ev.Type == dialog.EventLifecycle && ev.Lifecycle != nil:
		e.m.events.WithLabelValues(string(ev.Lifecycle.Type)).Inc()
		if ev.Lifecycle.Type == crm.EventHandoff {
			q := ev.Lifecycle.Queue
			if q == "" {
				q = "none"
			}
			e.m.handoffs.WithLabelValues(q).Inc()
		}
	}
	e.Events.Publish(ev)
}

// Store returns s with its writes timed: the latency of AppendMessage,
// CommitTurn, UpdateConversation and Transition (failures included) goes to
// parley_store_commit_seconds by operation. The wrapper makes no store call
// of its own.
func (m *Metrics) Store(s dialog.Store) dialog.Store {
	if m == nil || s == nil {
		return s
	}
	return &timedStore{Store: s, h: m.commit}
}

type timedStore struct {
	dialog.Store
	h *prometheus.HistogramVec
}

func (s *timedStore) observe(op string, start time.Time) {
	s.h.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

func (s *timedStore) AppendMessage(ctx context.Context, msg crm.Message) (crm.Message, bool, error) {
	defer s.observe(opAppendMessage, time.Now())
	return s.Store.AppendMessage(ctx, msg)
}

func (s *timedStore) CommitTurn(ctx context.Context, t crm.Turn) (crm.Conversation, []crm.Message, []crm.Event, error) {
	defer s.observe(opCommitTurn, time.Now())
	return s.Store.CommitTurn(ctx, t)
}

func (s *timedStore) Transition(ctx context.Context, id string, ev crm.Event, fn func(*crm.Conversation) error) (crm.Conversation, crm.Event, error) {
	defer s.observe(opTransition, time.Now())
	return s.Store.Transition(ctx, id, ev, fn)
}

func (s *timedStore) UpdateConversation(ctx context.Context, id string, fn func(*crm.Conversation) error) (crm.Conversation, error) {
	defer s.observe(opUpdateConversation, time.Now())
	return s.Store.UpdateConversation(ctx, id, fn)
}

func direction(s crm.Sender) string {
	if s == crm.SenderCustomer {
		return "in"
	}
	return "out"
}

// senders are the sender labels of parley_messages_total.
var senders = []crm.Sender{crm.SenderCustomer, crm.SenderBot, crm.SenderAgent, crm.SenderSystem}

// senderLabel keeps the sender label to the known senders.
func senderLabel(s crm.Sender) string {
	if slices.Contains(senders, s) {
		return string(s)
	}
	return "other"
}
