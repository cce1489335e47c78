package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// What agents do in the agent channel: reply (or note) in a card's
// thread, and press the card's buttons.

// agentMessage takes a message in the agent channel. Only replies in a
// card's thread count: from a Parley agent (matched by their Slack
// profile e-mail) they go to the customer as that agent, claiming the
// conversation when nobody holds it; "note: ..." stores a private note
// instead. Anyone else is told, privately, that they are not an agent, and
// nothing is stored.
func (a *Adapter) agentMessage(ctx context.Context, ev event) error {
	// An app_mention is a copy of a message event in the channel: the
	// message event is the one taken.
	if ev.Kind != kindMessage || ev.ThreadTS == "" || ev.ThreadTS == ev.TS {
		return nil
	}
	id, err := a.cardOf(ctx, ev.ThreadTS)
	switch {
	case errors.Is(err, crm.ErrNotFound):
		return nil // a thread that is not a card's
	case err != nil:
		return fmt.Errorf("agent reply: %w", err)
	}
	agent, ok, err := a.slackAgent(ctx, ev)
	if !ok {
		return err
	}
	text := strings.TrimSpace(a.agentText(ev.Text))
	if text == "" {
		return nil
	}
	if note, ok := cutNote(text); ok {
		return a.agentNote(ctx, ev, id, agent, note)
	}
	_, _, err = a.engine.Post(ctx, dialog.Outbound{ConversationID: id, Sender: crm.SenderAgent, AgentID: agent.Login,
		Text: text, ClientID: "slack:" + ev.Channel + ":" + ev.TS})
	if err != nil {
		return a.agentRefuse(ctx, ev, id, "Your reply was not sent", err)
	}
	return nil
}

// cardWait is how long a reply in an unknown thread waits for cards on
// their way: Slack shows a card before the adapter has its ts, and a quick
// agent may answer in between.
const cardWait = 3 * time.Second

// cardOf returns the conversation whose card starts the thread threadTS,
// waiting up to cardWait while some card is still being posted.
func (a *Adapter) cardOf(ctx context.Context, threadTS string) (string, error) {
	deadline := a.now().Add(cardWait)
	for {
		id, err := a.store.Link(ctx, agentThreadKey+threadTS)
		if !errors.Is(err, crm.ErrNotFound) || !a.agents.carding() || !a.now().Before(deadline) {
			return id, err
		}
		if !sleep(ctx, 50*time.Millisecond) {
			return "", ctx.Err()
		}
	}
}

// cutNote returns the text of a "note: ..." message (the prefix in any
// case) and whether it is one.
func cutNote(text string) (string, bool) {
	const prefix = "note:"
	if len(text) < len(prefix) || !strings.EqualFold(text[:len(prefix)], prefix) {
		return "", false
	}
	return strings.TrimSpace(text[len(prefix):]), true
}

// agentNote stores an agent's private note from the thread. The mirror
// waits on the conversation's lock meanwhile, so it knows the note is
// this one and does not post it back.
func (a *Adapter) agentNote(ctx context.Context, ev event, id string, agent crm.Agent, text string) error {
	if text == "" {
		return a.tellOnly(ctx, ev, `A note needs some text after "note:".`)
	}
	c, err := a.lockConv(ctx, id, false)
	if err != nil {
		return fmt.Errorf("agent note: %w", err)
	}
	if c != nil {
		defer c.mu.Unlock()
	}
	stored, err := a.engine.Note(ctx, id, dialog.Actor{Login: agent.Login, Admin: agent.Role == crm.RoleAdmin}, text)
	if err != nil {
		return a.agentRefuse(ctx, ev, id, "Your note was not stored", err)
	}
	if c != nil {
		if c.echo == nil {
			c.echo = make(map[uint64]bool)
		}
		c.echo[stored.Seq] = true
	}
	return nil
}

// agentAction handles a click on a card's button: Take claims the
// conversation for the agent who clicked, Return gives it back to the bot,
// Resolve closes it. The thread shows the change (it is mirrored like any
// other); a refusal goes only to the agent, as an ephemeral message.
func (a *Adapter) agentAction(ctx context.Context, ev event) error {
	if a.cfg.AgentChannel == "" || ev.Channel != a.cfg.AgentChannel || ev.Value == "" {
		return nil // a card's buttons are only in the agent channel
	}
	agent, ok, err := a.slackAgent(ctx, ev)
	if !ok {
		return err
	}
	id := ev.Value
	conv, err := a.store.Conversation(ctx, id)
	if err != nil {
		return a.agentRefuse(ctx, ev, id, "That did not work", err)
	}
	by := dialog.Actor{Login: agent.Login, Admin: agent.Role == crm.RoleAdmin}
	switch ev.ActionID {
	case actionTake:
		if conv.State == crm.StateAgent && conv.AssignedAgent == agent.Login {
			return a.tellOnly(ctx, ev, "You hold this conversation already.")
		}
		_, err = a.engine.Claim(ctx, id, by)
	case actionReturn:
		_, err = a.engine.Return(ctx, id, by)
	case actionResolve:
		if conv.State == crm.StateResolved {
			return a.tellOnly(ctx, ev, "This conversation is resolved already.")
		}
		_, err = a.engine.Resolve(ctx, id, by)
	default:
		return nil
	}
	if err != nil {
		return a.agentRefuse(ctx, ev, id, "That did not work", err)
	}
	return nil
}

// slackAgent returns the Parley agent who wrote or clicked ev, matched by
// the Slack profile's e-mail. ok is false when there is none: the user
// was told so (an ephemeral message) and err says what went wrong, if
// anything did besides the user not being an agent.
func (a *Adapter) slackAgent(ctx context.Context, ev event) (agent crm.Agent, ok bool, err error) {
	email, _, err := a.users.lookup(ctx, ev.User)
	var slackErr slack.SlackErrorResponse
	if err != nil && !errors.As(err, &slackErr) {
		// Slack did not answer: say so rather than call them a stranger.
		perr := a.tellOnly(ctx, ev,
			"Parley could not check your Slack profile just now, so nothing was done. Please try again.")
		return crm.Agent{}, false, errors.Join(fmt.Errorf("agent lookup: %w", err), perr)
	}
	if err == nil && email != "" {
		agent, err = a.store.Agent(ctx, email)
		switch {
		case err == nil:
			return agent, true, nil
		case !errors.Is(err, crm.ErrNotFound):
			return crm.Agent{}, false, fmt.Errorf("agent lookup: %w", err)
		}
	}
	return crm.Agent{}, false, a.tellOnly(ctx, ev,
		"Sorry, you are not a Parley agent, so nothing was sent or changed. "+
			"An admin can add the e-mail address of your Slack profile as an agent login in Parley.")
}

// agentRefuse tells the agent privately why what they asked for was not
// done. It returns err unless the reason is an expected one (held by
// another agent, not possible in this state, ...), so that only the
// unexpected ones are logged.
func (a *Adapter) agentRefuse(ctx context.Context, ev event, id, what string, err error) error {
	reason, expected := a.refusal(ctx, id, err)
	perr := a.tellOnly(ctx, ev, what+": "+reason)
	if expected {
		return perr
	}
	return errors.Join(err, perr)
}

// refusal says why a lifecycle step or a post was refused, readably, and
// whether the refusal is an expected one.
func (a *Adapter) refusal(ctx context.Context, id string, err error) (string, bool) {
	var claimed *dialog.ClaimedError
	switch {
	case errors.As(err, &claimed):
		return "this conversation is held by " + escape(a.agentName(ctx, claimed.Agent)) +
			". They (or an admin) can transfer it to you in the console.", true
	case errors.Is(err, dialog.ErrNotHolder):
		return "only the agent who holds this conversation, or an admin, may do that.", true
	case errors.Is(err, crm.ErrNotFound):
		return "this conversation no longer exists.", true
	case errors.Is(err, crm.ErrTooLarge):
		return "the text is too long.", true
	case errors.Is(err, dialog.ErrState):
		conv, cerr := a.store.Conversation(ctx, id)
		if cerr != nil {
			return "not possible in the conversation's state.", true
		}
		return "not possible now: " + a.stateWords(ctx, conv) + ".", true
	}
	return "something went wrong in Parley (" + escape(clip(err.Error(), 300)) + ").", false
}

// stateWords says who holds a conversation, for a refusal.
func (a *Adapter) stateWords(ctx context.Context, conv crm.Conversation) string {
	switch conv.State {
	case crm.StateBot:
		return "the bot holds the conversation"
	case crm.StateWaiting:
		return "the conversation waits in the queue " + escape(conv.Queue)
	case crm.StateAgent:
		return "the conversation is held by " + escape(a.agentName(ctx, conv.AssignedAgent))
	default:
		return "the conversation is resolved"
	}
}

// agentText turns an agent's Slack message into the plain text the
// customer gets, without a leading mention of the bot.
func (a *Adapter) agentText(text string) string {
	a.self.Lock()
	me := a.self.userID
	a.self.Unlock()
	text = strings.TrimSpace(text)
	if me != "" {
		text = strings.TrimPrefix(text, "<@"+me+">")
	}
	return plainFromSlack(text)
}

// plainFromSlack turns a Slack message's text into plain text: "&amp;",
// "&lt;" and "&gt;" back into characters, links "<url|label>" into
// "label (url)", and mentions "<@U123>", "<#C123|name>" and "<!here>"
// into "@U123", "#name" and "@here".
func plainFromSlack(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		b.WriteString(slackToken(s[i+1 : i+j]))
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(b.String())
}

// slackToken is the plain text of one "<...>" of a Slack message.
func slackToken(t string) string {
	target, label, labelled := strings.Cut(t, "|")
	switch {
	case strings.HasPrefix(target, "@"), strings.HasPrefix(target, "#"):
		if labelled && label != "" {
			return target[:1] + strings.TrimPrefix(label, target[:1])
		}
		return target
	case strings.HasPrefix(target, "!"):
		if labelled && label != "" {
			return label
		}
		name, _, _ := strings.Cut(target[1:], "^")
		return "@" + name
	case strings.HasPrefix(target, "mailto:"):
		if labelled && label != "" {
			return label
		}
		return strings.TrimPrefix(target, "mailto:")
	}
	bare := strings.TrimPrefix(strings.TrimPrefix(target, "https://"), "http://")
	if !labelled || label == "" || label == target || label == bare {
		return target
	}
	return label + " (" + target + ")"
}
