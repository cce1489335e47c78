package jetstream_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/dialog/jetstream"
	"github.com/parleyhq/parley/internal/servicetest"
)

// cluster is a stream of the test's own: its name and subject prefix are
// unique, and the stream is deleted when the test ends.
type cluster struct {
	url  string
	opts jetstream.Options
}

func newCluster(t testing.TB) *cluster {
	t.Helper()
	u := servicetest.NATS(t)
	stream, prefix := servicetest.Stream(t, u)
	return &cluster{url: u, opts: jetstream.Options{Stream: stream, SubjectPrefix: prefix, MaxAge: 10 * time.Minute}}
}

// node starts one Bus on the cluster's stream, closed when the test ends.
func (c *cluster) node(t testing.TB) *jetstream.Bus {
	t.Helper()
	return c.nodeWith(t, c.opts)
}

func (c *cluster) nodeWith(t testing.TB, opts jetstream.Options) *jetstream.Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := jetstream.New(ctx, c.url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return b
}

// at is a fixed instant: events carry UTC times without a monotonic
// reading, so decoded events compare equal to sent ones.
var at = time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)

// message is a message event of conversation conv with sequence seq.
func message(conv string, seq uint64) dialog.Event {
	return dialog.Event{Type: dialog.EventMessage, ConversationID: conv, Message: &crm.Message{
		ID: conv + "-m" + itoa(seq), ConversationID: conv, Seq: seq, Sender: crm.SenderBot,
		Text: "reply " + itoa(seq), CreatedAt: at,
	}}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// receive reads n events from ch, failing the test when ch closes or they
// do not come within the timeout.
func receive(t testing.TB, ch <-chan dialog.Event, n int) []dialog.Event {
	t.Helper()
	var got []dialog.Event
	timeout := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed after %d of %d events", len(got), n)
			}
			got = append(got, ev)
		case <-timeout:
			t.Fatalf("got %d of %d events in 10 s", len(got), n)
		}
	}
	return got
}

// quiet fails the test when ch yields anything within a short while.
func quiet(t testing.TB, ch <-chan dialog.Event) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if ok {
			t.Errorf("unexpected extra event %+v", ev)
		} else {
			t.Error("channel closed")
		}
	case <-time.After(300 * time.Millisecond):
	}
}

// describe is an event in a few words, for comparisons.
func describe(ev dialog.Event) string {
	s := string(ev.Type) + " " + ev.ConversationID
	switch ev.Type {
	case dialog.EventMessage:
		s += " " + string(ev.Message.Sender) + " " + itoa(ev.Message.Seq)
	case dialog.EventTyping:
		if ev.Typing {
			s += " on"
		} else {
			s += " off"
		}
	case dialog.EventLifecycle:
		s += " " + string(ev.Lifecycle.Type) + " " + itoa(ev.Lifecycle.Seq)
	case dialog.EventState:
		s += " " + string(ev.Conversation.State)
	}
	return s
}

// eventually waits up to 5 s for cond; the caller then checks what it
// needs, so a timeout shows as that check's failure.
func eventually(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}
