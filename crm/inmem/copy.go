package inmem

import (
	"maps"
	"slices"

	"github.com/parleyhq/parley/crm"
)

// The clone functions copy the slices and maps of a record, so that the
// store and its callers never share them.

func cloneCustomer(c crm.Customer) crm.Customer {
	c.Identities = slices.Clone(c.Identities)
	c.Attributes = maps.Clone(c.Attributes)
	return c
}

func cloneOrder(o crm.Order) crm.Order {
	o.Items = slices.Clone(o.Items)
	return o
}

func cloneConversation(c crm.Conversation) crm.Conversation {
	c.Slots = maps.Clone(c.Slots)
	return c
}

func cloneMessage(m crm.Message) crm.Message {
	m.Parse = slices.Clone(m.Parse)
	m.QuickReplies = slices.Clone(m.QuickReplies)
	return m
}

func cloneMessages(ms []crm.Message) []crm.Message {
	out := make([]crm.Message, len(ms))
	for i, m := range ms {
		out[i] = cloneMessage(m)
	}
	return out
}

func cloneTicket(t crm.Ticket) crm.Ticket {
	t.Conversations = slices.Clone(t.Conversations)
	t.History = slices.Clone(t.History)
	return t
}

func cloneAgent(a crm.Agent) crm.Agent {
	a.Teams = slices.Clone(a.Teams)
	return a
}
