package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// phrases are what the simulated customers say to the bot: in scope and
// never a request for a person. "%s" is one of orderIDs.
var phrases = []string{
	"hi there",
	"where is my order %s?",
	"how long does shipping take?",
	"what is your return policy?",
	"which payment methods do you accept?",
	"do you ship abroad?",
	"how do I reset my password?",
	"thanks!",
}

// handoffPhrase is what a customer who wants a person says.
const handoffPhrase = "I want to talk to a person"

// orderIDs are orders of 20 different customers of the demo shop.
var orderIDs = []string{"1001", "1003", "1004", "1006", "1008", "1011", "1013", "1014", "1017", "1020",
	"1021", "1023", "1026", "1028", "1029", "1032", "1035", "1036", "1039", "1041"}

// replyTimeout is how long a customer waits for the bot's reply before it
// gives up on it (the check at the end still looks for it) and goes on.
const replyTimeout = 20 * time.Second

// seenMsg is a message as a customer received it live.
type seenMsg struct {
	sender, text, clientID string
}

// pending is the customer's message waiting for its ack and its reply.
type pending struct {
	id, text  string
	sent      time.Time
	ackSeq    uint64
	disrupted bool // its socket dropped before the reply came
}

// resume is one socket that dropped and the welcome that followed on
// another (or the same) node.
type resume struct {
	killed bool // the socket was on the node the benchmark killed
	took   time.Duration
}

// customer is one simulated web chat visitor: it sends a message every
// interval, one at a time (the next after the reply to the last), asks
// for a person once at handoffAt when that is set, and while a person
// holds the conversation waits for it to be resolved. On a dropped socket
// it says hello again on the next node with its token and the highest seq
// up to which it has every message, and resends what was not acknowledged.
type customer struct {
	idx       int
	cl        *cluster
	rng       *rand.Rand
	handoffAt time.Time // zero: never asks for a person
	// Everything below is the customer goroutine's own until run returns.
	token, conv string
	state       string
	sock        *sock
	pend        *pending
	asked       bool              // it asked for a person
	sent        map[string]string // client id: text
	acked       map[string]uint64 // client id: seq
	seen        map[uint64]seenMsg
	contig      uint64 // every seq 1..contig was received
	maxSeen     uint64
	k           int // messages sent
	latencies   []time.Duration
	disrupted   []time.Duration // reply latencies of messages whose socket dropped
	noReply     int
	outOfOrder  int // a message seq not above the last one on the same socket
	afterAck    int // a message seq below an ack received before it on the same socket
	duplicates  int // a seq received twice on the same socket
	resumes     []resume
	agentMsgs   int
	handoffs    int // times the conversation went to a person (state waiting)
	errs        map[string]int
	// onConnected, when set, is called once after the first connection
	// is made or has failed.
	onConnected func()
}

func newCustomer(idx int, cl *cluster, start time.Time, cfg config) *customer {
	cu := &customer{idx: idx, cl: cl, rng: rand.New(rand.NewPCG(uint64(idx), 11)), state: "bot",
		sent: map[string]string{}, acked: map[string]uint64{}, seen: map[uint64]seenMsg{}, errs: map[string]int{}}
	if every := handoffEvery(cfg.handoff); every > 0 && idx%every == 0 {
		// Asked between 10% and 60% of the run, so that the agents have
		// time to answer and resolve before it ends.
		d := float64(cfg.duration)
		cu.handoffAt = start.Add(time.Duration(d * (0.1 + 0.5*cu.rng.Float64())))
	}
	return cu
}

// handoffEvery turns the fraction of customers who ask for a person into
// "every n-th customer" (0: none).
func handoffEvery(frac float64) int {
	if frac <= 0 {
		return 0
	}
	return max(1, int(1/frac+0.5))
}

func (cu *customer) addError(kind string) { cu.errs[kind]++ }

// run converses from start until sendUntil, then waits up to stopAt for
// the outstanding reply and for a person to finish, and closes its socket.
func (cu *customer) run(ctx context.Context, start, sendUntil, stopAt time.Time, interval time.Duration) {
	s, w, err := cu.connect(ctx)
	if f := cu.onConnected; f != nil {
		cu.onConnected = nil
		f()
	}
	if err != nil {
		cu.addError("connect: " + err.Error())
		return
	}
	cu.attach(s, w)
	defer func() {
		if cu.sock != nil {
			cu.sock.node.sockets.Add(-1)
			cu.sock.close()
		}
	}()
	next := start.Add(time.Duration(cu.rng.Int64N(int64(interval))))
	tick := time.NewTimer(time.Until(next))
	defer tick.Stop()
	stop := time.NewTimer(time.Until(stopAt))
	defer stop.Stop()
	for {
		if time.Now().After(sendUntil) && cu.pend == nil && cu.state != "waiting" && cu.state != "agent" {
			return // nothing more to wait for
		}
		select {
		case <-ctx.Done():
			return
		case <-stop.C:
			if cu.pend != nil {
				cu.noReply++
			}
			return
		case <-tick.C:
			next = next.Add(interval)
			tick.Reset(time.Until(next))
			cu.tick(sendUntil)
		case f, ok := <-cu.sock.frames:
			if !ok {
				if !cu.reconnect(ctx) {
					return
				}
				continue
			}
			cu.handle(f)
		}
	}
}

// tick sends the next message when the customer is free to: the bot
// holds the conversation and the last message was answered (or given up).
func (cu *customer) tick(sendUntil time.Time) {
	now := time.Now()
	if p := cu.pend; p != nil && now.Sub(p.sent) > replyTimeout {
		cu.noReply++
		cu.pend = nil
	}
	if cu.pend != nil || now.After(sendUntil) || (cu.state != "bot" && cu.state != "resolved") {
		return
	}
	text := phrases[cu.rng.IntN(len(phrases))]
	if strings.Contains(text, "%s") {
		text = fmt.Sprintf(text, orderIDs[cu.idx%len(orderIDs)])
	}
	if !cu.handoffAt.IsZero() && !cu.asked && now.After(cu.handoffAt) {
		text, cu.asked = handoffPhrase, true
	}
	cu.k++
	p := &pending{id: fmt.Sprintf("c%d-%d", cu.idx, cu.k), text: text, sent: now}
	cu.sent[p.id] = text
	cu.pend = p
	if err := cu.sock.send(frame{V: 1, Type: "message", ClientID: p.id, Text: text}); err != nil {
		// The reader sees the socket end too; the resend follows the
		// reconnect.
		cu.addError("send failed")
	}
}

// attach makes s the customer's socket after its welcome w.
func (cu *customer) attach(s *sock, w frame) {
	cu.sock = s
	s.node.sockets.Add(1)
	cu.welcome(w)
}

func (cu *customer) welcome(w frame) {
	if w.Token != "" {
		cu.token = w.Token
	}
	if w.ConversationID != "" {
		cu.conv = w.ConversationID
	}
	if w.State != "" {
		cu.state = w.State
	}
}

// reconnect replaces a dropped socket: hello on the next node, then the
// resend of the unacknowledged message. It reports false when no node
// took the customer back.
func (cu *customer) reconnect(ctx context.Context) bool {
	old := cu.sock
	dropped := time.Now()
	old.node.sockets.Add(-1)
	cu.sock = nil
	old.conn.Close()
	s, w, err := cu.connect(ctx)
	if err != nil {
		if ctx.Err() == nil {
			cu.addError("reconnect: " + err.Error())
		}
		return false
	}
	cu.resumes = append(cu.resumes, resume{killed: old.node.dead.Load(), took: time.Since(dropped)})
	cu.attach(s, w)
	if p := cu.pend; p != nil {
		p.disrupted = true
		if p.ackSeq == 0 {
			if err := s.send(frame{V: 1, Type: "message", ClientID: p.id, Text: p.text}); err != nil {
				cu.addError("resend failed")
			}
		}
	}
	return true
}

// handle takes one frame after the welcome.
func (cu *customer) handle(f frame) {
	s := cu.sock
	switch f.Type {
	case "welcome":
		cu.welcome(f)
	case "ack":
		cu.receive(f.Seq, seenMsg{sender: "customer", text: cu.sent[f.ClientID], clientID: f.ClientID})
		if prev, ok := cu.acked[f.ClientID]; ok && prev != f.Seq {
			cu.addError(fmt.Sprintf("%s acknowledged at seq %d and %d", f.ClientID, prev, f.Seq))
		}
		cu.acked[f.ClientID] = f.Seq
		s.lastAck = max(s.lastAck, f.Seq)
		if p := cu.pend; p != nil && p.id == f.ClientID {
			p.ackSeq = f.Seq
			cu.checkAnswered()
		}
	case "message":
		if s.seen[f.Seq] {
			cu.duplicates++
		} else if f.Seq <= s.lastSeq {
			cu.outOfOrder++
		}
		if f.Seq < s.lastAck {
			cu.afterAck++
		}
		s.seen[f.Seq] = true
		s.lastSeq = max(s.lastSeq, f.Seq)
		cu.receive(f.Seq, seenMsg{sender: f.Sender, text: f.Text, clientID: f.ClientID})
		switch {
		case f.Sender == "agent":
			cu.agentMsgs++
		case f.Sender == "customer" && cu.pend != nil && f.ClientID == cu.pend.id:
			// Another turn stored and sent it before the ack came.
			cu.pend.ackSeq = f.Seq
			cu.acked[f.ClientID] = f.Seq
		}
		cu.checkAnswered()
	case "state":
		if f.State == "waiting" && cu.state != "waiting" {
			cu.handoffs++
		}
		cu.state = f.State
	case "error":
		cu.addError("error frame " + f.Code)
		if p := cu.pend; p != nil && f.ClientID == p.id && p.ackSeq == 0 {
			// Refused (rate_limited, too_large): nothing was stored, and
			// no reply will come. The next tick sends a new message.
			delete(cu.sent, p.id)
			cu.pend = nil
		}
	}
}

// receive keeps a message received live and checks that a seq always
// carries the same message.
func (cu *customer) receive(seq uint64, m seenMsg) {
	if prev, ok := cu.seen[seq]; ok && (prev.sender != m.sender || prev.text != m.text) {
		cu.addError(fmt.Sprintf("seq %d received as two different messages", seq))
	}
	cu.seen[seq] = m
	cu.maxSeen = max(cu.maxSeen, seq)
	for {
		if _, ok := cu.seen[cu.contig+1]; !ok {
			break
		}
		cu.contig++
	}
}

// checkAnswered ends the pending message's round trip once a bot or agent
// message after its ack has arrived (on this socket or an earlier one).
func (cu *customer) checkAnswered() {
	p := cu.pend
	if p == nil || p.ackSeq == 0 {
		return
	}
	for seq := p.ackSeq + 1; seq <= cu.maxSeen; seq++ {
		if m, ok := cu.seen[seq]; ok && (m.sender == "bot" || m.sender == "agent") {
			took := time.Since(p.sent)
			if p.disrupted {
				cu.disrupted = append(cu.disrupted, took)
			} else {
				cu.latencies = append(cu.latencies, took)
			}
			cu.pend = nil
			return
		}
	}
}
