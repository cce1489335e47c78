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
	"github.com/parleyhq/parley/nlp"
)

// Metrics owns Parley's Prometheus registry (not the global one) and the
// series in it:
//
//	parley_messages_total{direction="in|out",sender}  messages stored (resends not counted)
//	parley_parse_seconds                              NLU parse latency
//	parley_handoffs_total{queue}                      conversations moved into the waiting state
//	parley_websocket_connections                      open web chat connections (see Connections)
//	parley_store_commit_seconds{op}                   latency of message appends and conversation updates
//
// plus the Go runtime and process collectors. A nil *Metrics measures
// nothing: its wrappers return what they are given. Safe for concurrent
// use.
type Metrics struct {
	reg      *prometheus.Registry
	messages *prometheus.CounterVec
	parse    prometheus.Histogram
	handoffs *prometheus.CounterVec
	commit   *prometheus.HistogramVec
}

// Store operations timed by parley_store_commit_seconds.
const (
	opAppendMessage      = "append_message"
	opUpdateConversation = "update_conversation"
)

// NewMetrics returns a registry holding Parley's series, each labelled
// series that a dashboard expects present from the start at zero.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_messages_total",
			Help: "Messages stored, by direction (in: from customers, out: to them) and sender; resends are not counted.",
		}, []string{"direction", "sender"}),
		parse: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "parley_parse_seconds",
			Help:    "Time the NLU model took to parse one text.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		handoffs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_handoffs_total",
			Help: "Conversations handed to a human: moves into the waiting state, by queue.",
		}, []string{"queue"}),
		commit: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "parley_store_commit_seconds",
			Help:    "Time a store write took until it was durable, by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"op"}),
	}
	m.reg.MustRegister(m.messages, m.parse, m.handoffs, m.commit,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, s := range senders {
		m.messages.WithLabelValues(direction(s), string(s))
	}
	m.commit.WithLabelValues(opAppendMessage)
	m.commit.WithLabelValues(opUpdateConversation)
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

func (t *timedParser) Parse(ctx context.Context, text string) (*nlp.Result, error) {
	start := time.Now()
	res, err := t.p.Parse(ctx, text)
	t.h.Observe(time.Since(start).Seconds())
	return res, err
}

// Store returns s with AppendMessage and UpdateConversation measured:
// their latency (failures included) goes to parley_store_commit_seconds,
// each newly stored message counts in parley_messages_total, and each
// update that moves a conversation into the waiting state counts in
// parley_handoffs_total under its queue ("none" when it has none).
//
// A resend (same ClientID) returns the message stored before and is not
// counted: for a message with a ClientID the wrapper reads the
// conversation's LastSeq first, and a returned Seq at or below it is a
// resend. Two resends racing with the first send of the same message can
// count it twice; nothing else is miscounted.
func (m *Metrics) Store(s dialog.Store) dialog.Store {
	if m == nil || s == nil {
		return s
	}
	return &measuredStore{Store: s, m: m}
}

type measuredStore struct {
	dialog.Store
	m *Metrics
}

func (s *measuredStore) AppendMessage(ctx context.Context, msg crm.Message) (crm.Message, error) {
	var last uint64
	if msg.ClientID != "" {
		c, err := s.Store.Conversation(ctx, msg.ConversationID)
		if err != nil {
			return crm.Message{}, err
		}
		last = c.LastSeq
	}
	start := time.Now()
	out, err := s.Store.AppendMessage(ctx, msg)
	s.m.commit.WithLabelValues(opAppendMessage).Observe(time.Since(start).Seconds())
	if err == nil && (msg.ClientID == "" || out.Seq > last) {
		s.m.messages.WithLabelValues(direction(out.Sender), senderLabel(out.Sender)).Inc()
	}
	return out, err
}

func (s *measuredStore) UpdateConversation(ctx context.Context, id string, fn func(*crm.Conversation) error) (crm.Conversation, error) {
	var before crm.ConversationState
	start := time.Now()
	c, err := s.Store.UpdateConversation(ctx, id, func(c *crm.Conversation) error {
		before = c.State
		return fn(c)
	})
	s.m.commit.WithLabelValues(opUpdateConversation).Observe(time.Since(start).Seconds())
	if err == nil && before != crm.StateWaiting && c.State == crm.StateWaiting {
		q := c.Queue
		if q == "" {
			q = "none"
		}
		s.m.handoffs.WithLabelValues(q).Inc()
	}
	return c, err
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
