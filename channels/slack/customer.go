package slack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// The customer side's links (crm.ChannelStateStore). Keys hold a hashed
// conversation id or Slack's channel ids and timestamps, never a user id.
const (
	// linkDest + conversation id → "<channel> <thread ts>": where the
	// conversation is answered (the thread ts is empty in a DM).
	linkDest = "slack:c:dest:"
	// linkThread + channel + ":" + thread ts → conversation id: the
	// threads in channels where a customer talks to the bot.
	linkThread = "slack:c:thread:"
	// linkSent + conversation id → the seq of the newest message Slack
	// confirmed (the durable delivery cursor).
	linkSent = "slack:c:sent:"
	// linkCSAT + conversation id → the conversation's creation time, set
	// once the rating was asked for, so that a restart or a second
	// resolution does not ask again (a conversation begun anew under the
	// same id after an erasure is asked again).
	linkCSAT = "slack:c:csat:"
)

// receivedMsg is a customer's message that accept stored (engine.Receive)
// and the worker answers (answerCustomer).
type receivedMsg struct {
	convID string
	rec    dialog.Received
}

// customerConvID is the conversation of a Slack user in a Slack channel:
// "slack_" and 20 hex digits of a hash, so that no Slack id is stored in
// an id, and every node finds the same conversation.
func customerConvID(team, channel, user string) string {
	sum := sha256.Sum256([]byte(team + "/" + channel + "/" + user))
	return "slack_" + hex.EncodeToString(sum[:])[:20]
}

// isDM reports whether the event happened in a direct message with the
// bot (app_mention events carry no channel type; DM ids start with D).
func isDM(ev event) bool {
	return ev.ChannelType == "im" || ev.ChannelType == "" && strings.HasPrefix(ev.Channel, "D")
}

// isCustomerMessage reports whether ev is a customer's message to the bot:
// a direct message, a mention outside the agent channel, or a message in a
// channel thread where the bot talks with that same user. It reads the
// store only.
func (a *Adapter) isCustomerMessage(ctx context.Context, ev event) bool {
	switch {
	case ev.Kind == kindAction || ev.Channel == "" || ev.User == "":
		return false
	case a.cfg.AgentChannel != "" && ev.Channel == a.cfg.AgentChannel:
		return false
	case ev.Kind == kindMention:
		return true
	case ev.Kind == kindMessage && isDM(ev):
		return true
	case ev.Kind == kindMessage && ev.ThreadTS != "":
		id, err := a.store.Link(ctx, linkThread+ev.Channel+":"+ev.ThreadTS)
		if err != nil && !errors.Is(err, crm.ErrNotFound) {
			a.log.Error("slack: read thread link", "channel", ev.Channel, "err", err)
		}
		return err == nil && id == customerConvID(ev.Team, ev.Channel, ev.User)
	}
	return false
}

// receiveCustomer stores a customer's message (engine.Receive, opening the
// conversation on its first message) and records where it is answered: in
// a DM, the DM; in a channel, the thread of the message (a new thread at
// a mention outside one). A copy or a retry of the message is stored once:
// its client id is the Slack message's channel and ts. A message the store
// refuses (invalid, too large) is logged and dropped: (nil, nil).
func (a *Adapter) receiveCustomer(ctx context.Context, ev event) (*receivedMsg, error) {
	id := customerConvID(ev.Team, ev.Channel, ev.User)
	clientID := "slack:" + ev.Channel + ":" + ev.TS
	if ev.TS == "" {
		clientID = "slack:" + ev.Key
	}
	r, err := a.receive(ctx, id, a.customerText(ev.Text), clientID, ev.User)
	if errors.Is(err, crm.ErrInvalid) || errors.Is(err, crm.ErrTooLarge) {
		a.log.Warn("slack: customer message refused by the store", "key", ev.Key, "conversation", id, "err", err)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("slack receive %s: %w", ev.Key, err)
	}
	thread := ""
	if !isDM(ev) {
		thread = ev.ThreadTS
		if thread == "" {
			thread = ev.TS
		}
	}
	if err := a.linkDest(ctx, id, ev.Channel, thread); err != nil {
		return nil, fmt.Errorf("slack receive %s: %w", ev.Key, err)
	}
	return &receivedMsg{convID: id, rec: r}, nil
}

// receive stores a customer message of conversation id.
func (a *Adapter) receive(ctx context.Context, id, text, clientID, user string) (dialog.Received, error) {
	return a.engine.Receive(ctx, dialog.Inbound{
		ConversationID: id, Text: clipBytes(text, crm.DefaultMaxMessageBytes), ClientID: clientID,
		Source: "slack:" + user, Start: &dialog.StartRequest{Channel: crm.ChannelSlack},
	})
}

// linkDest records that conversation id is answered in channel (and
// thread), with the thread's link back, unless it is so already.
func (a *Adapter) linkDest(ctx context.Context, id, channel, thread string) error {
	want := channel + " " + thread
	got, err := a.store.Link(ctx, linkDest+id)
	switch {
	case err == nil && got == want:
		return nil
	case err != nil && !errors.Is(err, crm.ErrNotFound):
		return fmt.Errorf("read destination: %w", err)
	}
	if thread != "" { // the way back first: a destination always has it
		if err := a.store.PutLink(ctx, linkThread+channel+":"+thread, id); err != nil {
			return fmt.Errorf("link thread: %w", err)
		}
	}
	if err := a.store.PutLink(ctx, linkDest+id, want); err != nil {
		return fmt.Errorf("link destination: %w", err)
	}
	return nil
}

// destOf returns where conversation id is answered; ok is false for a
// conversation that is not a Slack customer's.
func (a *Adapter) destOf(ctx context.Context, id string) (channel, thread string, ok bool, err error) {
	v, err := a.store.Link(ctx, linkDest+id)
	if errors.Is(err, crm.ErrNotFound) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, fmt.Errorf("read destination of %s: %w", id, err)
	}
	channel, thread, _ = strings.Cut(v, " ")
	return channel, thread, channel != "", nil
}

// customerText is the text of a customer's Slack message as stored: the
// bot's own mentions removed and Slack's markup made plain text
// (plainFromSlack). A message that
// is only a mention keeps it (an empty message cannot be stored).
func (a *Adapter) customerText(raw string) string {
	a.self.Lock()
	me := a.self.userID
	a.self.Unlock()
	t := raw
	if me != "" {
		t = stripMention(t, me)
	}
	if t = strings.TrimSpace(t); t == "" {
		t = strings.TrimSpace(raw)
	}
	return plainFromSlack(t)
}

// stripMention removes the mentions of user ("<@U1>", "<@U1|name>") from
// text.
func stripMention(text, user string) string {
	tag := "<@" + user
	var b strings.Builder
	for {
		i := strings.Index(text, tag)
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		rest := text[i+len(tag):]
		end := -1
		switch {
		case strings.HasPrefix(rest, ">"):
			end = 1
		case strings.HasPrefix(rest, "|"):
			if j := strings.IndexByte(rest, '>'); j >= 0 {
				end = j + 1
			}
		}
		if end < 0 { // another user whose id starts with this one's
			b.WriteString(text[:i+len(tag)])
			text = rest
			continue
		}
		b.WriteString(text[:i])
		text = rest[end:]
	}
}

// answerCustomer links the conversation to its CRM customer (when
// Config.TrustEmail allows), has the engine answer the message, and
// delivers the answer.
func (a *Adapter) answerCustomer(ctx context.Context, ev event, r receivedMsg) error {
	if err := a.linkCustomer(ctx, r.convID, ev.User); err != nil && ctx.Err() == nil {
		a.log.Warn("slack: link the customer", "conversation", r.convID, "err", err) // answered anyway, unverified
	}
	if _, err := a.engine.Answer(ctx, r.rec); err != nil {
		return fmt.Errorf("slack answer %s: %w", r.convID, err)
	}
	return a.deliverCustomer(ctx, r.convID)
}

// linkCustomer sets the CRM customer of conversation id, when it has none,
// from the Slack user's profile e-mail: only with Config.TrustEmail (the
// workspace's addresses are the company's own), and only to a customer who
// exists (by their Slack identity, else by that e-mail, which then gets
// the Slack identity). Nobody is created from a Slack e-mail.
func (a *Adapter) linkCustomer(ctx context.Context, id, user string) error {
	if !a.cfg.TrustEmail {
		return nil
	}
	conv, err := a.store.Conversation(ctx, id)
	if err != nil || conv.CustomerID != "" {
		return err
	}
	email, _, err := a.users.lookup(ctx, user)
	if err != nil || email == "" {
		return err
	}
	ident := crm.Identity{Channel: crm.ChannelSlack, ExternalID: user}
	cu, err := a.store.CustomerByIdentity(ctx, ident)
	if errors.Is(err, crm.ErrNotFound) {
		cu, err = a.store.CustomerByEmail(ctx, email)
		if errors.Is(err, crm.ErrNotFound) {
			return nil // not a customer yet: stays unverified
		}
		if err == nil {
			cu, err = a.store.UpdateCustomer(ctx, cu.ID, func(c *crm.Customer) error {
				if !containsIdentity(c.Identities, ident) {
					c.Identities = append(c.Identities, ident)
				}
				return nil
			})
		}
	}
	if err != nil {
		return fmt.Errorf("find customer: %w", err)
	}
	_, err = a.store.UpdateConversation(ctx, id, func(c *crm.Conversation) error {
		if c.CustomerID == "" {
			c.CustomerID = cu.ID
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("link conversation: %w", err)
	}
	return nil
}

func containsIdentity(ids []crm.Identity, id crm.Identity) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// customerAction handles a customer's click: a quick reply is the
// customer's message with its text; a CSAT button rates the conversation.
// A click by someone else than the conversation's customer is refused with
// a message only they see.
func (a *Adapter) customerAction(ctx context.Context, ev event) error {
	switch {
	case isAction(ev.ActionID, actionReply):
		return a.quickReply(ctx, ev)
	case isAction(ev.ActionID, actionCSAT):
		return a.rateClick(ctx, ev)
	}
	return nil
}

// quickReply answers a click on a quick reply as the customer's message.
func (a *Adapter) quickReply(ctx context.Context, ev event) error {
	id := customerConvID(ev.Team, ev.Channel, ev.User)
	owns, err := a.ownsThread(ctx, ev, id)
	if err != nil {
		return err
	}
	if !owns {
		return a.tellOnly(ctx, ev, "These buttons are for the person the bot is talking with here. Mention me to start your own conversation.")
	}
	text := strings.TrimSpace(ev.Value)
	if text == "" {
		return nil
	}
	r, err := a.receive(ctx, id, text, "slack:"+ev.Key, ev.User)
	if err != nil {
		return fmt.Errorf("slack quick reply %s: %w", ev.Key, err)
	}
	return a.answerCustomer(ctx, ev, receivedMsg{convID: id, rec: r})
}

// ownsThread reports whether the click's message is in the conversation
// id (the clicking user's in that channel): in the same DM, or in one of
// its threads.
func (a *Adapter) ownsThread(ctx context.Context, ev event, id string) (bool, error) {
	channel, thread, ok, err := a.destOf(ctx, id)
	if err != nil || !ok || channel != ev.Channel {
		return false, err
	}
	if ev.ThreadTS == "" || ev.ThreadTS == thread {
		return ev.ThreadTS == thread, nil
	}
	v, err := a.store.Link(ctx, linkThread+ev.Channel+":"+ev.ThreadTS)
	if errors.Is(err, crm.ErrNotFound) {
		return false, nil
	}
	return err == nil && v == id, err
}

// rateClick stores the rating of a CSAT button and thanks the customer.
func (a *Adapter) rateClick(ctx context.Context, ev event) error {
	i := strings.LastIndexByte(ev.Value, ':')
	if i < 0 {
		return fmt.Errorf("slack rating %q: no score", ev.Value)
	}
	id := ev.Value[:i]
	score, err := strconv.Atoi(ev.Value[i+1:])
	if err != nil {
		return fmt.Errorf("slack rating %q: %w", ev.Value, err)
	}
	if id != customerConvID(ev.Team, ev.Channel, ev.User) {
		return a.tellOnly(ctx, ev, "Only the person who had this conversation can rate it.")
	}
	_, err = a.engine.Rate(ctx, id, score, "")
	reply, failed := "Thank you for your rating!", false
	switch {
	case err == nil:
	case errors.Is(err, dialog.ErrAlreadyRated):
		reply = "You have rated this conversation already. Thank you!"
	case errors.Is(err, dialog.ErrNotResolved):
		reply = "This conversation is open again: you can rate it once it is resolved."
	case errors.Is(err, crm.ErrInvalid), errors.Is(err, crm.ErrNotFound):
		reply = "Sorry, that rating could not be stored."
	default:
		reply, failed = "Sorry, your rating could not be stored just now. Please try again later.", true
	}
	a.out.send(outMsg{Channel: ev.Channel, ThreadTS: ev.ThreadTS, Text: reply})
	if failed {
		return fmt.Errorf("slack rating of %s: %w", id, err)
	}
	return nil
}
