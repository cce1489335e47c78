package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/httpjson"
)

// Limits of the list endpoints.
const (
	defaultConversations = 50
	maxConversations     = 500
	defaultMessages      = 100
	maxMessages          = 1000
	customerRecent       = 10 // recent conversations shown with a customer
	maxQueueBytes        = 100
)

// api returns the /api/ subtree: bearer authentication first, then the v1
// routes, with JSON answers for unknown paths and methods too.
func (s *Server) api() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/parse", s.parse)
	mux.HandleFunc("GET /api/v1/conversations", s.listConversations)
	mux.HandleFunc("GET /api/v1/conversations/{id}", s.getConversation)
	mux.HandleFunc("GET /api/v1/conversations/{id}/messages", s.listMessages)
	mux.HandleFunc("POST /api/v1/conversations/{id}/messages", s.postMessage)
	mux.HandleFunc("GET /api/v1/customers/{id}", s.getCustomer)
	mux.HandleFunc("GET /api/v1/conversations/{id}/suggestions", s.suggestions)
	s.lifecycleRoutes(mux)

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := s.token.check(r); e != nil {
			if e.Status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="parley"`)
			}
			e.Write(w)
			return
		}
		httpjson.Route(mux, "API", w, r)
	})
}

// storeError answers an error of the store or the engine: the caller's
// mistakes with their codes, anything else as a logged 500 whose message
// says nothing about the inside.
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, what string, err error) {
	switch {
	case errors.Is(err, crm.ErrNotFound):
		httpjson.WriteError(w, http.StatusNotFound, httpjson.CodeNotFound, what+" not found")
	case errors.Is(err, crm.ErrTooLarge):
		httpjson.WriteError(w, http.StatusRequestEntityTooLarge, httpjson.CodeTooLarge, "message text too large")
	case errors.Is(err, crm.ErrInvalid), errors.Is(err, dialog.ErrSender):
		httpjson.WriteError(w, http.StatusBadRequest, httpjson.CodeBadRequest, err.Error())
	case r.Context().Err() != nil:
		// The caller went away; nobody reads the answer.
		httpjson.WriteError(w, http.StatusServiceUnavailable, httpjson.CodeUnavailable, "request cancelled")
	default:
		s.log.Error("api request failed", "method", r.Method, "route", r.Pattern, "err", err)
		httpjson.WriteError(w, http.StatusInternalServerError, httpjson.CodeInternal, "internal error")
	}
}

// parseRequest is the body of POST /api/v1/parse.
type parseRequest struct {
	Text string `json:"text"`
}

// decodeParseRequest reads and validates a parse request body.
func decodeParseRequest(body []byte) (parseRequest, *httpjson.Error) {
	var req parseRequest
	if e := httpjson.Decode(body, &req); e != nil {
		return req, e
	}
	return req, httpjson.CheckText(req.Text, maxTextBytes)
}

func (s *Server) parse(w http.ResponseWriter, r *http.Request) {
	req, ok := httpjson.ReadRequest(w, r, maxBodyBytes, decodeParseRequest)
	if !ok {
		return
	}
	res, err := s.cfg.Parser.Parse(r.Context(), req.Text)
	switch {
	case errors.Is(err, dialog.ErrNoParser):
		httpjson.WriteError(w, http.StatusServiceUnavailable, codeModelNotLoaded, "no NLU model is loaded yet")
		return
	case err != nil:
		s.storeError(w, r, "model", fmt.Errorf("parse: %w", err))
		return
	}
	httpjson.Write(w, http.StatusOK, res)
}

// conversationList is the answer of GET /api/v1/conversations.
type conversationList struct {
	Conversations []crm.Conversation `json:"conversations"`
}

func (s *Server) listConversations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := crm.ConversationFilter{State: crm.ConversationState(q.Get("state")), Queue: q.Get("queue")}
	switch f.State {
	case "", crm.StateBot, crm.StateWaiting, crm.StateAgent:
	case crm.StateResolved:
		httpjson.WriteError(w, http.StatusBadRequest, httpjson.CodeBadRequest, "only open conversations are listed: state must be bot, waiting or agent")
		return
	default:
		httpjson.WriteError(w, http.StatusBadRequest, httpjson.CodeBadRequest, "state must be bot, waiting or agent")
		return
	}
	if len(f.Queue) > maxQueueBytes {
		httpjson.WriteError(w, http.StatusBadRequest, httpjson.CodeBadRequest, "queue name too long")
		return
	}
	limit, e := intParam(q.Get("limit"), "limit", defaultConversations, maxConversations)
	if e != nil {
		e.Write(w)
		return
	}
	f.Limit = limit
	cs, err := s.cfg.Store.OpenConversations(r.Context(), f)
	if err != nil {
		s.storeError(w, r, "conversations", err)
		return
	}
	if cs == nil {
		cs = []crm.Conversation{}
	}
	httpjson.Write(w, http.StatusOK, conversationList{cs})
}

func (s *Server) getConversation(w http.ResponseWriter, r *http.Request) {
	c, err := s.cfg.Store.Conversation(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, "conversation", err)
		return
	}
	httpjson.Write(w, http.StatusOK, c)
}

// messageList is the answer of GET /api/v1/conversations/{id}/messages.
// NextAfter is the after= of the next page: the Seq of the last message
// (or the after= asked for when there was none).
type messageList struct {
	Messages  []crm.Message `json:"messages"`
	NextAfter uint64        `json:"next_after"`
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request) {
	after, limit, e := pageParams(r, "a message seq", defaultMessages, maxMessages)
	if e != nil {
		e.Write(w)
		return
	}
	ms, err := s.cfg.Store.MessagesAfter(r.Context(), r.PathValue("id"), after, limit)
	if err != nil {
		s.storeError(w, r, "conversation", err)
		return
	}
	var out messageList
	out.Messages, out.NextAfter = page(ms, after, func(m crm.Message) uint64 { return m.Seq })
	httpjson.Write(w, http.StatusOK, out)
}

// page returns items, never nil, and the after= of the page that follows
// them: the seq of the last item, or after when there is none.
func page[T any](items []T, after uint64, seq func(T) uint64) ([]T, uint64) {
	if len(items) == 0 {
		return []T{}, after
	}
	return items, seq(items[len(items)-1])
}

// customerView is the answer of GET /api/v1/customers/{id}: the customer
// and their most recent conversations.
type customerView struct {
	crm.Customer
	RecentConversations []crm.Conversation `json:"recent_conversations"`
}

func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	c, err := s.cfg.Store.Customer(r.Context(), id)
	if err != nil {
		s.storeError(w, r, "customer", err)
		return
	}
	cs, err := s.cfg.Store.ConversationsByCustomer(r.Context(), id, customerRecent)
	if err != nil {
		s.storeError(w, r, "customer", err)
		return
	}
	if cs == nil {
		cs = []crm.Conversation{}
	}
	httpjson.Write(w, http.StatusOK, customerView{c, cs})
}

// postMessageRequest is the body of POST /api/v1/conversations/{id}/messages.
type postMessageRequest struct {
	Text     string     `json:"text"`
	Sender   crm.Sender `json:"sender"`
	AgentID  string     `json:"agent_id"`
	ClientID string     `json:"client_id"`
}

// maxIDBytes bounds agent_id and client_id.
const maxIDBytes = 200

// decodePostMessage reads and validates the body of a posted message.
func decodePostMessage(body []byte) (postMessageRequest, *httpjson.Error) {
	var req postMessageRequest
	if e := httpjson.Decode(body, &req); e != nil {
		return req, e
	}
	if e := httpjson.CheckText(req.Text, maxTextBytes); e != nil {
		return req, e
	}
	switch req.Sender {
	case crm.SenderAgent:
		if req.AgentID == "" {
			return req, httpjson.BadRequest(`"agent_id" is required when "sender" is "agent"`)
		}
	case crm.SenderSystem, crm.SenderBot:
		if req.AgentID != "" {
			return req, httpjson.BadRequest(`"agent_id" is only for "sender": "agent"`)
		}
	default:
		return req, httpjson.BadRequest(`"sender" must be "agent", "system" or "bot"`)
	}
	if len(req.AgentID) > maxIDBytes || len(req.ClientID) > maxIDBytes {
		return req, httpjson.BadRequest(fmt.Sprintf(`"agent_id" and "client_id" are at most %d bytes`, maxIDBytes))
	}
	return req, nil
}

// postMessage stores and publishes a message. A new message answers 201; a
// resend with a client_id already stored answers 200 with the stored
// message, which is neither stored nor published again. An agent's message
// on a conversation nobody holds claims it for the agent first (the
// engine's Post); one held by another agent answers 409 already_claimed.
func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	req, ok := httpjson.ReadRequest(w, r, maxBodyBytes, decodePostMessage)
	if !ok {
		return
	}
	if s.cfg.Engine == nil {
		httpjson.WriteError(w, http.StatusServiceUnavailable, httpjson.CodeUnavailable, "posting messages is not enabled on this server")
		return
	}
	if req.Sender == crm.SenderAgent {
		// The message claims the conversation for its agent: only a known
		// agent may hold one.
		if _, err := s.actor(r.Context(), req.AgentID); err != nil {
			s.agentError(w, r, "agent_id", req.AgentID, err)
			return
		}
	}
	m, fresh, err := s.cfg.Engine.Post(r.Context(), dialog.Outbound{
		ConversationID: r.PathValue("id"), Sender: req.Sender, AgentID: req.AgentID, Text: req.Text, ClientID: req.ClientID,
	})
	if err != nil {
		s.engineError(w, r, err)
		return
	}
	status := http.StatusCreated
	if !fresh {
		status = http.StatusOK
	}
	httpjson.Write(w, status, m)
}

// pageParams reads the after= (a seq, what names it; default 0) and limit=
// (1..max, default def) of a paged list.
func pageParams(r *http.Request, what string, def, max int) (uint64, int, *httpjson.Error) {
	q := r.URL.Query()
	var after uint64
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, 0, httpjson.BadRequest("after must be " + what + " (a whole number, 0 or more)")
		}
		after = n
	}
	limit, e := intParam(q.Get("limit"), "limit", def, max)
	return after, limit, e
}

// intParam reads a query parameter between 1 and max, def when empty.
func intParam(v, name string, def, max int) (int, *httpjson.Error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, httpjson.BadRequest(fmt.Sprintf("%s must be a whole number from 1 to %d", name, max))
	}
	return n, nil
}
