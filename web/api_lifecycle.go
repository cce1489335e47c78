package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/httpjson"
)

// Limits of GET /api/v1/conversations/{id}/events.
const (
	defaultEvents = 100
	maxEvents     = 1000
)

// lifecycleRoutes adds the routes that change who holds a conversation, and
// its notes and events, to mux.
func (s *Server) lifecycleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/conversations/{id}/claim", s.claim)
	mux.HandleFunc("POST /api/v1/conversations/{id}/release", s.actorTransition(Engine.Release))
	mux.HandleFunc("POST /api/v1/conversations/{id}/return", s.actorTransition(Engine.Return))
	mux.HandleFunc("POST /api/v1/conversations/{id}/resolve", s.actorTransition(Engine.Resolve))
	mux.HandleFunc("POST /api/v1/conversations/{id}/transfer", s.transfer)
	mux.HandleFunc("POST /api/v1/conversations/{id}/notes", s.postNote)
	mux.HandleFunc("GET /api/v1/conversations/{id}/events", s.listEvents)
}

// actorRequest is the body of claim, release, return and resolve: the agent
// who acts. Empty AgentID means the system acts (refused by claim).
type actorRequest struct {
	AgentID string `json:"agent_id"`
}

// decodeActorRequest reads the body of release, return or resolve; an empty
// body is the system acting, as {} is.
func decodeActorRequest(body []byte) (actorRequest, *httpjson.Error) {
	var req actorRequest
	if len(strings.TrimSpace(string(body))) == 0 {
		return req, nil
	}
	if e := httpjson.Decode(body, &req); e != nil {
		return req, e
	}
	return req, checkID("agent_id", req.AgentID)
}

// decodeClaim reads the body of claim, whose agent_id is required.
func decodeClaim(body []byte) (actorRequest, *httpjson.Error) {
	var req actorRequest
	if e := httpjson.Decode(body, &req); e != nil {
		return req, e
	}
	if req.AgentID == "" {
		return req, httpjson.BadRequest(`"agent_id" is required: the agent who claims the conversation`)
	}
	return req, checkID("agent_id", req.AgentID)
}

// transferRequest is the body of transfer: exactly one of Queue and
// AgentID, and By, the acting agent ("" for the system).
type transferRequest struct {
	Queue   string `json:"queue"`
	AgentID string `json:"agent_id"`
	By      string `json:"by"`
}

// decodeTransfer reads and validates the body of transfer.
func decodeTransfer(body []byte) (transferRequest, *httpjson.Error) {
	var req transferRequest
	if e := httpjson.Decode(body, &req); e != nil {
		return req, e
	}
	if (req.Queue == "") == (req.AgentID == "") {
		return req, httpjson.BadRequest(`exactly one of "queue" and "agent_id" is required`)
	}
	if req.Queue != "" {
		if strings.TrimSpace(req.Queue) != req.Queue {
			return req, httpjson.BadRequest(`"queue" has spaces around it`)
		}
		if len(req.Queue) > maxQueueBytes {
			return req, httpjson.BadRequest(fmt.Sprintf(`"queue" is at most %d bytes`, maxQueueBytes))
		}
	}
	if e := checkID("agent_id", req.AgentID); e != nil {
		return req, e
	}
	return req, checkID("by", req.By)
}

// noteRequest is the body of POST .../notes.
type noteRequest struct {
	Text    string `json:"text"`
	AgentID string `json:"agent_id"`
}

// decodeNote reads and validates the body of a note: text and author are
// both required.
func decodeNote(body []byte) (noteRequest, *httpjson.Error) {
	var req noteRequest
	if e := httpjson.Decode(body, &req); e != nil {
		return req, e
	}
	if e := httpjson.CheckText(req.Text, maxTextBytes); e != nil {
		return req, e
	}
	if req.AgentID == "" {
		return req, httpjson.BadRequest(`"agent_id" is required: the agent who writes the note`)
	}
	return req, checkID("agent_id", req.AgentID)
}

// checkID bounds an agent login in a body; "" passes (the caller decides
// whether it is required).
func checkID(field, v string) *httpjson.Error {
	if len(v) > maxIDBytes {
		return httpjson.BadRequest(fmt.Sprintf("%q is at most %d bytes", field, maxIDBytes))
	}
	return nil
}

// actor looks up the agent with login: the zero Actor (the system) for "",
// 400 unknown_agent for a login the store does not know. Agents with role
// admin act as admins.
func (s *Server) actor(ctx context.Context, login string) (dialog.Actor, error) {
	if login == "" {
		return dialog.Actor{}, nil
	}
	a, err := s.cfg.Store.Agent(ctx, login)
	if err != nil {
		return dialog.Actor{}, err
	}
	return dialog.Actor{Login: a.Login, Admin: a.Role == crm.RoleAdmin}, nil
}

// agentError answers a failed agent lookup: 400 unknown_agent for an
// unknown login, the store's error otherwise.
func (s *Server) agentError(w http.ResponseWriter, r *http.Request, field, login string, err error) {
	if errors.Is(err, crm.ErrNotFound) {
		httpjson.WriteError(w, http.StatusBadRequest, httpjson.CodeUnknownAgent, fmt.Sprintf("%s: no agent with login %q", field, login))
		return
	}
	s.storeError(w, r, "agent", err)
}

// claimedBody is the 409 already_claimed answer: the usual error and the
// login of the agent who holds the conversation.
type claimedBody struct {
	Error httpjson.ErrorDetail `json:"error"`
	Agent string               `json:"agent"`
}

// engineError answers an error of the engine's lifecycle: someone else holds
// the conversation (409 already_claimed naming them), the caller may not
// (403 forbidden), the conversation's state does not allow it (409
// conflict); the store's errors as storeError does.
func (s *Server) engineError(w http.ResponseWriter, r *http.Request, err error) {
	if ce, ok := errors.AsType[*dialog.ClaimedError](err); ok {
		httpjson.Write(w, http.StatusConflict, claimedBody{
			Error: httpjson.ErrorDetail{Code: httpjson.CodeAlreadyClaimed, Message: fmt.Sprintf("the conversation is held by agent %q", ce.Agent)},
			Agent: ce.Agent,
		})
		return
	}
	switch {
	case errors.Is(err, dialog.ErrNotHolder):
		httpjson.WriteError(w, http.StatusForbidden, httpjson.CodeForbidden, dialog.ErrNotHolder.Error())
	case errors.Is(err, dialog.ErrState):
		httpjson.WriteError(w, http.StatusConflict, httpjson.CodeConflict, err.Error())
	case errors.Is(err, dialog.ErrNoAgent):
		httpjson.WriteError(w, http.StatusBadRequest, httpjson.CodeBadRequest, `"agent_id" is required for this`)
	default:
		s.storeError(w, r, "conversation", err)
	}
}

// noEngine answers 503 when the server has no engine; it says whether it did.
func (s *Server) noEngine(w http.ResponseWriter) bool {
	if s.cfg.Engine != nil {
		return false
	}
	httpjson.WriteError(w, http.StatusServiceUnavailable, httpjson.CodeUnavailable, "conversation changes are not enabled on this server")
	return true
}

func (s *Server) claim(w http.ResponseWriter, r *http.Request) {
	req, ok := httpjson.ReadRequest(w, r, maxBodyBytes, decodeClaim)
	if !ok {
		return
	}
	if s.noEngine(w) {
		return
	}
	by, err := s.actor(r.Context(), req.AgentID)
	if err != nil {
		s.agentError(w, r, "agent_id", req.AgentID, err)
		return
	}
	c, err := s.cfg.Engine.Claim(r.Context(), r.PathValue("id"), by)
	if err != nil {
		s.engineError(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, c)
}

// actorTransition serves release, return and resolve: a change made by an
// optional agent that answers the conversation.
func (s *Server) actorTransition(do func(Engine, context.Context, string, dialog.Actor) (crm.Conversation, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, ok := httpjson.ReadRequest(w, r, maxBodyBytes, decodeActorRequest)
		if !ok {
			return
		}
		if s.noEngine(w) {
			return
		}
		by, err := s.actor(r.Context(), req.AgentID)
		if err != nil {
			s.agentError(w, r, "agent_id", req.AgentID, err)
			return
		}
		c, err := do(s.cfg.Engine, r.Context(), r.PathValue("id"), by)
		if err != nil {
			s.engineError(w, r, err)
			return
		}
		httpjson.Write(w, http.StatusOK, c)
	}
}

func (s *Server) transfer(w http.ResponseWriter, r *http.Request) {
	req, ok := httpjson.ReadRequest(w, r, maxBodyBytes, decodeTransfer)
	if !ok {
		return
	}
	if s.noEngine(w) {
		return
	}
	by, err := s.actor(r.Context(), req.By)
	if err != nil {
		s.agentError(w, r, "by", req.By, err)
		return
	}
	to := dialog.Target{Queue: req.Queue}
	if req.AgentID != "" {
		target, err := s.actor(r.Context(), req.AgentID)
		if err != nil {
			s.agentError(w, r, "agent_id", req.AgentID, err)
			return
		}
		to.Agent = target.Login
	}
	c, err := s.cfg.Engine.Transfer(r.Context(), r.PathValue("id"), to, by)
	if err != nil {
		s.engineError(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, c)
}

func (s *Server) postNote(w http.ResponseWriter, r *http.Request) {
	req, ok := httpjson.ReadRequest(w, r, maxBodyBytes, decodeNote)
	if !ok {
		return
	}
	if s.noEngine(w) {
		return
	}
	by, err := s.actor(r.Context(), req.AgentID)
	if err != nil {
		s.agentError(w, r, "agent_id", req.AgentID, err)
		return
	}
	ev, err := s.cfg.Engine.Note(r.Context(), r.PathValue("id"), by, req.Text)
	if err != nil {
		s.engineError(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, ev)
}

// eventList is the answer of GET /api/v1/conversations/{id}/events;
// NextAfter as in messageList.
type eventList struct {
	Events    []crm.Event `json:"events"`
	NextAfter uint64      `json:"next_after"`
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	after, limit, e := pageParams(r, "an event seq", defaultEvents, maxEvents)
	if e != nil {
		e.Write(w)
		return
	}
	evs, err := s.cfg.Store.Events(r.Context(), r.PathValue("id"), after, limit)
	if err != nil {
		s.storeError(w, r, "conversation", err)
		return
	}
	var out eventList
	out.Events, out.NextAfter = page(evs, after, func(ev crm.Event) uint64 { return ev.Seq })
	httpjson.Write(w, http.StatusOK, out)
}
