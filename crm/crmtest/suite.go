// Package crmtest is the conformance suite of the crm.Store contract: every
// store implementation runs it from a test of its own, so that the dialog
// engine, the web server and the tools get the same behaviour from each.
//
//	func TestConformance(t *testing.T) {
//		crmtest.Run(t, func(t *testing.T) crm.Store {
//			s := inmem.New(nil)
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite checks what the contract's doc comments promise, and where they
// leave a detail open (an order, a default, an error), what the bbolt
// store, the reference implementation, does.
//
// # What it cannot see
//
// The suite has only the Store interface, so it cannot set a store's clock,
// message size limit or bcrypt cost:
//
//   - Times the store sets are only checked to be set (and not to go back);
//     tests of orderings by time load records with explicit times through
//     Import, or pass them where the contract keeps them (Order.PlacedAt).
//     CreatedBetween and ResolvedBetween are checked on imported times, and
//     on a change made at the store's clock by asking for the one instant
//     the store returned (its CreatedAt or ClosedAt).
//   - ErrTooLarge is checked with a text of 1 MiB: a store's limit must be
//     below that.
//   - A few agent tests hash passwords at the store's cost; open stores with
//     a small bcrypt cost to keep the suite fast.
package crmtest

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
)

// Run runs the suite against the stores open makes. open must return a new,
// empty store each time, and close it when t ends (t.Cleanup). When the
// store is an io.Closer, one test also closes a store itself to check
// ErrClosed, so Close must tolerate being called a second time.
func Run(t *testing.T, open func(t *testing.T) crm.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, open func(t *testing.T) crm.Store)
	}{
		{"Customers", testCustomers},
		{"CustomerUpdates", testCustomerUpdates},
		{"CustomerIDs", testCustomerIDs},
		{"Orders", testOrders},
		{"Conversations", testConversations},
		{"AnsweredSeq", testAnsweredSeq},
		{"OpenConversations", testOpenConversations},
		{"ConversationPages", testConversationPages},
		{"Messages", testMessages},
		{"MessagesRefused", testMessagesRefused},
		{"MessageReopens", testMessageReopens},
		{"MessageParse", testMessageParse},
		{"ConcurrentAppends", testConcurrentAppends},
		{"CommitTurn", testCommitTurn},
		{"CommitTurnRefused", testCommitTurnRefused},
		{"CommitTurnConcurrent", testCommitTurnConcurrent},
		{"CommitTurnEvents", testCommitTurnEvents},
		{"Transitions", testTransitions},
		{"TransitionRefused", testTransitionRefused},
		{"ConcurrentClaims", testConcurrentClaims},
		{"StateSince", testStateSince},
		{"LastAgentAt", testLastAgentAt},
		{"ListingsByTime", testListingsByTime},
		{"Canned", testCanned},
		{"History", testHistory},
		{"HistoryWithoutCustomer", testHistoryWithoutCustomer},
		{"Tickets", testTickets},
		{"TicketOrder", testTicketOrder},
		{"Feedback", testFeedback},
		{"Agents", testAgents},
		{"EraseCustomer", testEraseCustomer},
		{"ExportCustomer", testExportCustomer},
		{"Import", testImport},
		{"ImportAllOrNothing", testImportAllOrNothing},
		{"Stats", testStats},
		{"Copies", testCopies},
		{"ChannelSeen", testChannelSeen},
		{"ChannelSeenConcurrent", testChannelSeenConcurrent},
		{"ChannelLinks", testChannelLinks},
		{"ChannelStateRefused", testChannelStateRefused},
		{"ChannelStateClosed", testChannelStateClosed},
		{"Closed", testClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open) })
	}
}

// base is the start of the past that imported records are placed in: long
// before any time a store sets from its clock.
var base = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// day returns base plus n days.
func day(n int) time.Time { return base.AddDate(0, 0, n) }

// must returns v, failing the test when err is not nil:
// must[crm.Customer](t)(s.Customer(ctx, id)).
func must[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// wantErr fails the test unless errors.Is(err, want); want nil means no
// error.
func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) || (want == nil) != (err == nil) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

// imp imports s into st, failing the test on an error.
func imp(t testing.TB, st crm.Store, s crm.Snapshot) {
	t.Helper()
	if err := st.Import(context.Background(), s); err != nil {
		t.Fatalf("import: %v", err)
	}
}

// pluck lists f of each element of xs (an empty list, not nil, for none).
func pluck[T, V any](xs []T, f func(T) V) []V {
	out := make([]V, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

func convIDs(cs []crm.Conversation) []string {
	return pluck(cs, func(c crm.Conversation) string { return c.ID })
}
func orderIDs(os []crm.Order) []string { return pluck(os, func(o crm.Order) string { return o.ID }) }
func ticketIDs(ts []crm.Ticket) []string {
	return pluck(ts, func(t crm.Ticket) string { return t.ID })
}
func seqs(ms []crm.Message) []uint64 { return pluck(ms, func(m crm.Message) uint64 { return m.Seq }) }

// seqRange returns from, from+1, ..., to.
func seqRange(from, to uint64) []uint64 {
	out := []uint64{}
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

// equal fails the test when got and want differ.
func equal[T comparable](t testing.TB, what string, got, want []T) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// conversation returns the stored conversation id.
func conversation(t testing.TB, st crm.Store, id string) crm.Conversation {
	t.Helper()
	return must[crm.Conversation](t)(st.Conversation(context.Background(), id))
}

// newConversation creates a conversation of an unknown web visitor.
func newConversation(t testing.TB, st crm.Store) crm.Conversation {
	t.Helper()
	return must[crm.Conversation](t)(st.CreateConversation(context.Background(), crm.Conversation{Channel: crm.ChannelWeb}))
}

// appendMsg appends a new message and fails the test unless it was stored.
func appendMsg(t testing.TB, st crm.Store, m crm.Message) crm.Message {
	t.Helper()
	got, created, err := st.AppendMessage(context.Background(), m)
	if err != nil {
		t.Fatalf("append %q: %v", m.Text, err)
	}
	if !created {
		t.Fatalf("append %q: created false for a new message", m.Text)
	}
	return got
}

// allMessages returns every message of the conversation.
func allMessages(t testing.TB, st crm.Store, convID string) []crm.Message {
	t.Helper()
	return must[[]crm.Message](t)(st.MessagesAfter(context.Background(), convID, 0, 0))
}

// testClosed closes a store and checks that reads and writes fail with
// ErrClosed.
func testClosed(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	conv := newConversation(t, st)
	c, ok := st.(io.Closer)
	if !ok {
		t.Skip("the store has no Close method")
	}
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	_, err := st.Conversation(ctx, conv.ID)
	wantErr(t, "read after close", err, crm.ErrClosed)
	_, _, err = st.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "hello?"})
	wantErr(t, "append after close", err, crm.ErrClosed)
	_, err = st.CreateCustomer(ctx, crm.Customer{Name: "Ada"})
	wantErr(t, "create after close", err, crm.ErrClosed)
	_, _, err = st.Transition(ctx, conv.ID, crm.Event{Type: crm.EventNote, Actor: "grace", Text: "hello?"}, nil)
	wantErr(t, "transition after close", err, crm.ErrClosed)
	_, err = st.CannedResponses(ctx)
	wantErr(t, "canned responses after close", err, crm.ErrClosed)
	if err := c.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}
