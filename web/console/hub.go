package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// Hub defaults (PROTOCOL.md). Tests shorten some of them on the hub before
// it serves a socket.
const (
	// ringSize is how many recent frames are kept for resume.
	ringSize = 4096
	// subBuffer is the hub's subscription to the engine: events that may
	// pile up while the hub turns one into a frame (a row reads the store).
	// Past it the engine drops the hub, which then resubscribes and tells
	// every socket to reset.
	subBuffer = 4096
	// convCacheSize bounds the conversations whose queue and assignee the
	// hub keeps to decide who sees an event; past it the cache starts over.
	convCacheSize = 20000
	// assignQueue is how many auto-assignments may wait for the assigner.
	assignQueue = 1024
	// typingTTL is how long an agent's "typing" lasts without being said
	// again.
	typingTTL = 10 * time.Second
	// sweepEvery is how often expired typing is cleared.
	sweepEvery = time.Second
	// resubscribeMax is the longest wait before the hub subscribes again
	// after the engine ended its subscription.
	resubscribeMax = 5 * time.Second
)

// frame is one frame about the world, kept in the ring: its seq, its JSON,
// and who may get it.
type frame struct {
	seq  uint64
	data []byte
	aud  audience
}

// audience says which agents get a frame. The zero value is everyone.
type audience struct {
	// conv (and prev, when set) limit it to the agents who may see the
	// conversation (as it is now, or as it was before the change the frame
	// reports, so that an agent learns it left their view).
	conv, prev *crm.Conversation
	// queue limits an alert to the agents who serve the queue and are
	// online (alert set) when it is raised: online holds their logins, taken
	// when the frame is kept, so that an agent who comes back later is not
	// alerted by a frame still on its way.
	queue  string
	alert  bool
	online map[string]bool
	// to limits it to one agent.
	to string
}

// hub fans the engine's events out to the agents' sockets as frames with a
// per-process seq, keeps the latest ringSize of them for resume, tracks
// presence and viewers, and (with AutoAssign) gives waiting conversations
// to online agents. Its goroutines: run (the subscription), the assigner
// (started by run), and each socket's reader and writer (ws.go).
type hub struct {
	c   *Console
	log *slog.Logger

	// Settings, fixed before the first socket (tests shorten them).
	writeTimeout time.Duration
	pingInterval time.Duration
	pongTimeout  time.Duration
	resumeGrace  time.Duration // how long a new socket waits for resume before its stream starts
	readLimit    int64
	ringSize     int

	mu      sync.Mutex
	seq     uint64                      // guarded by mu: seq of the newest frame
	ring    []frame                     // guarded by mu: frame seq s at ring[s%len(ring)]
	kept    int                         // guarded by mu: frames in the ring
	clients map[*client]struct{}        // guarded by mu: open sockets
	agents  map[string]*agentPresence   // guarded by mu: agents with a socket, by login
	views   map[string]map[*client]bool // guarded by mu: sockets viewing each conversation
	closed  bool                        // guarded by mu: close was called

	// The conversations the hub has seen, trimmed (see trim), by id: who
	// sees their events. cmu is never held while taking mu.
	cmu   sync.Mutex
	convs map[string]crm.Conversation // guarded by cmu

	assignCh chan assignJob // run to the assigner
	sockets  sync.WaitGroup // every socket's goroutines
}

// newHub returns the hub of c. Its seq starts at the clock's time in
// microseconds, so that a restarted server's seqs are above the old one's
// and a resume from before the restart gets reset, not frames it never saw.
func newHub(c *Console) *hub {
	h := &hub{
		c: c, log: c.log,
		writeTimeout: 10 * time.Second, pingInterval: 30 * time.Second, pongTimeout: 60 * time.Second,
		resumeGrace: time.Second, readLimit: 64 << 10, ringSize: ringSize,
		clients:  make(map[*client]struct{}),
		agents:   make(map[string]*agentPresence),
		views:    make(map[string]map[*client]bool),
		convs:    make(map[string]crm.Conversation),
		assignCh: make(chan assignJob, assignQueue),
	}
	h.seq = uint64(max(0, c.cfg.Now().UnixMicro()))
	return h
}

// run follows every event of the engine until ctx ends, and runs the
// assigner and the expiry of typing meanwhile. When the engine drops the
// subscription (the hub fell more than subBuffer events behind) it
// subscribes again and then sends every socket a reset: frames were lost.
// A subscription that ends without any event (the engine's stream is
// closed) is tried again after a pause that grows to resubscribeMax.
func (h *hub) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); h.assigner(ctx) }()
	go func() { defer wg.Done(); h.sweepTyping(ctx) }()
	defer wg.Wait()
	const firstWait = 50 * time.Millisecond
	wait, lost := firstWait, false
	for ctx.Err() == nil {
		sub, unsubscribe := h.c.cfg.Engine.Subscribe("", subBuffer)
		if lost {
			// After the new subscription: what the sockets reload by
			// REST then includes everything it will not tell.
			h.publishReset()
		}
		lost = h.follow(ctx, sub)
		unsubscribe()
		if ctx.Err() != nil {
			return
		}
		if lost {
			h.log.Warn("console hub fell behind the engine; sockets reset")
			wait = firstWait
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		wait = min(2*wait, resubscribeMax)
	}
}

// follow turns events into frames until the subscription or ctx ends. got
// reports whether any event came: a subscription the engine dropped for
// lagging has (its buffer was full); a closed stream's has none.
func (h *hub) follow(ctx context.Context, sub <-chan dialog.Event) (got bool) {
	for {
		select {
		case <-ctx.Done():
			return got
		case ev, ok := <-sub:
			if !ok {
				return got
			}
			got = true
			h.event(ctx, ev)
		}
	}
}

// sweepTyping clears the typing of agents who stopped saying it.
func (h *hub) sweepTyping(ctx context.Context) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.expireTyping(h.c.cfg.Now())
		}
	}
}

// Event frames' bodies (PROTOCOL.md); publish adds "type" and "seq".
type (
	messageBody struct {
		Kind           string      `json:"kind"`
		ConversationID string      `json:"conversation_id"`
		Message        crm.Message `json:"message"`
	}
	stateBody struct {
		Kind         string `json:"kind"`
		Conversation Row    `json:"conversation"`
	}
	lifecycleBody struct {
		Kind  string    `json:"kind"`
		Event crm.Event `json:"event"`
	}
	typingBody struct {
		Kind           string     `json:"kind"`
		ConversationID string     `json:"conversation_id"`
		Sender         crm.Sender `json:"sender"`
		Agent          string     `json:"agent,omitempty"`
		Typing         bool       `json:"typing"`
	}
	viewersBody struct {
		Kind           string   `json:"kind"`
		ConversationID string   `json:"conversation_id"`
		Viewers        []Viewer `json:"viewers"`
	}
	presenceBody struct {
		Kind     string `json:"kind"`
		Agent    string `json:"agent"`
		Presence string `json:"presence"`
	}
	alertBody struct {
		Kind           string `json:"kind"`
		ConversationID string `json:"conversation_id"`
		Queue          string `json:"queue"`
		Reason         string `json:"reason"`
	}
	erasedBody struct {
		Kind           string `json:"kind"`
		ConversationID string `json:"conversation_id"`
	}
)

// Alert reasons (PROTOCOL.md).
const (
	reasonHandoff  = "handoff"
	reasonAssigned = "assigned"
	reasonRequeue  = "requeue"
	reasonTimeout  = "timeout"
)

// event turns one engine event into frames, and queues an auto-assignment
// when a conversation enters waiting.
func (h *hub) event(ctx context.Context, ev dialog.Event) {
	switch ev.Type {
	case dialog.EventMessage:
		if ev.Message == nil {
			return
		}
		conv, ok := h.known(ctx, ev.ConversationID)
		if !ok {
			return
		}
		m := *ev.Message
		m.Parse = nil // the NLU result is for the sidebar, read by REST
		h.publish(messageBody{Kind: "message", ConversationID: ev.ConversationID, Message: m}, audience{conv: &conv})
	case dialog.EventState:
		if ev.Conversation == nil {
			return
		}
		now := trim(*ev.Conversation)
		prev, known := h.remember(now)
		aud := audience{conv: &now}
		if known {
			aud.prev = &prev
		}
		h.publish(stateBody{Kind: "state", Conversation: h.c.row(ctx, *ev.Conversation)}, aud)
	case dialog.EventLifecycle:
		if ev.Lifecycle == nil {
			return
		}
		conv, ok := h.known(ctx, ev.ConversationID)
		if !ok {
			return
		}
		h.publish(lifecycleBody{Kind: "lifecycle", Event: *ev.Lifecycle}, audience{conv: &conv})
		h.lifecycle(conv, *ev.Lifecycle)
	case dialog.EventTyping:
		if ev.Sender != crm.SenderCustomer && ev.Sender != crm.SenderAgent {
			return // the bot's typing is for the customer
		}
		conv, ok := h.known(ctx, ev.ConversationID)
		if !ok {
			return
		}
		h.publish(typingBody{Kind: "typing", ConversationID: ev.ConversationID, Sender: ev.Sender, Agent: ev.Agent, Typing: ev.Typing},
			audience{conv: &conv})
	case dialog.EventErased:
		h.cmu.Lock()
		conv, known := h.convs[ev.ConversationID]
		delete(h.convs, ev.ConversationID)
		h.cmu.Unlock()
		var aud audience // not known: everyone may drop the id
		if known {
			aud.conv = &conv
		}
		h.publish(erasedBody{Kind: "erased", ConversationID: ev.ConversationID}, aud)
		h.forget(ev.ConversationID)
	}
}

// lifecycle sends the alerts of a stored lifecycle event and queues the
// auto-assignment of a conversation that entered waiting.
func (h *hub) lifecycle(conv crm.Conversation, e crm.Event) {
	queue := e.Queue
	if queue == "" {
		queue = conv.Queue
	}
	reason := ""
	exclude := false // the agent who held it before must not get it back
	switch e.Type {
	case crm.EventHandoff:
		reason = reasonHandoff
	case crm.EventRelease, crm.EventRequeue:
		reason, exclude = reasonRequeue, true
	case crm.EventTimeout:
		reason = reasonTimeout
	case crm.EventTransfer:
		if e.Agent != "" {
			h.alert(e.ConversationID, queue, reasonAssigned, audience{to: e.Agent})
			return
		}
		reason, exclude = reasonRequeue, true
	case crm.EventAssign:
		if e.Agent != "" {
			h.alert(e.ConversationID, queue, reasonAssigned, audience{to: e.Agent})
		}
		return
	default:
		return
	}
	h.alert(e.ConversationID, queue, reason, audience{queue: queue, alert: true})
	if h.c.cfg.AutoAssign {
		job := assignJob{conv: e.ConversationID, queue: queue, eventSeq: e.Seq, exclude: exclude}
		select {
		case h.assignCh <- job:
		default:
			h.log.Warn("console auto-assign queue full", "conversation", e.ConversationID)
		}
	}
}

func (h *hub) alert(id, queue, reason string, aud audience) {
	h.publish(alertBody{Kind: "alert", ConversationID: id, Queue: queue, Reason: reason}, aud)
}

// trim keeps what deciding an audience needs of a conversation.
func trim(c crm.Conversation) crm.Conversation {
	return crm.Conversation{ID: c.ID, State: c.State, Queue: c.Queue, AssignedAgent: c.AssignedAgent}
}

// remember stores c in the cache and returns what was there before.
func (h *hub) remember(c crm.Conversation) (prev crm.Conversation, known bool) {
	h.cmu.Lock()
	defer h.cmu.Unlock()
	prev, known = h.convs[c.ID]
	if !known && len(h.convs) >= convCacheSize {
		clear(h.convs) // rare: the store answers the misses
	}
	h.convs[c.ID] = c
	return prev, known
}

// conversation returns the trimmed conversation, from the cache or else
// the store (crm.ErrNotFound when there is none).
func (h *hub) conversation(ctx context.Context, id string) (crm.Conversation, error) {
	h.cmu.Lock()
	known, ok := h.convs[id]
	h.cmu.Unlock()
	if ok {
		return known, nil
	}
	c, err := h.c.cfg.Store.Conversation(ctx, id)
	if err != nil {
		return c, fmt.Errorf("read conversation: %w", err)
	}
	c = trim(c)
	h.cmu.Lock()
	defer h.cmu.Unlock()
	if known, ok := h.convs[id]; ok { // a state event came meanwhile
		return known, nil
	}
	if len(h.convs) >= convCacheSize {
		clear(h.convs)
	}
	h.convs[id] = c
	return c, nil
}

// known is conversation for an event: false when it cannot be read,
// logged unless the conversation is gone.
func (h *hub) known(ctx context.Context, id string) (crm.Conversation, bool) {
	c, err := h.conversation(ctx, id)
	if err != nil {
		if !errors.Is(err, crm.ErrNotFound) && ctx.Err() == nil {
			h.log.Error("console hub", "conversation", id, "err", err)
		}
		return c, false
	}
	return c, true
}

// publish encodes body as an event frame with the next seq, keeps it in the
// ring and wakes the sockets' writers; it never waits for a socket.
func (h *hub) publish(body any, aud audience) {
	b, err := json.Marshal(body)
	if err != nil {
		h.log.Error("console hub encode frame", "err", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.appendFrame(b, aud)
}

// publishLocked is publish with h.mu held, for the small frames about
// presence and viewers.
func (h *hub) publishLocked(body any, aud audience) {
	b, err := json.Marshal(body)
	if err != nil {
		h.log.Error("console hub encode frame", "err", err)
		return
	}
	h.appendFrame(b, aud)
}

// appendFrame makes the encoded body an event frame with the next seq;
// h.mu is held.
func (h *hub) appendFrame(body []byte, aud audience) {
	if aud.alert {
		aud.online = map[string]bool{}
		for login := range h.agents {
			aud.online[login] = h.presenceLocked(login) == presenceOnline
		}
	}
	h.seq++
	// {"kind":...} becomes {"type":"event","seq":N,"kind":...}.
	data := make([]byte, 0, len(body)+40)
	data = append(data, `{"type":"event","seq":`...)
	data = strconv.AppendUint(data, h.seq, 10)
	data = append(data, ',')
	data = append(data, body[1:]...)
	h.keep(frame{seq: h.seq, data: data, aud: aud})
}

// publishReset puts a reset in the ring for every socket: frames were lost
// (the engine dropped the hub), so each console reloads by REST.
func (h *hub) publishReset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	h.keep(frame{seq: h.seq, data: fmt.Appendf(nil, `{"type":"reset","seq":%d}`, h.seq)})
}

// keep stores f in the ring and wakes every writer; h.mu is held.
func (h *hub) keep(f frame) {
	if h.ring == nil {
		h.ring = make([]frame, h.ringSize)
	}
	h.ring[f.seq%uint64(len(h.ring))] = f
	h.kept = min(h.kept+1, len(h.ring))
	for cl := range h.clients {
		select {
		case cl.notify <- struct{}{}:
		default: // already woken
		}
	}
}

// framesAfter returns up to limit frames with seq above from that cl may get,
// and the seq up to which it looked (from when none). lost is true when
// frames after from have left the ring: the socket must reset.
func (h *hub) framesAfter(cl *client, from uint64, limit int) (out [][]byte, upto uint64, lost bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	upto = from
	if from >= h.seq {
		return nil, upto, false
	}
	if from < h.seq-uint64(h.kept) {
		return nil, upto, true
	}
	for s := from + 1; s <= h.seq && len(out) < limit; s++ {
		f := &h.ring[s%uint64(len(h.ring))]
		upto = s
		if h.deliverable(cl, f.aud) {
			out = append(out, f.data)
		}
	}
	return out, upto, false
}

// deliverable reports whether cl's agent gets a frame for aud; h.mu is
// held.
func (h *hub) deliverable(cl *client, aud audience) bool {
	a := cl.s.agent
	switch {
	case aud.to != "" && aud.to != a.Login:
		return false
	case aud.alert && (!serves(a, aud.queue) || !aud.online[a.Login]):
		return false
	case aud.conv == nil:
		return true
	}
	return h.c.visible(a, *aud.conv) || aud.prev != nil && h.c.visible(a, *aud.prev)
}

// serves reports whether a works queue: an agent without teams serves every
// queue, and a conversation with no queue is everyone's.
func serves(a crm.Agent, queue string) bool {
	return len(a.Teams) == 0 || queue == "" || slices.Contains(a.Teams, queue)
}

// latest returns the seq of the newest frame.
func (h *hub) latest() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq
}

// resumable reports whether every frame after `after` is still in the ring.
func (h *hub) resumable(after uint64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return after <= h.seq && after >= h.seq-uint64(h.kept)
}

// close ends every socket with 1001 and waits for their goroutines; later
// upgrades get 503.
func (h *hub) close() {
	h.mu.Lock()
	h.closed = true
	cls := make([]*client, 0, len(h.clients))
	for cl := range h.clients {
		cls = append(cls, cl)
	}
	h.mu.Unlock()
	for _, cl := range cls {
		cl.goingAway()
	}
	h.sockets.Wait()
}
