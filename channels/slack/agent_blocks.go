package slack

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/parleyhq/parley/crm"
)

// What the agent side posts: the handoff card and the thread's lines.
// Every text that a customer or an agent wrote (and the CRM's names)
// goes through escape(); texts are clipped so that a post stays far below
// Slack's limits (3000 characters a text block, 20 KB a message).
const (
	cardTurns = 6    // the last turns a card shows
	turnRunes = 300  // each of them clipped to this
	blockMax  = 3000 // Slack's limit for a section's text
	lineRunes = 2900 // a thread line's text, before escaping
)

// agentCard builds a handoff card: who the customer is, the queue, the
// priority, the reason, the satisfaction risk, the last turns, and the
// buttons Take, Return to bot and Resolve. text is the notification's
// fallback.
func (a *Adapter) agentCard(ctx context.Context, conv crm.Conversation, recent []crm.Message, events []crm.Event) (text string, blocks []slack.Block) {
	who := escape(a.customerLabel(ctx, conv))
	queue := conv.Queue
	if queue == "" {
		queue = "none"
	}
	head := fmt.Sprintf("*Handoff:* %s on %s", who, escape(string(conv.Channel)))
	if conv.State == crm.StateAgent && conv.AssignedAgent != "" {
		head = fmt.Sprintf("*Held by %s:* %s on %s", escape(a.agentName(ctx, conv.AssignedAgent)), who, escape(string(conv.Channel)))
	}
	reason := conv.RoutingReason
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Type == crm.EventHandoff && events[i].Text != "" {
			reason = events[i].Text
			break
		}
	}
	if reason == "" {
		reason = "not given"
	}
	priority := conv.Priority
	if priority == "" {
		priority = crm.PriorityNormal
	}
	fields := []*slack.TextBlockObject{
		agentMrkdwn("*Queue:*\n" + escape(clip(queue, 100))),
		agentMrkdwn("*Priority:*\n" + escape(string(priority))),
		agentMrkdwn("*Satisfaction risk:*\n" + riskWords(conv.SatisfactionRisk)),
		agentMrkdwn("*Conversation:*\n`" + escape(conv.ID) + "`"),
	}
	blocks = append(blocks,
		slack.NewSectionBlock(agentMrkdwn(agentClipMrkdwn(head+"\n*Reason:* "+escape(clip(reason, 500)), blockMax)), fields, nil))
	if len(recent) > 0 {
		var b strings.Builder
		b.WriteString("*Last messages*")
		for _, m := range recent {
			b.WriteString("\n> *" + escape(a.senderName(ctx, m)) + ":* ")
			b.WriteString(strings.ReplaceAll(escape(clip(m.Text, turnRunes)), "\n", "\n> "))
		}
		blocks = append(blocks, slack.NewSectionBlock(agentMrkdwn(agentClipMrkdwn(b.String(), blockMax)), nil, nil))
	}
	blocks = append(blocks, slack.NewActionBlock("parley_card",
		button(actionTake, "Take", conv.ID).WithStyle(slack.StylePrimary),
		button(actionReturn, "Return to bot", conv.ID),
		button(actionResolve, "Resolve", conv.ID),
	))
	text = fmt.Sprintf("Handoff: %s on %s, queue %s", who, escape(string(conv.Channel)), escape(clip(queue, 100)))
	return text, blocks
}

// agentMrkdwn is a mrkdwn text object.
func agentMrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// riskWords shows a satisfaction risk (0..1).
func riskWords(r float64) string {
	level := "low"
	switch {
	case r >= 0.5:
		level = "high"
	case r >= 0.25:
		level = "medium"
	}
	return fmt.Sprintf("%s (%.0f%%)", level, 100*r)
}

// customerLabel names the conversation's customer: the linked CRM
// customer's name and e-mail, or an unverified visitor on its channel.
func (a *Adapter) customerLabel(ctx context.Context, conv crm.Conversation) string {
	if conv.CustomerID != "" {
		if cu, err := a.store.Customer(ctx, conv.CustomerID); err == nil {
			switch {
			case cu.Name != "" && cu.Email != "":
				return clip(cu.Name, 100) + " (" + clip(cu.Email, 200) + ")"
			case cu.Name != "":
				return clip(cu.Name, 100)
			case cu.Email != "":
				return clip(cu.Email, 200)
			}
			return "customer " + cu.ID
		}
	}
	return "unverified visitor"
}

// agentName is an agent's name (their login when they have none, or are
// not found).
func (a *Adapter) agentName(ctx context.Context, login string) string {
	if ag, err := a.store.Agent(ctx, login); err == nil && ag.Name != "" {
		return ag.Name
	}
	return login
}

// senderName says who wrote a message.
func (a *Adapter) senderName(ctx context.Context, m crm.Message) string {
	switch m.Sender {
	case crm.SenderCustomer:
		return "Customer"
	case crm.SenderBot:
		return "Bot"
	case crm.SenderAgent:
		return a.agentName(ctx, m.AgentID)
	}
	return "Parley"
}

// messageLine is how a message of a carded conversation shows in the
// card's thread.
func (a *Adapter) messageLine(ctx context.Context, m crm.Message) string {
	line := "*" + escape(a.senderName(ctx, m)) + ":* " + escape(clip(m.Text, lineRunes))
	if m.Sender == crm.SenderAgent {
		line = "*" + escape(a.senderName(ctx, m)) + " (console):* " + escape(clip(m.Text, lineRunes))
	}
	if len(m.QuickReplies) > 0 {
		opts := make([]string, len(m.QuickReplies))
		for i, q := range m.QuickReplies {
			opts[i] = escape(clip(q, 50))
		}
		line += "\n_Buttons: " + agentClipMrkdwn(strings.Join(opts, " · "), 500) + "_"
	}
	return line
}

// eventLine is how a lifecycle event shows in the card's thread; "" for
// one that is not shown (the adapter's own notes).
func (a *Adapter) eventLine(ctx context.Context, ev crm.Event) string {
	who := a.actorName(ctx, ev.Actor)
	reason := ""
	if ev.Text != "" && ev.Type != crm.EventContact {
		reason = ": " + escape(clip(ev.Text, 500))
	}
	var s string
	switch ev.Type {
	case crm.EventHandoff:
		s = "Handed off again, to the queue " + escape(ev.Queue) + reason
	case crm.EventClaim:
		s = who + " took the conversation"
	case crm.EventAssign:
		s = who + " assigned it to " + escape(a.agentName(ctx, ev.Agent))
	case crm.EventRelease:
		s = who + " put it back in the queue " + escape(ev.Queue)
	case crm.EventTransfer:
		if ev.Agent != "" {
			s = who + " transferred it to " + escape(a.agentName(ctx, ev.Agent)) + reason
		} else {
			s = who + " moved it to the queue " + escape(ev.Queue) + reason
		}
	case crm.EventReturn:
		s = who + " gave it back to the bot"
	case crm.EventResolve:
		s = who + " resolved the conversation"
	case crm.EventNote:
		if ev.Actor == slackActor {
			return ""
		}
		return "*Note by " + who + ":* " + escape(clip(ev.Text, lineRunes))
	case crm.EventTimeout:
		s = "Nobody took it in time: the customer was offered a reply by e-mail"
	case crm.EventRequeue:
		s = "Its agent did not answer in time: back in the queue " + escape(ev.Queue)
	case crm.EventContact:
		s = "The customer left an e-mail address for a reply"
	case crm.EventLeave:
		s = "The customer left the queue"
	default:
		s = escape(string(ev.Type)) + " by " + who
	}
	return "_" + s + "_"
}

// actorName names who made a lifecycle event, escaped.
func (a *Adapter) actorName(ctx context.Context, actor string) string {
	switch actor {
	case crm.ActorBot:
		return "The bot"
	case crm.ActorSystem, "":
		return "Parley"
	}
	return escape(a.agentName(ctx, actor))
}

// agentClipMrkdwn cuts escaped mrkdwn to at most n runes without cutting
// an entity ("&amp;") in two.
func agentClipMrkdwn(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	cut := strings.TrimSuffix(clip(s, n), "…")
	if amp := strings.LastIndexByte(cut, '&'); amp >= 0 && amp >= len(cut)-5 && !strings.Contains(cut[amp:], ";") {
		cut = cut[:amp]
	}
	return cut + "…"
}
