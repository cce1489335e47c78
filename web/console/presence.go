package console

import (
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/crm"
)

// Presence values (PROTOCOL.md).
const (
	presenceOnline  = "online"
	presenceAway    = "away"
	presenceOffline = "offline"
)

// Viewer is an agent who has a conversation open in the console, and
// whether they are typing in it.
type Viewer struct {
	Login  string `json:"login"`
	Name   string `json:"name"`
	Typing bool   `json:"typing"`
}

// agentPresence is an agent's open sockets and what each says.
type agentPresence struct {
	agent   crm.Agent
	sockets map[*client]string // presenceOnline or presenceAway
}

// presence returns login's presence: online while one of its sockets says
// online, away while it has sockets that all say away, offline without a
// socket.
func (h *hub) presence(login string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.presenceLocked(login)
}

// presenceLocked is presence with h.mu held.
func (h *hub) presenceLocked(login string) string {
	ap := h.agents[login]
	if ap == nil || len(ap.sockets) == 0 {
		return presenceOffline
	}
	for _, p := range ap.sockets {
		if p == presenceOnline {
			return presenceOnline
		}
	}
	return presenceAway
}

// onlineAgents returns the agents whose presence is online, by login.
func (h *hub) onlineAgents() []crm.Agent {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []crm.Agent
	for login, ap := range h.agents {
		if h.presenceLocked(login) == presenceOnline {
			out = append(out, ap.agent)
		}
	}
	slices.SortFunc(out, func(a, b crm.Agent) int { return strings.Compare(a.Login, b.Login) })
	return out
}

// admit counts a socket about to be upgraded in h.sockets, which close
// waits for; false (and nothing counted) when the hub is closed.
func (h *hub) admit() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.sockets.Add(1)
	return true
}

// register adds a new socket (online) and returns the seq of the newest
// frame, which its hello carries; false when the hub is closed.
func (h *hub) register(cl *client) (uint64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return 0, false
	}
	hello := h.seq
	h.clients[cl] = struct{}{}
	login := cl.s.agent.Login
	before := h.presenceLocked(login)
	ap := h.agents[login]
	if ap == nil {
		ap = &agentPresence{sockets: make(map[*client]string)}
		h.agents[login] = ap
	}
	ap.agent = cl.s.agent // the newest record of the agent
	ap.sockets[cl] = presenceOnline
	h.presenceChanged(login, before)
	return hello, true
}

// unregister removes a socket that ended: its views (and typing) and its
// share of the agent's presence.
func (h *hub) unregister(cl *client) {
	h.mu.Lock()
	login := cl.s.agent.Login
	_, ok := h.clients[cl]
	if !ok {
		h.mu.Unlock()
		return
	}
	delete(h.clients, cl)
	before := h.presenceLocked(login)
	if ap := h.agents[login]; ap != nil {
		delete(ap.sockets, cl)
		if len(ap.sockets) == 0 {
			delete(h.agents, login)
		}
	}
	h.presenceChanged(login, before)
	stopped := h.viewLocked(cl, crm.Conversation{})
	h.mu.Unlock()
	h.typingStopped(stopped)
}

// setPresence records what a socket says (online or away).
func (h *hub) setPresence(cl *client, p string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	login := cl.s.agent.Login
	ap := h.agents[login]
	if ap == nil {
		return
	}
	if _, ok := ap.sockets[cl]; !ok {
		return
	}
	before := h.presenceLocked(login)
	ap.sockets[cl] = p
	h.presenceChanged(login, before)
}

// presenceChanged publishes login's presence when it is not before; h.mu
// is held.
func (h *hub) presenceChanged(login, before string) {
	now := h.presenceLocked(login)
	if now == before {
		return
	}
	h.publishLocked(presenceBody{Kind: "presence", Agent: login, Presence: now}, audience{})
}

// viewing is what a socket shows: the conversation open in it, and until
// when its agent is typing there (zero: not typing). Guarded by hub.mu.
type viewing struct {
	conv        crm.Conversation // trimmed; ID "" for none
	typingUntil time.Time
}

// viewers returns the agents viewing the conversation, by login, each once
// (typing when one of their sockets is).
func (h *hub) viewers(conversationID string) []Viewer {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.viewersLocked(conversationID)
}

func (h *hub) viewersLocked(id string) []Viewer {
	set := h.views[id]
	out := make([]Viewer, 0, len(set))
	for cl := range set {
		a := cl.s.agent
		i := slices.IndexFunc(out, func(v Viewer) bool { return v.Login == a.Login })
		if i < 0 {
			out = append(out, Viewer{Login: a.Login, Name: a.Name})
			i = len(out) - 1
		}
		if !cl.view.typingUntil.IsZero() {
			out[i].Typing = true
		}
	}
	slices.SortFunc(out, func(a, b Viewer) int { return strings.Compare(a.Login, b.Login) })
	return out
}

// typingStop is an agent who stopped typing in a conversation: the
// customer's widget is told.
type typingStop struct{ conv, login string }

// setView makes cl show conv (trimmed; the zero value for none).
func (h *hub) setView(cl *client, conv crm.Conversation) {
	h.mu.Lock()
	stopped := h.viewLocked(cl, conv)
	h.mu.Unlock()
	h.typingStopped(stopped)
}

// viewLocked moves cl to conv, stopping its typing in the conversation it
// showed before, and publishes the viewers of both; h.mu is held. It
// returns the typing that stopped, for the engine.
func (h *hub) viewLocked(cl *client, conv crm.Conversation) []typingStop {
	old := cl.view.conv
	if old.ID == conv.ID {
		cl.view.conv = conv
		return nil
	}
	var stopped []typingStop
	if old.ID != "" {
		login := cl.s.agent.Login
		wasTyping := h.agentTyping(old.ID, login)
		delete(h.views[old.ID], cl)
		if len(h.views[old.ID]) == 0 {
			delete(h.views, old.ID)
		}
		if wasTyping && !h.agentTyping(old.ID, login) {
			stopped = append(stopped, typingStop{old.ID, login})
		}
		h.publishViewers(old)
	}
	cl.view = viewing{conv: conv}
	if conv.ID != "" {
		if h.views[conv.ID] == nil {
			h.views[conv.ID] = make(map[*client]bool)
		}
		h.views[conv.ID][cl] = true
		h.publishViewers(conv)
	}
	return stopped
}

// setTyping records that cl's agent is typing (or stopped) in conv
// (trimmed), which cl then shows. It reports whether the agent's typing
// there changed, for the engine to tell the customer.
func (h *hub) setTyping(cl *client, conv crm.Conversation, typing bool, now time.Time) (changed bool) {
	h.mu.Lock()
	stopped := h.viewLocked(cl, conv)
	login, id := cl.s.agent.Login, conv.ID
	before := h.agentTyping(id, login)
	if typing {
		cl.view.typingUntil = now.Add(typingTTL)
	} else {
		cl.view.typingUntil = time.Time{}
	}
	after := h.agentTyping(id, login)
	if before != after {
		h.publishViewers(conv)
	}
	h.mu.Unlock()
	h.typingStopped(stopped)
	return before != after
}

// agentTyping reports whether one of login's sockets is typing in id; h.mu
// is held.
func (h *hub) agentTyping(id, login string) bool {
	for cl := range h.views[id] {
		if cl.s.agent.Login == login && !cl.view.typingUntil.IsZero() {
			return true
		}
	}
	return false
}

// expireTyping stops the typing not said again since typingTTL before now.
func (h *hub) expireTyping(now time.Time) {
	h.mu.Lock()
	var stopped []typingStop
	for id, set := range h.views {
		var conv crm.Conversation
		for cl := range set {
			if cl.view.typingUntil.IsZero() || now.Before(cl.view.typingUntil) {
				continue
			}
			login := cl.s.agent.Login
			cl.view.typingUntil = time.Time{}
			if !h.agentTyping(id, login) {
				stopped = append(stopped, typingStop{id, login})
				conv = cl.view.conv
			}
		}
		if conv.ID != "" {
			h.publishViewers(conv)
		}
	}
	h.mu.Unlock()
	h.typingStopped(stopped)
}

// typingStopped tells the engine (and so the customer) that agents
// stopped typing. It is called without h.mu.
func (h *hub) typingStopped(stops []typingStop) {
	for _, s := range stops {
		h.c.cfg.Engine.Typing(s.conv, crm.SenderAgent, s.login, false)
	}
}

// publishViewers sends the viewers of conv to the agents who may see it;
// h.mu is held. The audience is decided by the conversation as the hub
// knows it now, else as the viewer's socket read it.
func (h *hub) publishViewers(conv crm.Conversation) {
	h.cmu.Lock()
	if known, ok := h.convs[conv.ID]; ok {
		conv = known
	}
	h.cmu.Unlock()
	h.publishLocked(viewersBody{Kind: "viewers", ConversationID: conv.ID, Viewers: h.viewersLocked(conv.ID)},
		audience{conv: &conv})
}

// forget drops the viewers of a conversation that no longer exists.
func (h *hub) forget(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for cl := range h.views[id] {
		cl.view = viewing{}
	}
	delete(h.views, id)
}
