package dialog

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyhq/parley/crm"
)

// Errors of Post and Rate.
var (
	// ErrSender means an Outbound's sender is not an agent, the system or
	// the bot, or an agent message names no agent.
	ErrSender = errors.New("invalid sender")
	// ErrNotResolved means a rating was given for an open conversation: the
	// customer is asked for one only when it is resolved.
	ErrNotResolved = errors.New("conversation not resolved")
	// ErrAlreadyRated means the conversation has its rating.
	ErrAlreadyRated = errors.New("conversation already rated")
)

// Outbound is a message into a conversation that the bot does not answer:
// an agent's, the system's, or a bot message written by another system.
type Outbound struct {
	ConversationID string
	Sender         crm.Sender // SenderAgent, SenderSystem or SenderBot
	AgentID        string     // the agent's login; required for SenderAgent
	Text           string
	// ClientID makes a resend safe: a message with the same ClientID is
	// stored once (the stored one is returned, and published only once).
	ClientID string
}

// Post stores o durably and publishes it to the conversation's subscribers,
// and returns the stored message and whether it is new: false for a resend
// of a ClientID already stored, which is neither stored nor published again.
// An agent's message on a conversation the bot holds, or one waiting in a
// queue, first claims it for that agent (as Claim does), so the bot says
// nothing more; other messages do not change who holds the conversation.
// Errors: ErrNoConversation, ErrSender, a *ClaimedError (ErrClaimed) for an
// agent's message on a conversation another agent holds, and the store's
// (crm.ErrNotFound, crm.ErrTooLarge, crm.ErrInvalid), in which case nothing
// was stored.
func (e *Engine) Post(ctx context.Context, o Outbound) (crm.Message, bool, error) {
	if o.ConversationID == "" {
		return crm.Message{}, false, fmt.Errorf("post message: %w", ErrNoConversation)
	}
	switch {
	case o.Sender == crm.SenderAgent && o.AgentID == "":
		return crm.Message{}, false, fmt.Errorf("post message: agent message without an agent: %w", ErrSender)
	case o.Sender != crm.SenderAgent && o.Sender != crm.SenderSystem && o.Sender != crm.SenderBot:
		return crm.Message{}, false, fmt.Errorf("post message: sender %q: %w", o.Sender, ErrSender)
	}
	unlock, err := e.lock(ctx, o.ConversationID)
	if err != nil {
		return crm.Message{}, false, fmt.Errorf("post message: %w", err)
	}
	defer unlock()
	agent := ""
	if o.Sender == crm.SenderAgent {
		agent = o.AgentID
		// A resolved conversation is not claimed: the message goes to
		// it as it is.
		_, _, err := e.changeLocked(ctx, o.ConversationID, e.take(agent, Actor{Login: agent}, crm.EventClaim))
		if err != nil && !errors.Is(err, ErrState) {
			return crm.Message{}, false, fmt.Errorf("post message: %w", err)
		}
	}
	m, fresh, err := e.store.AppendMessage(ctx, crm.Message{
		ConversationID: o.ConversationID, Sender: o.Sender, AgentID: agent, Text: o.Text, ClientID: o.ClientID,
	})
	if err != nil {
		return crm.Message{}, false, fmt.Errorf("post message: %w", err)
	}
	if fresh {
		e.publishMessage(m)
	}
	return m, fresh, nil
}

// Rate stores the customer's rating (1 to 5) of a resolved conversation, once.
// Errors: ErrNotResolved, ErrAlreadyRated, crm.ErrInvalid for a score outside
// 1..5 or a comment that is too long, crm.ErrNotFound.
func (e *Engine) Rate(ctx context.Context, conversationID string, score int, comment string) (crm.Feedback, error) {
	unlock, err := e.lock(ctx, conversationID)
	if err != nil {
		return crm.Feedback{}, fmt.Errorf("rate conversation: %w", err)
	}
	defer unlock()
	c, err := e.store.Conversation(ctx, conversationID)
	if err != nil {
		return crm.Feedback{}, fmt.Errorf("rate conversation: %w", err)
	}
	if c.State != crm.StateResolved {
		return crm.Feedback{}, fmt.Errorf("rate conversation: %w", ErrNotResolved)
	}
	switch rated, err := e.rated(ctx, conversationID); {
	case err != nil:
		return crm.Feedback{}, fmt.Errorf("rate conversation: %w", err)
	case rated:
		return crm.Feedback{}, fmt.Errorf("rate conversation: %w", ErrAlreadyRated)
	}
	f, err := e.store.AddFeedback(ctx, crm.Feedback{ConversationID: conversationID, Score: score, Comment: comment})
	if err != nil {
		return crm.Feedback{}, fmt.Errorf("rate conversation: %w", err)
	}
	return f, nil
}

// Rated reports whether the conversation has a rating. Errors come from the
// store.
func (e *Engine) Rated(ctx context.Context, conversationID string) (bool, error) {
	ok, err := e.rated(ctx, conversationID)
	if err != nil {
		return false, fmt.Errorf("rated: %w", err)
	}
	return ok, nil
}

func (e *Engine) rated(ctx context.Context, conversationID string) (bool, error) {
	_, err := e.store.ConversationFeedback(ctx, conversationID)
	if errors.Is(err, crm.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
