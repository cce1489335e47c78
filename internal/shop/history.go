package shop

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/crm"
)

// historySeed fixes the demo history: the same seed and customers give the
// same conversations, messages, tickets and ratings.
const historySeed = 20260115

// History window: the past conversations fall between historyStart and
// historyEnd before now, so that they all lie before seed.json's own
// conversations and ratings (the newest history rating is older than every
// rating in seed.json).
const (
	historyStart = 330 * 24 * time.Hour
	historyEnd   = 40 * 24 * time.Hour
)

// topic is one thing customers write about in the history: the intent of
// the shop's NLU it stands for, the queue the domain routes it to, and how
// the conversation tends to go.
type topic struct {
	intent  string
	queue   string
	weight  float64 // how often it comes up
	trouble float64 // 0..1: how likely it is that something went wrong
	ticket  bool    // the bot opens a case for it
	order   bool    // its messages name an order
}

var topics = []topic{
	{"order_status", "orders", 14, 0.25, false, true},
	{"delivery_time", "orders", 8, 0.2, false, true},
	{"delivery_problem", "shipping", 9, 0.8, true, true},
	{"change_address", "orders", 4, 0.3, true, true},
	{"change_order", "orders", 4, 0.25, true, true},
	{"cancel_order", "orders", 5, 0.3, false, true},
	{"return_item", "returns", 8, 0.35, true, true},
	{"warranty", "returns", 3, 0.5, true, true},
	{"request_refund", "billing", 6, 0.5, true, true},
	{"refund_status", "billing", 7, 0.65, true, true},
	{"payment_problem", "billing", 5, 0.6, true, false},
	{"get_invoice", "billing", 4, 0.1, false, true},
	{"login_problem", "general", 4, 0.3, false, false},
	{"delete_account", "privacy", 2, 0.2, true, false},
	{"product_info", "general", 4, 0.05, false, false},
	{"complaint", "care", 6, 0.9, true, false},
}

// openings are first requests per intent; {order} is an order number of the
// customer. Written by the team for the synthetic history.
var openings = map[string][]string{
	"order_status": {
		"where is my order {order}?", "can you tell me the status of order {order}",
		"has order {order} shipped yet?", "I'd like an update on my order {order}",
		"what's happening with order {order}", "hi, any news on my order {order}?",
	},
	"delivery_time": {
		"when will order {order} arrive?", "how long until my order {order} gets here",
		"is order {order} going to arrive this week?", "what day should I expect order {order}",
	},
	"delivery_problem": {
		"my parcel for order {order} never arrived", "the tracking for {order} says delivered but I have nothing",
		"order {order} arrived damaged", "the box for order {order} was left open and items are missing",
		"the courier lost my package, order {order}",
	},
	"change_address": {
		"I need to change the delivery address for order {order}", "can you send order {order} to my work address instead",
		"I moved, please update the shipping address on {order}",
	},
	"change_order": {
		"can I change the size in order {order}", "I want to swap the colour of an item in order {order}",
		"please add a second cable to order {order}",
	},
	"cancel_order": {
		"please cancel order {order}", "I don't need order {order} anymore, cancel it",
		"can I still cancel my order {order}?",
	},
	"return_item": {
		"I want to return the jacket from order {order}", "how do I send back an item from order {order}",
		"the shoes from {order} don't fit, I'd like to return them",
	},
	"warranty": {
		"the headphones from order {order} stopped working", "my kettle from order {order} broke after two months, is it under warranty",
		"the charger from {order} is faulty, can I get it repaired",
	},
	"request_refund": {
		"I'd like a refund for order {order}", "please refund the item I returned from order {order}",
		"can I get my money back for order {order}",
	},
	"refund_status": {
		"where is my refund for order {order}?", "I returned order {order} weeks ago and still no refund",
		"when will the refund for {order} reach my card",
	},
	"payment_problem": {
		"my card was charged twice", "the payment keeps failing at checkout",
		"I was charged but the order didn't go through", "why was my card declined?",
	},
	"get_invoice": {
		"can I get an invoice for order {order}", "please send me the receipt for order {order}",
		"I need a VAT invoice for {order}",
	},
	"login_problem": {
		"I can't log in to my account", "the login page keeps saying my password is wrong",
		"I never get the password reset e-mail",
	},
	"delete_account": {
		"please delete my account", "I want all my data removed", "how do I close my account for good",
	},
	"product_info": {
		"is the blue backpack waterproof?", "what sizes does the wool coat come in",
		"does the desk lamp work with a dimmer", "how long does the speaker battery last",
	},
	"complaint": {
		"I'm not happy with the service I got", "your delivery company was rude to me",
		"the quality of the last thing I bought was poor", "I'm really disappointed with my last order",
	},
}

// Follow-ups: a calm second message, a rephrase when the bot did not help,
// frustration, something the bot cannot help with, and the last words.
var (
	greetings = []string{"hi", "hello", "hi there", "good morning", "hey"}
	calmNext  = []string{
		"ok, and how long will that take?", "thanks, can you check again tomorrow?", "alright, what do I do next?",
		"is there anything I need to do?", "ok thanks for checking",
	}
	rephrase = []string{
		"that's not what I asked", "no, I mean my order {order}", "you didn't answer my question",
		"again: I need help with order {order}", "that doesn't help me",
	}
	annoyed = []string{
		"this is ridiculous", "I've asked three times now!!", "this is a waste of time",
		"unacceptable, I want this sorted today", "I'm fed up with waiting", "third time I ask about this",
		"worst service ever", "I'm sick of this",
	}
	shouting = []string{
		"WHERE IS MY ORDER", "I WANT A PERSON NOW", "THIS IS NOT OK", "ANSWER MY QUESTION",
	}
	offTopic = []string{
		"can you recommend a good film", "what's the weather like today", "tell me a joke",
		"who won the match last night",
	}
	askPerson = []string{
		"can I talk to a human please", "I want to speak to someone", "put me through to an agent",
	}
	closing  = []string{"ok thanks", "thank you", "great, thanks", "fine", "ok"}
	comments = map[bool][]string{
		true:  {"took far too long", "nobody solved my problem", "had to repeat myself", "still waiting"},
		false: {"quick and friendly", "sorted in minutes", "helpful", ""},
	}
	agentLines = map[string][]string{
		"orders":   {"Hi, I've checked your order and updated it for you.", "Thanks for waiting: your order is on its way now."},
		"shipping": {"I'm sorry about the delivery. I've opened a claim with the carrier and a replacement is on its way."},
		"returns":  {"I've sent you a return label by e-mail; once the item arrives we'll sort it out."},
		"billing":  {"I've checked the payment: the refund was issued today and should reach you within 5 working days."},
		"privacy":  {"Your request is noted; we'll confirm by e-mail once your data is removed."},
		"care":     {"I'm sorry this happened. I've noted it and added a voucher to your account."},
		"general":  {"Thanks for your patience; I've sorted this out for you."},
	}
	agentsByQueue = map[string]string{
		"orders": "sam", "shipping": "lee", "returns": "lee", "billing": "sam", "privacy": "ada", "care": "ada", "general": "sam",
	}
)

var queues = []string{"orders", "shipping", "returns", "billing", "privacy", "care", "general"}

// custState is what the history knows about a customer as it unfolds.
type custState struct {
	c         crm.Customer
	orders    []crm.Order // the seed's orders, oldest first
	lastScore int         // newest rating so far (0: none)
	openUntil []time.Time // when each of the customer's cases was solved
	seedRated bool        // seed.json rates the customer: its ratings stay the newest
	convs     []time.Time // start of each history conversation, in order
}

// History returns the demo shop's past conversations: a few hundred
// SYNTHETIC conversations of the seed's customers, with their messages, the
// queue and priority agents gave the ones handed to them, the cases the
// bot opened (all solved by now) and the ratings customers left. It is
// generated from a fixed seed, so it is the same on every run; times are
// relative to now like Seed's. The routing and satisfaction models train on
// it when the store holds nothing better.
//
// The patterns are plausible, not measured: the queue follows the topic
// (with some mis-filed conversations), priority rises with tier, anger, a
// low last rating and open cases, and a low rating is likelier after
// trouble, anger and repeated questions, all with noise. The history ends
// before seed.json's own conversations; a customer's newest rating is the
// one seed.json gives, or, for customers seed.json does not rate, 3 or
// better, so the demo's story (Chloe's last rating of 2, say) stays as
// written. It fails only if the embedded seed is broken.
func History(now time.Time) (crm.Snapshot, error) {
	seed, err := Seed(now)
	if err != nil {
		return crm.Snapshot{}, err
	}
	return history(seed, now), nil
}

func history(seed crm.Snapshot, now time.Time) crm.Snapshot {
	rng := rand.New(rand.NewPCG(historySeed, 0x5eed))
	states := make(map[string]*custState, len(seed.Customers))
	ids := make([]string, 0, len(seed.Customers))
	for _, c := range seed.Customers {
		states[c.ID] = &custState{c: c}
		ids = append(ids, c.ID)
	}
	for _, o := range seed.Orders {
		if s := states[o.CustomerID]; s != nil {
			s.orders = append(s.orders, o)
		}
	}
	for _, f := range seed.Feedback {
		if s := states[f.CustomerID]; s != nil {
			s.seedRated = true
		}
	}

	// When each customer writes: busier customers (higher tiers, more
	// orders) write more often.
	type slot struct {
		at   time.Time
		cust string
	}
	var slots []slot
	from, to := now.Add(-historyStart), now.Add(-historyEnd)
	for _, id := range ids {
		s := states[id]
		n := 8 + rng.IntN(6) + len(s.orders)
		if s.c.Tier == crm.TierGold || s.c.Tier == crm.TierPlatinum {
			n += 3
		}
		start := from
		if s.c.CreatedAt.After(start) {
			start = s.c.CreatedAt
		}
		span := to.Sub(start)
		if span <= 0 {
			continue
		}
		for range n {
			at := start.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Minute)
			s.convs = append(s.convs, at)
			slots = append(slots, slot{at, id})
		}
		slices.SortFunc(s.convs, func(a, b time.Time) int { return a.Compare(b) })
		slices.SortFunc(s.orders, func(a, b crm.Order) int { return a.PlacedAt.Compare(b.PlacedAt) })
	}
	slices.SortFunc(slots, func(a, b slot) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return strings.Compare(a.cust, b.cust)
	})

	var weights []float64
	for _, t := range topics {
		weights = append(weights, t.weight)
	}
	g := &histGen{rng: rng}
	for i, sl := range slots {
		s := states[sl.cust]
		last := sl.at.Equal(s.convs[len(s.convs)-1])
		g.conversation(fmt.Sprintf("conv-hist-%03d", i+1), s, topics[pick(rng, weights)], sl.at, last)
	}
	return g.snap
}

// histGen builds the history snapshot.
type histGen struct {
	rng     *rand.Rand
	snap    crm.Snapshot
	tickets int
}

func pick(rng *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := rng.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

func (g *histGen) one(list []string) string { return list[g.rng.IntN(len(list))] }

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// conversation writes one past conversation of s's customer about tp,
// starting at at. last marks the customer's last history conversation.
func (g *histGen) conversation(id string, s *custState, tp topic, at time.Time, last bool) {
	rng := g.rng
	vip := s.c.Tier == crm.TierGold || s.c.Tier == crm.TierPlatinum
	open := 0
	for _, u := range s.openUntil {
		if u.After(at) {
			open++
		}
	}
	var orders []crm.Order
	for _, o := range s.orders {
		if o.PlacedAt.Before(at) {
			orders = append(orders, o)
		}
	}
	orderID := fmt.Sprintf("%d", 2000+rng.IntN(900)) // an order the shop no longer lists
	if len(orders) > 0 {
		orderID = orders[len(orders)-1-rng.IntN(min(2, len(orders)))].ID
	}

	// The customer's mood: trouble with the topic, a bad last experience and
	// open cases make anger likelier.
	troubled := rng.Float64() < tp.trouble
	anger := rng.NormFloat64()*0.8 - 0.6
	if troubled {
		anger += 1.0
	}
	if s.lastScore > 0 && s.lastScore <= 2 {
		anger += 0.6
	}
	anger += 0.5 * float64(open)
	// The demo's story: a customer seed.json does not rate leaves the
	// history on a good note.
	calmEnd := last && !s.seedRated
	if calmEnd {
		anger, troubled = -1.5, false
	}
	angry := anger > 0.6
	furious := anger > 1.4

	t := at
	say := func(sender crm.Sender, agent, text string) {
		g.snap.Messages = append(g.snap.Messages, crm.Message{
			ConversationID: id, Sender: sender, AgentID: agent, Text: text, CreatedAt: t,
		})
		t = t.Add(time.Duration(30+rng.IntN(150)) * time.Second)
	}
	fill := func(s string) string { return strings.ReplaceAll(s, "{order}", orderID) }
	first := g.one(openings[tp.intent])
	if !tp.order {
		first = strings.ReplaceAll(first, " {order}", "")
	}
	if rng.Float64() < 0.3 {
		say(crm.SenderCustomer, "", g.one(greetings))
		say(crm.SenderBot, "", "Hello! How can I help?")
	}
	say(crm.SenderCustomer, "", fill(first))
	say(crm.SenderBot, "", "Let me look into that for you.")

	repeats := 0
	if troubled && rng.Float64() < 0.6 {
		repeats = 1 + rng.IntN(2)
	}
	for range repeats {
		say(crm.SenderCustomer, "", fill(g.one(rephrase)))
		say(crm.SenderBot, "", "Sorry, could you say that another way?")
	}
	if rng.Float64() < 0.12 {
		say(crm.SenderCustomer, "", g.one(offTopic))
		say(crm.SenderBot, "", "Sorry, that's outside what I can help with here.")
	}
	if angry {
		line := g.one(annoyed)
		if furious && rng.Float64() < 0.5 {
			line = g.one(shouting)
		}
		say(crm.SenderCustomer, "", line)
		say(crm.SenderBot, "", "I'm sorry about this.")
	} else if rng.Float64() < 0.4 {
		say(crm.SenderCustomer, "", g.one(calmNext))
		say(crm.SenderBot, "", "Happy to help with that.")
	}

	// Handed to a person: trouble, anger and the customer's own request.
	handed := rng.Float64() < sigmoid(-1.2+1.6*b2f(troubled)+1.2*b2f(angry)+0.5*float64(repeats)+0.4*b2f(vip))
	if calmEnd {
		handed = false
	}
	conv := crm.Conversation{ID: id, Channel: crm.ChannelWeb, CustomerID: s.c.ID, State: crm.StateResolved, Priority: crm.PriorityNormal, CreatedAt: at}
	if rng.Float64() < 0.15 {
		conv.Channel = crm.ChannelSlack
	}
	if handed {
		if rng.Float64() < 0.35 {
			say(crm.SenderCustomer, "", g.one(askPerson))
		}
		queue := tp.queue
		switch r := rng.Float64(); {
		case r < 0.06:
			queue = queues[rng.IntN(len(queues))] // filed by mistake, or the customer changed subject
		case r < 0.16 && furious:
			queue = "care" // furious customers often end with customer care
		}
		conv.Queue = queue
		conv.Priority = priorityFor(rng, vip, angry, furious, s.lastScore, open, tp)
		conv.AssignedAgent = agentsByQueue[queue]
		say(crm.SenderBot, "", "I'm passing you to a person on our "+queue+" team.")
		// Agents answer sooner for urgent cases.
		t = t.Add(time.Duration(2+rng.IntN(40)/(1+conv.Priority.Rank())) * time.Minute)
		say(crm.SenderAgent, conv.AssignedAgent, g.one(agentLines[queue]))
	}
	say(crm.SenderCustomer, "", g.one(closing))
	conv.UpdatedAt, conv.ClosedAt = t, t
	g.snap.Conversations = append(g.snap.Conversations, conv)

	if tp.ticket && (troubled || handed) && rng.Float64() < 0.7 {
		g.tickets++
		solved := at.Add(time.Duration(2+rng.IntN(18)) * 24 * time.Hour) // before now: the history ends 40 days ago
		q := tp.queue
		if conv.Queue != "" {
			q = conv.Queue
		}
		g.snap.Tickets = append(g.snap.Tickets, crm.Ticket{
			ID: fmt.Sprintf("T-H%03d", g.tickets), CustomerID: s.c.ID, Subject: fill(first), Topic: tp.intent,
			Status: crm.TicketClosed, Queue: q, Priority: conv.Priority, Conversations: []string{id},
			History: []crm.TicketEvent{
				{At: at, Actor: "bot", Note: "opened from conversation " + id},
				{At: solved, Actor: agentsByQueue[q], Note: "solved"},
			},
			CreatedAt: at, UpdatedAt: solved,
		})
		s.openUntil = append(s.openUntil, solved)
	}

	// The rating: likelier low after trouble, anger, repeats and when the
	// bot could not finish alone.
	rated := rng.Float64() < 0.7 || calmEnd
	if !rated {
		return
	}
	pLow := sigmoid(-2.8 + 1.0*b2f(troubled) + 1.8*b2f(angry) + 0.9*b2f(furious) + 0.6*float64(repeats) + 0.4*b2f(handed) - 0.3*b2f(vip))
	low := rng.Float64() < pLow && !calmEnd
	score := 3 + rng.IntN(3)
	if low {
		score = 1 + rng.IntN(2)
	}
	delay := time.Duration(1+rng.IntN(30)) * time.Hour
	if calmEnd {
		delay = 48 * time.Hour // after every earlier rating of the customer
	}
	g.snap.Feedback = append(g.snap.Feedback, crm.Feedback{
		ID: "fb-" + id, ConversationID: id, CustomerID: s.c.ID, Score: score,
		Comment: g.one(comments[low]), CreatedAt: t.Add(delay),
	})
	s.lastScore = score
}

// priorityFor is the priority an agent gives a handed-off conversation:
// higher for top tiers, anger, a low last rating, open cases and trouble
// topics, with noise.
func priorityFor(rng *rand.Rand, vip, angry, furious bool, lastScore, open int, tp topic) crm.Priority {
	score := 0.8*b2f(vip) + 1.0*b2f(angry) + 0.8*b2f(furious) + 0.5*float64(min(open, 2)) + rng.NormFloat64()*0.45
	if lastScore > 0 && lastScore <= 2 {
		score += 0.9
	}
	if tp.intent == "complaint" || tp.intent == "delivery_problem" {
		score += 0.4
	}
	if tp.intent == "product_info" || tp.intent == "get_invoice" {
		score -= 0.8
	}
	switch {
	case score < -0.3:
		return crm.PriorityLow
	case score < 0.9:
		return crm.PriorityNormal
	case score < 2.0:
		return crm.PriorityHigh
	default:
		return crm.PriorityUrgent
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
