package web

import (
	"context"
	"net/http"

	"github.com/parleyhq/parley/internal/httpjson"
	"github.com/parleyhq/parley/nlp/suggest"
)

// Suggester suggests replies for a conversation, the variables of its
// texts filled for the conversation's customer and for agentName ("" when
// no agent asks). It fails with an error wrapping crm.ErrNotFound for an
// unknown conversation. *suggest.Suggester implements it.
type Suggester interface {
	ForConversation(ctx context.Context, id, agentName string) ([]suggest.Suggestion, error)
}

var _ Suggester = (*suggest.Suggester)(nil)

// suggestionList is the answer of GET /api/v1/conversations/{id}/suggestions.
type suggestionList struct {
	Suggestions []suggest.Suggestion `json:"suggestions"`
}

// suggestions answers up to three suggested replies for the conversation,
// best first: 404 for an unknown conversation. The REST API does not count
// them as shown to an agent (parley_suggestions_shown_total counts the
// console's), as it cannot tell whether anyone used them.
func (s *Server) suggestions(w http.ResponseWriter, r *http.Request) {
	sg := s.cfg.Suggester
	if sg == nil {
		httpjson.WriteError(w, http.StatusServiceUnavailable, httpjson.CodeUnavailable, "suggestions are not enabled on this server")
		return
	}
	list, err := sg.ForConversation(r.Context(), r.PathValue("id"), "")
	if err != nil {
		s.storeError(w, r, "conversation", err)
		return
	}
	if list == nil {
		list = []suggest.Suggestion{}
	}
	httpjson.Write(w, http.StatusOK, suggestionList{list})
}
