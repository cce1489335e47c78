package crm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// The steps of a Store method that do not depend on how records are kept:
// what a store checks and computes before (or around) its transaction.
// Both stores call them, so that they fail on the same input, in the same
// order, with the same errors.

// PrepareParse checks the size of an NLU result and redacts it
// (RedactParse). It returns a copy: the caller's slice is never kept. Errors
// wrap ErrTooLarge for a parse over MaxParseBytes and ErrInvalid for one
// that is not JSON.
func PrepareParse(parse json.RawMessage) (json.RawMessage, error) {
	if len(parse) > MaxParseBytes {
		return nil, fmt.Errorf("parse of %d bytes, limit %d: %w", len(parse), MaxParseBytes, ErrTooLarge)
	}
	redacted, err := RedactParse(parse)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", ErrInvalid)
	}
	return slices.Clone(redacted), nil
}

// PrepareTurn checks the parts of t a store can check before its write
// transaction: Seq is set, the parse (PrepareParse; nil when t.Parse is
// nil) and the replies (PrepareMessage with maxBytes, each given
// t.ConversationID). Errors wrap ErrInvalid or ErrTooLarge; a reply's error
// says which reply.
func PrepareTurn(t Turn, maxBytes int) (parse json.RawMessage, replies []Message, err error) {
	if t.Seq == 0 {
		return nil, nil, fmt.Errorf("turn for message 0: %w", ErrInvalid)
	}
	if t.Parse != nil {
		if parse, err = PrepareParse(t.Parse); err != nil {
			return nil, nil, err
		}
	}
	replies = make([]Message, len(t.Replies))
	for i, r := range t.Replies {
		r.ConversationID = t.ConversationID
		if replies[i], err = PrepareMessage(r, maxBytes); err != nil {
			return nil, nil, fmt.Errorf("reply %d: %w", i, err)
		}
	}
	return parse, replies, nil
}

// PrepareSnapshot does the slow and storage-independent part of Import
// before the store's transaction: it hashes the passwords of s's agents
// with bcrypt at cost, and checks and redacts its messages (PrepareMessage
// with maxBytes) keeping their snapshot ID, Seq and CreatedAt. The agents
// and messages returned share no slice with s. Errors say which agent or
// message, and wrap ErrInvalid (an agent with neither a password nor a
// hash, a bad message) or ErrTooLarge.
func PrepareSnapshot(s Snapshot, cost, maxBytes int) ([]Agent, []Message, error) {
	agents := make([]Agent, len(s.Agents))
	for i, sa := range s.Agents {
		agents[i] = sa.Agent
		agents[i].Teams = slices.Clone(sa.Teams)
		if sa.Password != "" {
			h, err := HashPassword(sa.Password, cost)
			if err != nil {
				return nil, nil, fmt.Errorf("agent %q: %w", sa.Login, err)
			}
			agents[i].PasswordHash = h
		}
		if agents[i].PasswordHash == "" {
			return nil, nil, fmt.Errorf("agent %q has no password: %w", sa.Login, ErrInvalid)
		}
	}
	msgs := make([]Message, len(s.Messages))
	for i, m := range s.Messages {
		p, err := PrepareMessage(m, maxBytes)
		if err != nil {
			return nil, nil, fmt.Errorf("message %d: %w", i, err)
		}
		p.ID, p.Seq, p.CreatedAt = m.ID, m.Seq, m.CreatedAt
		p.Parse = slices.Clone(p.Parse)
		msgs[i] = p
	}
	return agents, msgs, nil
}

// CustomerDefaults fills in what a customer in a Snapshot may leave empty:
// ID (a NewID("cus")), CreatedAt (now) and UpdatedAt (CreatedAt).
func CustomerDefaults(c *Customer, now time.Time) {
	if c.ID == "" {
		c.ID = NewID("cus")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
}

// FeedbackDefaults fills in what a rating in a Snapshot may leave empty: ID
// (a NewID("fb")) and CreatedAt (now).
func FeedbackDefaults(f *Feedback, now time.Time) {
	if f.ID == "" {
		f.ID = NewID("fb")
	}
	if f.CreatedAt.IsZero() {
		f.CreatedAt = now
	}
}

// NewCustomer sets what CreateCustomer decides for a new customer: an ID
// (a NewID("cus")) when it has none, CreatedAt and UpdatedAt (now, whatever
// c held), and the time of a marketing consent given without one.
func NewCustomer(c *Customer, now time.Time) {
	if c.ID == "" {
		c.ID = NewID("cus")
	}
	c.CreatedAt, c.UpdatedAt = now, now
	if c.Consent.UpdatedAt.IsZero() && c.Consent.Marketing {
		c.Consent.UpdatedAt = now
	}
}

// UpdatedCustomer finishes cur, the customer old as UpdateCustomer's fn
// left it: it keeps old's ID and CreatedAt, sets UpdatedAt to now (and the
// consent time to now when the consent changed without a new time), then
// validates it (ValidateCustomer; errors wrap ErrInvalid).
func UpdatedCustomer(old Customer, cur *Customer, now time.Time) error {
	cur.ID, cur.CreatedAt = old.ID, old.CreatedAt
	cur.UpdatedAt = now
	if cur.Consent != old.Consent && cur.Consent.UpdatedAt.Equal(old.Consent.UpdatedAt) {
		cur.Consent.UpdatedAt = cur.UpdatedAt
	}
	return ValidateCustomer(cur)
}

// UpdatedConversation finishes cur, the conversation old as
// UpdateConversation's fn left it: it keeps old's ID, LastSeq,
// LastCustomerSeq and CreatedAt, lets AnsweredSeq rise up to
// LastCustomerSeq but never fall, keeps LastAgentAt, sets UpdatedAt to now
// and StateSince to now when State, Queue or AssignedAgent changed, sets ClosedAt when
// the conversation becomes resolved and clears it while it is open, then
// validates it (ValidateConversation; errors wrap ErrInvalid).
func UpdatedConversation(old Conversation, cur *Conversation, now time.Time) error {
	cur.ID, cur.LastSeq, cur.LastCustomerSeq, cur.CreatedAt = old.ID, old.LastSeq, old.LastCustomerSeq, old.CreatedAt
	// fn may mark messages answered (an agent handing the conversation
	// back has answered them), but not unanswer any, nor answer a message
	// that is not there.
	cur.AnsweredSeq = max(old.AnsweredSeq, min(cur.AnsweredSeq, old.LastCustomerSeq))
	cur.UpdatedAt = now
	cur.LastAgentAt = old.LastAgentAt
	cur.StateSince = old.StateSince
	if cur.State != old.State || cur.Queue != old.Queue || cur.AssignedAgent != old.AssignedAgent || cur.StateSince.IsZero() {
		cur.StateSince = now
	}
	switch {
	case !cur.Open() && old.Open():
		cur.ClosedAt = now
	case cur.Open():
		cur.ClosedAt = time.Time{}
	}
	return ValidateConversation(cur)
}

// CheckTurn fails with ErrAnswered when c already has an answer to message
// seq: CommitTurn then writes nothing.
func CheckTurn(c Conversation, seq uint64) error {
	if c.AnsweredSeq >= seq {
		return fmt.Errorf("conversation %q, message %d (answered up to %d): %w", c.ID, seq, c.AnsweredSeq, ErrAnswered)
	}
	return nil
}

// FinishTurn marks message seq of c answered at now, the last step of
// CommitTurn; a reopened conversation's ClosedAt goes with it.
func FinishTurn(c *Conversation, seq uint64, now time.Time) {
	c.AnsweredSeq = seq
	c.UpdatedAt = now
	if c.Open() {
		c.ClosedAt = time.Time{}
	}
}

// Authenticate is AgentStore.Authenticate for a store that looks agents up
// with agent: it compares password with the agent's hash outside any lock
// or transaction, and with dummyHash() for an unknown login, so that an
// unknown login takes as long as a wrong password. Errors start with
// "authenticate" and wrap ErrUnauthorized for an unknown login or a wrong
// password, or the lookup's error.
func Authenticate(ctx context.Context, agent func(context.Context, string) (Agent, error), dummyHash func() string, login, password string) (Agent, error) {
	a, err := agent(ctx, login)
	switch {
	case errors.Is(err, ErrNotFound):
		_ = CheckPassword(dummyHash(), password)
		return Agent{}, fmt.Errorf("authenticate: %w", ErrUnauthorized)
	case err != nil:
		return Agent{}, fmt.Errorf("authenticate: %w", err)
	}
	if !CheckPassword(a.PasswordHash, password) {
		return Agent{}, fmt.Errorf("authenticate: %w", ErrUnauthorized)
	}
	return a, nil
}

// WriteExport writes ex to w as ExportCustomer does: one indented JSON
// document. It returns the writer's or the encoder's error.
func WriteExport(w io.Writer, ex *Export) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(ex)
}
