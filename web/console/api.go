package console

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/httpjson"
)

// Error codes of the console API that the REST API does not answer; the
// shared ones are in package httpjson. doc.go lists them all with their
// statuses.
const (
	codeCrossOrigin     = "cross_origin"
	codeCSRF            = "csrf"
	codeTooManyAttempts = "too_many_attempts"
	codeUnknownQueue    = "unknown_queue"
)

// Limits of the API.
const (
	maxBodyBytes  = 64 << 10 // a request body: a text and room for JSON escapes
	maxRows       = 500      // rows in one list
	maxTranscript = 1000     // latest messages in a conversation's detail
	maxPast       = 10       // the customer's other conversations in the sidebar
	maxIDBytes    = 200      // client_id, agent_id, queue
	maxTextBytes  = crm.DefaultMaxMessageBytes
)

// authed is a handler that runs with the request's session.
type authed func(w http.ResponseWriter, r *http.Request, s session)

// api returns the /console/api/ subtree, with JSON answers for unknown
// paths and methods too.
func (c *Console) api() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /console/api/login", c.login)
	mux.HandleFunc("POST /console/api/logout", c.logoutRoute)
	mux.HandleFunc("GET /console/api/me", c.reading(c.me))
	mux.HandleFunc("GET /console/api/conversations", c.reading(c.listConversations))
	mux.HandleFunc("GET /console/api/conversations/{id}", c.reading(c.conversation))
	mux.HandleFunc("POST /console/api/conversations/{id}/claim", c.changing(c.action(c.cfg.Engine.Claim)))
	mux.HandleFunc("POST /console/api/conversations/{id}/release", c.changing(c.action(c.cfg.Engine.Release)))
	mux.HandleFunc("POST /console/api/conversations/{id}/return", c.changing(c.action(c.cfg.Engine.Return)))
	mux.HandleFunc("POST /console/api/conversations/{id}/resolve", c.changing(c.action(c.cfg.Engine.Resolve)))
	mux.HandleFunc("POST /console/api/conversations/{id}/transfer", c.changing(c.transfer))
	mux.HandleFunc("POST /console/api/conversations/{id}/messages", c.changing(c.postMessage))
	mux.HandleFunc("POST /console/api/conversations/{id}/notes", c.changing(c.note))
	mux.HandleFunc("GET /console/api/canned", c.reading(c.listCanned))
	mux.HandleFunc("PUT /console/api/canned/{shortcut}", c.changing(c.putCanned))
	mux.HandleFunc("DELETE /console/api/canned/{shortcut}", c.changing(c.deleteCanned))
	mux.HandleFunc("GET /console/api/agents", c.reading(c.listAgents))
	mux.HandleFunc("GET /console/api/queues", c.reading(c.listQueues))
	mux.HandleFunc("GET /console/api/today", c.reading(c.serveToday))

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpjson.Route(mux, "console API", w, r)
	})
}

// reading runs h with the request's session: 401 without one.
func (c *Console) reading(h authed) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, e := c.session(w, r)
		if e != nil {
			e.Write(w)
			return
		}
		h(w, r, s)
	}
}

// changing runs h for a state-changing request: 403 cross_origin from
// another origin, 401 without a session, 403 csrf without the session's
// token.
func (c *Console) changing(h authed) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if e := checkOrigin(r); e != nil {
			e.Write(w)
			return
		}
		s, e := c.session(w, r)
		if e != nil {
			e.Write(w)
			return
		}
		if e := checkCSRF(r, s); e != nil {
			e.Write(w)
			return
		}
		h(w, r, s)
	}
}

// logoutRoute is logout for a request with a session (which needs its
// CSRF token); without one it only clears the cookie.
func (c *Console) logoutRoute(w http.ResponseWriter, r *http.Request) {
	if e := checkOrigin(r); e != nil {
		e.Write(w)
		return
	}
	s, e := c.session(w, r)
	if e == nil {
		if e := checkCSRF(r, s); e != nil {
			e.Write(w)
			return
		}
	}
	c.logout(w, r, s)
}

// actor is who the engine is told acts: the session's agent.
func actor(s session) dialog.Actor {
	return dialog.Actor{Login: s.agent.Login, Admin: s.agent.Role == crm.RoleAdmin}
}

// fail answers an error of the store or the engine: the caller's mistakes
// and lost races with their codes, anything else as a logged 500 whose
// message says nothing about the inside. what names the thing not found.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	if ce, ok := errors.AsType[*dialog.ClaimedError](err); ok {
		name := c.agentName(r.Context(), ce.Agent)
		httpjson.Write(w, http.StatusConflict, claimedBody{
			Error: httpjson.ErrorDetail{Code: httpjson.CodeAlreadyClaimed, Message: name + " has it"},
			Agent: ce.Agent, AgentName: name,
		})
		return
	}
	switch {
	case errors.Is(err, dialog.ErrNotHolder):
		httpjson.WriteError(w, http.StatusForbidden, httpjson.CodeForbidden, "only the agent who holds the conversation, or an admin, may do that")
	case errors.Is(err, dialog.ErrState):
		httpjson.WriteError(w, http.StatusConflict, httpjson.CodeConflict, "not possible in the conversation's state: reload it")
	case errors.Is(err, crm.ErrNotFound):
		httpjson.WriteError(w, http.StatusNotFound, httpjson.CodeNotFound, what+" not found")
	case errors.Is(err, crm.ErrTooLarge):
		httpjson.WriteError(w, http.StatusRequestEntityTooLarge, httpjson.CodeTooLarge, "text too large")
	case errors.Is(err, crm.ErrInvalid), errors.Is(err, dialog.ErrSender), errors.Is(err, dialog.ErrNoAgent):
		httpjson.WriteError(w, http.StatusBadRequest, httpjson.CodeBadRequest, err.Error())
	default:
		c.internal(w, r, err)
	}
}

// internal answers an unexpected error: 503 when the caller went away
// (nobody reads it), else a logged 500.
func (c *Console) internal(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		httpjson.WriteError(w, http.StatusServiceUnavailable, httpjson.CodeUnavailable, "request cancelled")
		return
	}
	c.log.Error("console request failed", "method", r.Method, "route", r.Pattern, "err", err)
	httpjson.WriteError(w, http.StatusInternalServerError, httpjson.CodeInternal, "internal error")
}

// claimedBody is the 409 answer when another agent holds the conversation.
type claimedBody struct {
	Error     httpjson.ErrorDetail `json:"error"`
	Agent     string               `json:"agent"`
	AgentName string               `json:"agent_name"`
}

// agentName is the agent's name, or the login when it has none or cannot
// be read.
func (c *Console) agentName(ctx context.Context, login string) string {
	if a, err := c.cfg.Store.Agent(ctx, login); err == nil && a.Name != "" {
		return a.Name
	}
	return login
}

// visibleConversation reads the conversation and checks that the agent
// may see it: 404 and 403 are answered here (ok false).
func (c *Console) visibleConversation(w http.ResponseWriter, r *http.Request, s session) (crm.Conversation, bool) {
	conv, err := c.cfg.Store.Conversation(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, "conversation", err)
		return conv, false
	}
	if !c.visible(s.agent, conv) {
		httpjson.WriteError(w, http.StatusForbidden, httpjson.CodeForbidden, "this conversation is in a queue you do not serve")
		return conv, false
	}
	return conv, true
}

// conversationAnswer is the answer of the actions on a conversation.
type conversationAnswer struct {
	Conversation Row `json:"conversation"`
}

// listAnswer is the answer of GET /console/api/conversations.
type listAnswer struct {
	Conversations []Row `json:"conversations"`
}

// Views of the conversation list.
const (
	viewMine       = "mine"
	viewUnassigned = "unassigned"
	viewOpen       = "open"
	viewResolved   = "resolved"
)

// listConversations answers a view of the conversations the agent may see,
// at most maxRows: mine (held by the agent), unassigned (waiting, grouped by
// queue, most urgent and oldest first within one), open (every open one)
// and resolved (closed since local midnight, latest first).
func (c *Console) listConversations(w http.ResponseWriter, r *http.Request, s session) {
	ctx := r.Context()
	var (
		convs []crm.Conversation
		err   error
	)
	switch view := r.URL.Query().Get("view"); view {
	case viewMine:
		convs, err = c.cfg.Store.OpenConversations(ctx, crm.ConversationFilter{State: crm.StateAgent})
		convs = slices.DeleteFunc(convs, func(cv crm.Conversation) bool { return cv.AssignedAgent != s.agent.Login })
	case viewUnassigned:
		convs, err = c.cfg.Store.OpenConversations(ctx, crm.ConversationFilter{State: crm.StateWaiting})
		slices.SortStableFunc(convs, func(a, b crm.Conversation) int { return cmp.Compare(a.Queue, b.Queue) })
	case viewOpen, "":
		convs, err = c.cfg.Store.OpenConversations(ctx, crm.ConversationFilter{})
	case viewResolved:
		from, to := dayOf(c.cfg.Now())
		convs, err = c.cfg.Store.ResolvedBetween(ctx, from, to, 0)
	default:
		httpjson.WriteError(w, http.StatusBadRequest, httpjson.CodeBadRequest, "view must be mine, unassigned, open or resolved")
		return
	}
	if err != nil {
		c.fail(w, r, "conversations", err)
		return
	}
	rows := []Row{}
	for _, cv := range convs {
		if len(rows) == maxRows {
			break
		}
		if c.visible(s.agent, cv) {
			rows = append(rows, c.row(ctx, cv))
		}
	}
	httpjson.Write(w, http.StatusOK, listAnswer{rows})
}

// dayOf returns the local day of t: its midnight and the next one (not
// always 24 hours later).
func dayOf(t time.Time) (from, to time.Time) {
	y, m, d := t.Date()
	from = time.Date(y, m, d, 0, 0, 0, 0, t.Location())
	return from, from.AddDate(0, 0, 1)
}

// actionRequest is the body of claim, release, return and resolve: empty,
// or an empty JSON object.
type actionRequest struct{}

// decodeAction checks the body of claim, release, return or resolve.
func decodeAction(body []byte) *httpjson.Error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	var req actionRequest
	return httpjson.Decode(body, &req)
}

// action answers claim, release, return or resolve with do.
func (c *Console) action(do func(ctx context.Context, id string, by dialog.Actor) (crm.Conversation, error)) authed {
	return func(w http.ResponseWriter, r *http.Request, s session) {
		body, e := httpjson.ReadBody(w, r, maxBodyBytes)
		if e == nil {
			e = decodeAction(body)
		}
		if e != nil {
			e.Write(w)
			return
		}
		conv, ok := c.visibleConversation(w, r, s)
		if !ok {
			return
		}
		conv, err := do(r.Context(), conv.ID, actor(s))
		if err != nil {
			c.fail(w, r, "conversation", err)
			return
		}
		httpjson.Write(w, http.StatusOK, conversationAnswer{c.row(r.Context(), conv)})
	}
}

// transferRequest is the body of POST .../transfer: exactly one of Queue
// and AgentID.
type transferRequest struct {
	Queue   string `json:"queue"`
	AgentID string `json:"agent_id"`
}

// decodeTransfer reads and checks a transfer body.
func decodeTransfer(body []byte) (transferRequest, *httpjson.Error) {
	var req transferRequest
	if e := httpjson.Decode(body, &req); e != nil {
		return req, e
	}
	switch {
	case (req.Queue == "") == (req.AgentID == ""):
		return req, httpjson.BadRequest(`give exactly one of "queue" and "agent_id"`)
	case len(req.Queue) > maxIDBytes || len(req.AgentID) > maxIDBytes:
		return req, httpjson.BadRequest(fmt.Sprintf(`"queue" and "agent_id" are at most %d bytes`, maxIDBytes))
	}
	return req, nil
}

// transfer moves the conversation to one of Config.Queues (400
// unknown_queue otherwise) or to an agent (400 unknown_agent when there is
// no such agent).
func (c *Console) transfer(w http.ResponseWriter, r *http.Request, s session) {
	req, ok := httpjson.ReadRequest(w, r, maxBodyBytes, decodeTransfer)
	if !ok {
		return
	}
	conv, ok := c.visibleConversation(w, r, s)
	if !ok {
		return
	}
	if req.Queue != "" && !slices.Contains(c.cfg.Queues, req.Queue) {
		httpjson.WriteError(w, http.StatusBadRequest, codeUnknownQueue, "no queue "+req.Queue)
		return
	}
	if req.AgentID != "" {
		if _, err := c.cfg.Store.Agent(r.Context(), req.AgentID); errors.Is(err, crm.ErrNotFound) || errors.Is(err, crm.ErrInvalid) {
			httpjson.WriteError(w, http.StatusBadRequest, httpjson.CodeUnknownAgent, "no agent "+req.AgentID)
			return
		} else if err != nil {
			c.internal(w, r, err)
			return
		}
	}
	conv, err := c.cfg.Engine.Transfer(r.Context(), conv.ID, dialog.Target{Queue: req.Queue, Agent: req.AgentID}, actor(s))
	if err != nil {
		c.fail(w, r, "conversation", err)
		return
	}
	httpjson.Write(w, http.StatusOK, conversationAnswer{c.row(r.Context(), conv)})
}

// messageRequest is the body of POST .../messages.
type messageRequest struct {
	Text     string `json:"text"`
	ClientID string `json:"client_id"`
}

// decodeMessage reads and checks the body of an agent's message.
func decodeMessage(body []byte) (messageRequest, *httpjson.Error) {
	var req messageRequest
	if e := httpjson.Decode(body, &req); e != nil {
		return req, e
	}
	if e := httpjson.CheckText(req.Text, maxTextBytes); e != nil {
		return req, e
	}
	if len(req.ClientID) > maxIDBytes {
		return req, httpjson.BadRequest(fmt.Sprintf(`"client_id" is at most %d bytes`, maxIDBytes))
	}
	return req, nil
}

// messageAnswer is the answer of POST .../messages.
type messageAnswer struct {
	Message crm.Message `json:"message"`
}

// postMessage sends the agent's message to the customer: 201, or 200 for
// a resend of a client_id already stored. A conversation nobody holds is
// claimed for the agent first; one another agent holds answers 409
// already_claimed.
func (c *Console) postMessage(w http.ResponseWriter, r *http.Request, s session) {
	req, ok := httpjson.ReadRequest(w, r, maxBodyBytes, decodeMessage)
	if !ok {
		return
	}
	conv, ok := c.visibleConversation(w, r, s)
	if !ok {
		return
	}
	m, fresh, err := c.cfg.Engine.Post(r.Context(), dialog.Outbound{
		ConversationID: conv.ID, Sender: crm.SenderAgent, AgentID: s.agent.Login, Text: req.Text, ClientID: req.ClientID,
	})
	if err != nil {
		c.fail(w, r, "conversation", err)
		return
	}
	status := http.StatusCreated
	if !fresh {
		status = http.StatusOK
	}
	m.Parse = nil
	httpjson.Write(w, status, messageAnswer{m})
}

// noteRequest is the body of POST .../notes.
type noteRequest struct {
	Text string `json:"text"`
}

// decodeNote reads and checks a note's body.
func decodeNote(body []byte) (noteRequest, *httpjson.Error) {
	var req noteRequest
	if e := httpjson.Decode(body, &req); e != nil {
		return req, e
	}
	return req, httpjson.CheckText(req.Text, crm.MaxEventText)
}

// eventAnswer is the answer of POST .../notes.
type eventAnswer struct {
	Event crm.Event `json:"event"`
}

// note stores the agent's private note: 201 with the event.
func (c *Console) note(w http.ResponseWriter, r *http.Request, s session) {
	req, ok := httpjson.ReadRequest(w, r, maxBodyBytes, decodeNote)
	if !ok {
		return
	}
	conv, ok := c.visibleConversation(w, r, s)
	if !ok {
		return
	}
	ev, err := c.cfg.Engine.Note(r.Context(), conv.ID, actor(s), req.Text)
	if err != nil {
		c.fail(w, r, "conversation", err)
		return
	}
	httpjson.Write(w, http.StatusCreated, eventAnswer{ev})
}

// cannedList is the answer of GET /console/api/canned.
type cannedList struct {
	Canned []crm.CannedResponse `json:"canned"`
}

func (c *Console) listCanned(w http.ResponseWriter, r *http.Request, s session) {
	cs, err := c.cfg.Store.CannedResponses(r.Context())
	if err != nil {
		c.fail(w, r, "canned responses", err)
		return
	}
	if cs == nil {
		cs = []crm.CannedResponse{}
	}
	httpjson.Write(w, http.StatusOK, cannedList{cs})
}

// cannedRequest is the body of PUT /console/api/canned/{shortcut}.
type cannedRequest struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

// decodeCanned reads a canned response's body; the store checks it
// (crm.ValidateCanned).
func decodeCanned(body []byte) (cannedRequest, *httpjson.Error) {
	var req cannedRequest
	e := httpjson.Decode(body, &req)
	return req, e
}

// requireAdmin answers 403 forbidden (ok false) unless the agent is an admin.
func requireAdmin(w http.ResponseWriter, s session) bool {
	if s.agent.Role != crm.RoleAdmin {
		httpjson.WriteError(w, http.StatusForbidden, httpjson.CodeForbidden, "only an admin may change canned responses")
		return false
	}
	return true
}

// putCanned creates or replaces a canned response (admins only): 200 with
// the stored response.
func (c *Console) putCanned(w http.ResponseWriter, r *http.Request, s session) {
	if !requireAdmin(w, s) {
		return
	}
	req, ok := httpjson.ReadRequest(w, r, maxBodyBytes, decodeCanned)
	if !ok {
		return
	}
	cr, err := c.cfg.Store.PutCanned(r.Context(), crm.CannedResponse{
		Shortcut: r.PathValue("shortcut"), Title: req.Title, Text: req.Text, UpdatedBy: s.agent.Login,
	})
	if err != nil {
		c.fail(w, r, "canned response", err)
		return
	}
	httpjson.Write(w, http.StatusOK, cr)
}

// deleteCanned removes a canned response (admins only): 204, or 404.
func (c *Console) deleteCanned(w http.ResponseWriter, r *http.Request, s session) {
	if !requireAdmin(w, s) {
		return
	}
	if err := c.cfg.Store.DeleteCanned(r.Context(), r.PathValue("shortcut")); err != nil {
		c.fail(w, r, "canned response", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// agentRow is an agent in GET /console/api/agents.
type agentRow struct {
	agentView
	Presence string `json:"presence"` // online, away or offline
}

// agentList is the answer of GET /console/api/agents.
type agentList struct {
	Agents []agentRow `json:"agents"`
}

func (c *Console) listAgents(w http.ResponseWriter, r *http.Request, s session) {
	as, err := c.cfg.Store.Agents(r.Context())
	if err != nil {
		c.fail(w, r, "agents", err)
		return
	}
	out := agentList{Agents: make([]agentRow, 0, len(as))}
	for _, a := range as {
		out.Agents = append(out.Agents, agentRow{viewOf(a), c.hub.presence(a.Login)})
	}
	httpjson.Write(w, http.StatusOK, out)
}

// queueList is the answer of GET /console/api/queues.
type queueList struct {
	Queues []string `json:"queues"`
}

func (c *Console) listQueues(w http.ResponseWriter, r *http.Request, s session) {
	qs := c.cfg.Queues
	if qs == nil {
		qs = []string{}
	}
	httpjson.Write(w, http.StatusOK, queueList{qs})
}
