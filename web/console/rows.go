package console

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/parleyhq/parley/crm"
)

// Row is a conversation as the console lists it: what an agent needs to
// pick the next one, in the list and in the socket's "state" frames.
// Customer and LastMessage are null when there is none.
type Row struct {
	ID               string                `json:"id"`
	Channel          crm.Channel           `json:"channel"`
	State            crm.ConversationState `json:"state"`
	Queue            string                `json:"queue"`
	Priority         crm.Priority          `json:"priority"`
	AssignedAgent    string                `json:"assigned_agent"`
	AssignedName     string                `json:"assigned_name"`
	Customer         *RowCustomer          `json:"customer"`
	LastMessage      *RowMessage           `json:"last_message"`
	StateSince       time.Time             `json:"state_since"`
	WaitingSeconds   int64                 `json:"waiting_seconds"` // in the queue, while waiting; 0 otherwise
	SLABreached      bool                  `json:"sla_breached"`    // waiting for Config.SLA or longer
	SatisfactionRisk float64               `json:"satisfaction_risk"`
	CreatedAt        time.Time             `json:"created_at"`
	UpdatedAt        time.Time             `json:"updated_at"`
}

// RowCustomer is the customer of a Row.
type RowCustomer struct {
	ID   string   `json:"id"`
	Name string   `json:"name"`
	Tier crm.Tier `json:"tier"`
}

// RowMessage is the newest message of a Row's conversation.
type RowMessage struct {
	Sender crm.Sender `json:"sender"`
	Text   string     `json:"text"`
	At     time.Time  `json:"at"`
}

// visible reports whether agent a may see conv: an admin sees everything;
// an agent with teams sees the conversations of those queues, those in no
// queue, and those assigned to them; an agent without teams serves every
// queue.
func (c *Console) visible(a crm.Agent, conv crm.Conversation) bool {
	switch {
	case a.Role == crm.RoleAdmin, len(a.Teams) == 0, conv.Queue == "":
		return true
	case conv.AssignedAgent != "" && conv.AssignedAgent == a.Login:
		return true
	}
	return slices.Contains(a.Teams, conv.Queue)
}

// row reads what a Row shows beyond conv: its customer, its agent's name
// and its newest message. A part that cannot be read is left out (and
// logged, unless it no longer exists): a row is shown in any case.
func (c *Console) row(ctx context.Context, conv crm.Conversation) Row {
	r := Row{
		ID: conv.ID, Channel: conv.Channel, State: conv.State, Queue: conv.Queue, Priority: conv.Priority,
		AssignedAgent: conv.AssignedAgent, StateSince: conv.StateSince, SatisfactionRisk: conv.SatisfactionRisk,
		CreatedAt: conv.CreatedAt, UpdatedAt: conv.UpdatedAt,
	}
	if conv.State == crm.StateWaiting && !conv.StateSince.IsZero() {
		waited := max(0, c.cfg.Now().Sub(conv.StateSince))
		r.WaitingSeconds = int64(waited / time.Second)
		r.SLABreached = waited >= c.cfg.SLA
	}
	if conv.CustomerID != "" {
		cu, err := c.cfg.Store.Customer(ctx, conv.CustomerID)
		if err == nil {
			r.Customer = &RowCustomer{ID: cu.ID, Name: cu.Name, Tier: cu.Tier}
		} else {
			c.partMissing(ctx, "customer", conv.ID, err)
		}
	}
	if conv.AssignedAgent != "" {
		r.AssignedName = conv.AssignedAgent
		a, err := c.cfg.Store.Agent(ctx, conv.AssignedAgent)
		if err == nil && a.Name != "" {
			r.AssignedName = a.Name
		} else if err != nil {
			c.partMissing(ctx, "agent", conv.ID, err)
		}
	}
	if conv.LastSeq > 0 {
		ms, err := c.cfg.Store.RecentMessages(ctx, conv.ID, 1)
		if err == nil && len(ms) > 0 {
			m := ms[len(ms)-1]
			r.LastMessage = &RowMessage{Sender: m.Sender, Text: m.Text, At: m.CreatedAt}
		} else if err != nil {
			c.partMissing(ctx, "last message", conv.ID, err)
		}
	}
	return r
}

// partMissing logs a part of a row or a sidebar that could not be read,
// unless it is gone (an agent removed, a customer erased) or the caller
// left.
func (c *Console) partMissing(ctx context.Context, part, conversationID string, err error) {
	if errors.Is(err, crm.ErrNotFound) || ctx.Err() != nil {
		return
	}
	c.log.Warn("console: read "+part, "conversation", conversationID, "err", err)
}
