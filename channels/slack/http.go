package slack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/slack-go/slack"
)

// ackBudget is how long a request may wait for accept (a full queue makes
// it wait): Slack wants an answer within 3 s, and a 503 inside them makes
// it retry later, where a late 200 would make it retry anyway and count a
// failure.
const ackBudget = 2500 * time.Millisecond

// eventsHandler serves POST /slack/events: it checks the request's
// signature before anything else, answers a url_verification with its
// challenge, and accepts a message or a mention. It answers 401 to an
// unsigned, forged or stale request, 413 to a body over 1 MiB, 400 to one
// it cannot parse, 503 when the event could not be queued in time (Slack
// retries it), 500 when accept failed, and 200 otherwise (an event it
// ignores or has taken before included).
func (a *Adapter) eventsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := a.verified(w, r)
		if !ok {
			return
		}
		a.logRetry(r)
		req, err := parseEvents(body)
		if err != nil {
			a.log.Warn("slack: bad events request", "remote", r.RemoteAddr, "err", err)
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		switch {
		case req.Challenge != "":
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"challenge": req.Challenge})
		case req.Event == nil:
			a.log.Debug("slack: ignored event", "type", req.Type)
			w.WriteHeader(http.StatusOK)
		default:
			a.acceptHTTP(w, r, []event{*req.Event})
		}
	})
}

// interactionsHandler serves POST /slack/interactions: it checks the
// signature as eventsHandler does and accepts each button click of a
// block_actions payload; it answers 200 to other interactions.
func (a *Adapter) interactionsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := a.verified(w, r)
		if !ok {
			return
		}
		a.logRetry(r)
		evs, err := parseInteractionForm(body)
		if err != nil {
			a.log.Warn("slack: bad interactions request", "remote", r.RemoteAddr, "err", err)
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		a.acceptHTTP(w, r, evs)
	})
}

// verified reads r's body and checks its Slack signature (v0 HMAC-SHA256
// of "v0:timestamp:body" with the signing secret, timestamp within 5
// minutes of the real clock). When the check fails it answers (401, or
// 413 for a body too large to check) and logs once, and reports false:
// nothing of the body is used.
func (a *Adapter) verified(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	sv, err := slack.NewSecretsVerifier(r.Header, a.cfg.SigningSecret)
	if err != nil {
		a.reject(w, r, http.StatusUnauthorized, signatureProblem(err))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			a.reject(w, r, http.StatusRequestEntityTooLarge, "body over 1 MiB")
			return nil, false
		}
		a.log.Debug("slack: read request body", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return nil, false
	}
	_, _ = sv.Write(body) // an HMAC's Write never fails
	if sv.Ensure() != nil {
		a.reject(w, r, http.StatusUnauthorized, "forged signature (or a body changed after signing)")
		return nil, false
	}
	return body, true
}

// signatureProblem says, for the log, why slack.NewSecretsVerifier turned
// a request's headers down.
func signatureProblem(err error) string {
	switch {
	case errors.Is(err, slack.ErrMissingHeaders):
		return "unsigned"
	case errors.Is(err, slack.ErrExpiredTimestamp):
		return "stale timestamp (more than 5 minutes off)"
	case errors.Is(err, slack.ErrInvalidSignature):
		return "forged signature"
	default: // a timestamp or signature that does not parse
		return "malformed signature headers"
	}
}

// reject answers a request that failed the signature check with code and
// a short body, and logs it once.
func (a *Adapter) reject(w http.ResponseWriter, r *http.Request, code int, reason string) {
	a.log.Warn("slack: rejected a request", "path", r.URL.Path, "reason", reason, "remote", r.RemoteAddr)
	http.Error(w, http.StatusText(code), code)
}

// logRetry notes Slack's retries (it retries an event not answered with a
// 2xx within 3 s): accept drops the copies it has taken before.
func (a *Adapter) logRetry(r *http.Request) {
	if n := r.Header.Get("X-Slack-Retry-Num"); n != "" {
		a.log.Debug("slack: retried request", "path", r.URL.Path, "retry", n, "reason", r.Header.Get("X-Slack-Retry-Reason"))
	}
}

// acceptHTTP accepts evs within ackBudget and answers: 200 when all were
// taken (or were duplicates, or ignored), 503 when the adapter could not
// queue them in time or is stopping (Slack retries; the ones taken are
// dropped as duplicates then), 500 on another error.
func (a *Adapter) acceptHTTP(w http.ResponseWriter, r *http.Request, evs []event) {
	ctx, cancel := context.WithTimeout(r.Context(), ackBudget)
	defer cancel()
	for _, ev := range evs {
		err := a.accept(ctx, ev)
		switch {
		case err == nil:
			continue
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), errors.Is(err, errStopped):
			a.log.Warn("slack: event not taken in time; Slack will retry it", "key", ev.Key, "err", err)
			http.Error(w, "busy, retry later", http.StatusServiceUnavailable)
		default:
			a.log.Error("slack: accept event", "key", ev.Key, "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
		return
	}
	w.WriteHeader(http.StatusOK)
}
