package crmtest

import (
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
)

// Bounds that hold every time the suite uses and any time a store's clock
// gives, but stay within what a store can encode (UnixNano ends in 2262).
var (
	farPast   = base.AddDate(-20, 0, 0)
	farFuture = base.AddDate(100, 0, 0)
)

// testListingsByTime checks CreatedBetween and ResolvedBetween: their
// bounds, order and limit on imported times, and that changes made at the
// store's clock move conversations in and out of them.
func testListingsByTime(t *testing.T, open func(t *testing.T) crm.Store) {
	ctx := t.Context()
	st := open(t)
	resolved := func(id string, created, closed time.Time) crm.Conversation {
		return crm.Conversation{ID: id, Channel: crm.ChannelWeb, State: crm.StateResolved, CreatedAt: created, UpdatedAt: closed, ClosedAt: closed}
	}
	imp(t, st, crm.Snapshot{Conversations: []crm.Conversation{
		resolved("conv_1", day(1), day(6)),
		{ID: "conv_2", Channel: crm.ChannelWeb, CreatedAt: day(2)},
		resolved("conv_3", day(2), day(4)),
		resolved("conv_4", day(3), day(4)),
		{ID: "conv_5", Channel: crm.ChannelWeb, State: crm.StateWaiting, Queue: "billing", CreatedAt: day(5)},
		resolved("conv_6", day(5), day(7)),
		resolved("conv_r", day(0), day(4)),
	}})
	// A customer reopens conv_r: it keeps its ClosedAt until its next
	// update, but it is no longer resolved.
	appendMsg(t, st, crm.Message{ConversationID: "conv_r", Sender: crm.SenderCustomer, Text: "one more thing"})

	for _, tt := range []struct {
		name     string
		from, to time.Time
		limit    int
		want     []string
	}{
		{"all, ties by id", day(0), day(10), 0, []string{"conv_r", "conv_1", "conv_2", "conv_3", "conv_4", "conv_5", "conv_6"}},
		{"from included, to excluded", day(1), day(5), 0, []string{"conv_1", "conv_2", "conv_3", "conv_4"}},
		{"one day", day(2), day(3), 0, []string{"conv_2", "conv_3"}},
		{"limit", day(0), day(10), 3, []string{"conv_r", "conv_1", "conv_2"}},
		{"just after", day(5).Add(time.Nanosecond), day(10), 0, []string{}},
		{"empty range", day(2), day(2), 0, []string{}},
		{"reversed range", day(5), day(1), 0, []string{}},
	} {
		t.Run("created "+tt.name, func(t *testing.T) {
			equal(t, "ids", convIDs(must[[]crm.Conversation](t)(st.CreatedBetween(ctx, tt.from, tt.to, tt.limit))), tt.want)
		})
	}
	for _, tt := range []struct {
		name     string
		from, to time.Time
		limit    int
		want     []string
	}{
		{"all, newest first, ties by id", day(0), day(10), 0, []string{"conv_6", "conv_1", "conv_4", "conv_3"}},
		{"from included, to excluded", day(4), day(7), 0, []string{"conv_1", "conv_4", "conv_3"}},
		{"one day", day(4), day(5), 0, []string{"conv_4", "conv_3"}},
		{"limit", day(0), day(10), 2, []string{"conv_6", "conv_1"}},
		{"just after", day(4).Add(time.Nanosecond), day(7), 0, []string{"conv_1"}},
		{"empty range", day(4), day(4), 0, []string{}},
		{"reversed range", day(7), day(1), 0, []string{}},
	} {
		t.Run("resolved "+tt.name, func(t *testing.T) {
			got := must[[]crm.Conversation](t)(st.ResolvedBetween(ctx, tt.from, tt.to, tt.limit))
			equal(t, "ids", convIDs(got), tt.want)
			for _, c := range got {
				if c.State != crm.StateResolved || c.ClosedAt.IsZero() {
					t.Errorf("listed %+v as resolved", c)
				}
			}
		})
	}

	// at lists the ids of what f returns for the one instant t.
	at := func(f func(from, to time.Time) ([]crm.Conversation, error), t0 time.Time) []string {
		t.Helper()
		return convIDs(must[[]crm.Conversation](t)(f(t0, t0.Add(time.Nanosecond))))
	}
	created := func(from, to time.Time) ([]crm.Conversation, error) { return st.CreatedBetween(ctx, from, to, 0) }
	closed := func(from, to time.Time) ([]crm.Conversation, error) { return st.ResolvedBetween(ctx, from, to, 0) }

	t.Run("created now", func(t *testing.T) {
		c := newConversation(t, st)
		if ids := at(created, c.CreatedAt); !slices.Contains(ids, c.ID) {
			t.Errorf("created at %v: %v, want %s among them", c.CreatedAt, ids, c.ID)
		}
	})

	t.Run("resolved, reopened and resolved again", func(t *testing.T) {
		c, _, err := st.Transition(ctx, "conv_5", crm.Event{Type: crm.EventResolve, Actor: "grace"}, func(c *crm.Conversation) error {
			c.State = crm.StateResolved
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		first := c.ClosedAt
		if ids := at(closed, first); !slices.Contains(ids, "conv_5") {
			t.Fatalf("resolved at %v: %v, want conv_5 among them", first, ids)
		}
		equal(t, "created on day 5", convIDs(must[[]crm.Conversation](t)(st.CreatedBetween(ctx, day(5), day(6), 0))), []string{"conv_5", "conv_6"})

		appendMsg(t, st, crm.Message{ConversationID: "conv_5", Sender: crm.SenderCustomer, Text: "it's back"})
		if ids := at(closed, first); slices.Contains(ids, "conv_5") {
			t.Errorf("resolved at %v: %v holds conv_5, reopened by a message", first, ids)
		}
		must[crm.Conversation](t)(st.UpdateConversation(ctx, "conv_5", func(c *crm.Conversation) error { c.Queue = "billing"; return nil }))
		if ids := convIDs(must[[]crm.Conversation](t)(st.ResolvedBetween(ctx, farPast, farFuture, 0))); slices.Contains(ids, "conv_5") {
			t.Errorf("resolved %v holds conv_5, open again", ids)
		}

		// conv_1 was closed on day 6: resolving it again lists it at its
		// new ClosedAt only.
		appendMsg(t, st, crm.Message{ConversationID: "conv_1", Sender: crm.SenderCustomer, Text: "hello again"})
		c, _, err = st.Transition(ctx, "conv_1", crm.Event{Type: crm.EventResolve, Actor: "grace"}, func(c *crm.Conversation) error {
			c.State = crm.StateResolved
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "resolved on the imported days", convIDs(must[[]crm.Conversation](t)(st.ResolvedBetween(ctx, day(0), day(10), 0))),
			[]string{"conv_6", "conv_4", "conv_3"})
		if ids := at(closed, c.ClosedAt); !slices.Contains(ids, "conv_1") {
			t.Errorf("resolved at %v: %v, want conv_1 among them", c.ClosedAt, ids)
		}
		all := convIDs(must[[]crm.Conversation](t)(st.ResolvedBetween(ctx, farPast, farFuture, 0)))
		if n := len(slices.DeleteFunc(slices.Clone(all), func(id string) bool { return id != "conv_1" })); n != 1 {
			t.Errorf("all resolved %v: want conv_1 once", all)
		}
	})
}
