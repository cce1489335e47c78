package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/internal/httpjson"
)

// cookieName is the session cookie, sent only to /console.
const cookieName = "parley_console"

// Login limits: maxFailures failed logins for one account, or from one
// address, within lockWindow lock it until the oldest of them is
// lockWindow old.
const (
	maxFailures = 5
	lockWindow  = 5 * time.Minute
)

// Bounds of the login body's fields (an e-mail address is at most 254
// bytes; bcrypt reads 72).
const (
	maxEmailBytes    = 254
	maxPasswordBytes = 1024
)

// session is one agent's login. The value handed around is a copy: the
// stored one's expiry slides on each use.
type session struct {
	id, csrf string
	agent    crm.Agent // as stored when the request began; PasswordHash cleared
	expires  time.Time
	// hash is the agent's password hash at login: a new password ends
	// every session opened with the old one.
	hash string
}

// auth holds the sessions and the failed logins, in memory: a restart logs
// every agent out.
type auth struct {
	mu       sync.Mutex
	sessions map[string]*session    // by id; guarded by mu
	failures map[string][]time.Time // failed logins within lockWindow by "account:"/"ip:" key, oldest first; guarded by mu
	sweepAt  int                    // len(failures) at which expired keys are swept; guarded by mu
	// checking holds, per account key, a channel that is closed when the
	// password check under way for it ends; guarded by mu.
	checking map[string]chan struct{}
}

func newAuth() *auth {
	return &auth{sessions: make(map[string]*session), failures: make(map[string][]time.Time), sweepAt: 1024,
		checking: make(map[string]chan struct{})}
}

// attempt starts a login attempt: it waits until no other attempt on the
// account is being checked (so that simultaneous guesses at one account
// are counted one by one and cannot get past the limit), then reports
// whether a key has maxFailures failures in the window; retry is then how
// long until one of them leaves it. Unless locked, the caller must call
// done with whether the password was wrong. Correct logins never count:
// a team behind one address can sign in together.
func (a *auth) attempt(ctx context.Context, now time.Time, account, ip string) (locked bool, retry time.Duration, done func(failed bool), err error) {
	a.mu.Lock()
	for {
		busy, ok := a.checking[account]
		if !ok {
			break
		}
		a.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return false, 0, nil, ctx.Err()
		}
		a.mu.Lock()
	}
	defer a.mu.Unlock()
	if len(a.failures) >= a.sweepAt {
		for k, ts := range a.failures {
			if a.prune(k, ts, now) == nil {
				delete(a.failures, k)
			}
		}
		a.sweepAt = max(1024, 2*len(a.failures))
	}
	for _, k := range []string{account, ip} {
		ts := a.prune(k, a.failures[k], now)
		if len(ts) >= maxFailures {
			locked = true
			retry = max(retry, ts[len(ts)-maxFailures].Add(lockWindow).Sub(now))
		}
	}
	if locked {
		return true, retry, nil, nil
	}
	busy := make(chan struct{})
	a.checking[account] = busy
	return false, 0, func(failed bool) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if failed {
			a.failures[account] = append(a.failures[account], now)
			a.failures[ip] = append(a.failures[ip], now)
		}
		delete(a.checking, account)
		close(busy)
	}, nil
}

// prune drops the failures of key older than the window; mu is held.
func (a *auth) prune(key string, ts []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= lockWindow {
		i++
	}
	if i == 0 {
		return ts
	}
	ts = slices.Clone(ts[i:])
	if len(ts) == 0 {
		ts = nil
	}
	a.failures[key] = ts
	return ts
}

// start stores a new session for agent.
func (a *auth) start(agent crm.Agent, expires time.Time) session {
	s := &session{id: rand.Text(), csrf: rand.Text(), agent: agent, expires: expires, hash: agent.PasswordHash}
	s.agent.PasswordHash = ""
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sessions[s.id] = s
	return *s
}

// sweep removes the sessions expired at now.
func (a *auth) sweep(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, s := range a.sessions {
		if !now.Before(s.expires) {
			delete(a.sessions, id)
		}
	}
}

// lookup returns the live session with the id, with its expiry moved to
// expires; ok is false (and an expired session removed) otherwise.
func (a *auth) lookup(id string, now, expires time.Time) (session, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sessions[id]
	switch {
	case s == nil:
		return session{}, false
	case !now.Before(s.expires):
		delete(a.sessions, id)
		return session{}, false
	}
	s.expires = expires
	return *s, true
}

// end removes the session with the id, if any.
func (a *auth) end(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.sessions, id)
}

// update keeps the agent's latest record in the session, for the hub and
// the next request.
func (a *auth) update(id string, agent crm.Agent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s := a.sessions[id]; s != nil {
		s.agent = agent
	}
}

// agentView is an agent as the console shows it: never the password hash.
type agentView struct {
	Login string   `json:"login"`
	Name  string   `json:"name"`
	Role  crm.Role `json:"role"`
	Teams []string `json:"teams"`
}

func viewOf(a crm.Agent) agentView {
	teams := a.Teams
	if teams == nil {
		teams = []string{}
	}
	return agentView{Login: a.Login, Name: a.Name, Role: a.Role, Teams: teams}
}

// loginAnswer is the answer of login and of GET /console/api/me.
type loginAnswer struct {
	Agent agentView `json:"agent"`
	CSRF  string    `json:"csrf"`
	// SLASeconds is how long a conversation may wait in a queue before
	// its row turns red (Config.SLA), so the page turns it red on time.
	SLASeconds int `json:"sla_seconds"`
}

func (c *Console) answer(s session) loginAnswer {
	return loginAnswer{viewOf(s.agent), s.csrf, int(c.cfg.SLA.Seconds())}
}

// loginRequest is the body of POST /console/api/login.
type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// decodeLogin reads and checks a login body.
func decodeLogin(body []byte) (loginRequest, *httpjson.Error) {
	var req loginRequest
	if e := httpjson.Decode(body, &req); e != nil {
		return req, e
	}
	req.Email = strings.TrimSpace(req.Email)
	switch {
	case req.Email == "" || req.Password == "":
		return req, &httpjson.Error{Status: http.StatusBadRequest, Code: httpjson.CodeBadRequest, Message: `"email" and "password" are required`}
	case len(req.Email) > maxEmailBytes || len(req.Password) > maxPasswordBytes:
		return req, &httpjson.Error{Status: http.StatusBadRequest, Code: httpjson.CodeBadRequest,
			Message: fmt.Sprintf(`"email" is at most %d bytes, "password" at most %d`, maxEmailBytes, maxPasswordBytes)}
	}
	return req, nil
}

// login checks an agent's e-mail and password and starts a session: 200
// with the agent and the CSRF token and the session cookie; 401 for a
// wrong pair; 429 with Retry-After while the account or the address is
// locked, whatever the password.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if e := checkOrigin(r); e != nil {
		e.Write(w)
		return
	}
	req, ok := httpjson.ReadRequest(w, r, maxBodyBytes, decodeLogin)
	if !ok {
		return
	}
	now := c.cfg.Now()
	locked, retry, done, err := c.auth.attempt(r.Context(), now, "account:"+crm.NormalizeEmail(req.Email), "ip:"+c.cfg.Proxies.IP(r))
	switch {
	case err != nil:
		httpjson.WriteError(w, http.StatusServiceUnavailable, "unavailable", "request cancelled")
		return
	case locked:
		secs := int(math.Ceil(retry.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
		httpjson.WriteError(w, http.StatusTooManyRequests, codeTooManyAttempts,
			fmt.Sprintf("too many failed logins: try again in %d seconds", max(1, secs)))
		return
	}
	a, err := c.cfg.Store.Authenticate(r.Context(), crm.NormalizeEmail(req.Email), req.Password)
	switch {
	case errors.Is(err, crm.ErrUnauthorized), errors.Is(err, crm.ErrInvalid), errors.Is(err, crm.ErrNotFound):
		done(true)
		httpjson.WriteError(w, http.StatusUnauthorized, httpjson.CodeUnauthorized, "wrong e-mail or password")
		return
	case err != nil:
		done(false) // the store failed, not the caller
		c.internal(w, r, err)
		return
	}
	done(false)
	c.auth.sweep(now)
	s := c.auth.start(a, now.Add(c.cfg.SessionTTL))
	c.setCookie(w, r, s.id)
	httpjson.Write(w, http.StatusOK, c.answer(s))
}

// logout ends the session (if any) and clears the cookie: 204.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, s session) {
	c.auth.end(s.id)
	w.Header().Del("Set-Cookie") // the session's refreshed cookie, set by the lookup
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/console", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure(r)})
	w.WriteHeader(http.StatusNoContent)
}

// me answers the session's agent and CSRF token.
func (c *Console) me(w http.ResponseWriter, r *http.Request, s session) {
	httpjson.Write(w, http.StatusOK, c.answer(s))
}

// setCookie sends the session cookie, valid as long as the session unused.
func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, id string) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: id, Path: "/console", MaxAge: int(c.cfg.SessionTTL / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure(r),
	})
}

// session returns the request's live session, its expiry moved on and its
// cookie sent again, with the agent as stored now: 401 unauthorized
// without one, and for an agent removed or whose password changed since
// the login (the session ends then).
func (c *Console) session(w http.ResponseWriter, r *http.Request) (session, *httpjson.Error) {
	unauthorized := &httpjson.Error{Status: http.StatusUnauthorized, Code: httpjson.CodeUnauthorized, Message: "log in first"}
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return session{}, unauthorized
	}
	now := c.cfg.Now()
	s, ok := c.auth.lookup(ck.Value, now, now.Add(c.cfg.SessionTTL))
	if !ok {
		return session{}, unauthorized
	}
	a, err := c.cfg.Store.Agent(r.Context(), s.agent.Login)
	switch {
	case errors.Is(err, crm.ErrNotFound), err == nil && a.PasswordHash != s.hash:
		c.auth.end(s.id)
		return session{}, unauthorized
	case err != nil:
		c.log.Error("console session", "agent", s.agent.Login, "err", err)
		return session{}, &httpjson.Error{Status: http.StatusInternalServerError, Code: httpjson.CodeInternal, Message: "internal error"}
	}
	a.PasswordHash = ""
	s.agent = a
	c.auth.update(s.id, a)
	c.setCookie(w, r, s.id)
	return s, nil
}

// checkCSRF compares the request's X-CSRF-Token with the session's, in
// constant time: 403 csrf when they differ.
func checkCSRF(r *http.Request, s session) *httpjson.Error {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) != 1 {
		return &httpjson.Error{Status: http.StatusForbidden, Code: codeCSRF, Message: "missing or wrong X-CSRF-Token: reload the console"}
	}
	return nil
}

// checkOrigin refuses a request another site's page made: an Origin that
// is not this server's own scheme://host, or a Sec-Fetch-Site other than
// same-origin, is 403 cross_origin. Requests without either header (not
// from a browser) pass: they cannot carry an agent's cookie by accident.
func checkOrigin(r *http.Request) *httpjson.Error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return &httpjson.Error{Status: http.StatusForbidden, Code: codeCrossOrigin, Message: "cross-site requests are refused"}
	}
	if o := r.Header.Get("Origin"); o != "" {
		scheme := "http"
		if secure(r) {
			scheme = "https"
		}
		if !strings.EqualFold(o, scheme+"://"+r.Host) {
			return &httpjson.Error{Status: http.StatusForbidden, Code: codeCrossOrigin, Message: "requests from another origin are refused"}
		}
	}
	return nil
}

// secure reports whether the request came over TLS, to this server or to
// the proxy before it (X-Forwarded-Proto: https).
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}
