package console

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/internal/clientip"
	"github.com/parleyhq/parley/internal/httpjson"
)

func loginBody(email, pw string) string {
	return `{"email":"` + email + `","password":"` + pw + `"}`
}

func TestLoginMeLogout(t *testing.T) {
	f := newFixture(t)

	rec := f.serve(request(http.MethodPost, "/console/api/login", loginBody(bob, "wrong password!")))
	wantError(t, rec, http.StatusUnauthorized, httpjson.CodeUnauthorized)
	if sessionCookie(rec) != nil {
		t.Fatal("a failed login set the session cookie")
	}
	rec = f.serve(request(http.MethodPost, "/console/api/login", loginBody("nobody@example.com", password)))
	wantError(t, rec, http.StatusUnauthorized, httpjson.CodeUnauthorized)

	rec = f.serve(request(http.MethodPost, "/console/api/login", loginBody(bob, password)))
	if rec.Code != http.StatusOK {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "$2a$") || strings.Contains(rec.Body.String(), "password") {
		t.Fatalf("login answer shows the password or its hash: %s", rec.Body)
	}
	ans := decode[loginAnswer](t, rec)
	if ans.Agent.Login != bob || ans.Agent.Name != "Bob" || ans.Agent.Role != crm.RoleAgent || len(ans.Agent.Teams) != 2 {
		t.Fatalf("login agent %+v", ans.Agent)
	}
	ck := sessionCookie(rec)
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console" || ck.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/console, not Secure over plain HTTP", ck)
	}
	if ck.MaxAge != int(DefaultSessionTTL/time.Second) {
		t.Errorf("cookie Max-Age %d, want the session TTL", ck.MaxAge)
	}
	a := &agent{f: f, cookie: ck, csrf: ans.CSRF}

	me := ok[loginAnswer](t, a, http.StatusOK, http.MethodGet, "/console/api/me", "")
	if me.Agent.Login != bob || me.CSRF != ans.CSRF {
		t.Fatalf("me %+v, want bob with the login's token", me)
	}

	// Logout needs the CSRF token like every change.
	r := request(http.MethodPost, "/console/api/logout", "")
	r.AddCookie(ck)
	wantError(t, f.serve(r), http.StatusForbidden, codeCSRF)

	rec = a.do(t, http.MethodPost, "/console/api/logout", "")
	if rec.Code != http.StatusNoContent {
		t.Fatalf("logout: %d %s", rec.Code, rec.Body)
	}
	if ck := sessionCookie(rec); ck == nil || ck.MaxAge >= 0 {
		t.Fatalf("logout cookie %+v, want it cleared", ck)
	}
	wantError(t, a.do(t, http.MethodGet, "/console/api/me", ""), http.StatusUnauthorized, httpjson.CodeUnauthorized)
	// Without a session, logout is still 204.
	if rec := f.serve(request(http.MethodPost, "/console/api/logout", "")); rec.Code != http.StatusNoContent {
		t.Fatalf("logout without a session: %d", rec.Code)
	}
}

func TestSecureCookie(t *testing.T) {
	f := newFixture(t)
	r := request(http.MethodPost, "/console/api/login", loginBody(bob, password))
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("Origin", "https://example.com")
	rec := f.serve(r)
	if ck := sessionCookie(rec); rec.Code != http.StatusOK || ck == nil || !ck.Secure {
		t.Fatalf("login behind TLS: %d, cookie %+v, want Secure", rec.Code, ck)
	}
}

func TestLoginBodies(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"empty", "", http.StatusBadRequest, "invalid_json"},
		{"not JSON", "email=bob", http.StatusBadRequest, "invalid_json"},
		{"unknown field", `{"email":"a","password":"b","admin":true}`, http.StatusBadRequest, "invalid_json"},
		{"no password", `{"email":"bob@example.com"}`, http.StatusBadRequest, "bad_request"},
		{"long e-mail", loginBody(strings.Repeat("a", 300), password), http.StatusBadRequest, "bad_request"},
		{"huge body", `{"email":"` + strings.Repeat("a", maxBodyBytes) + `"}`, http.StatusRequestEntityTooLarge, "too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, f.serve(request(http.MethodPost, "/console/api/login", tc.body)), tc.status, tc.code)
		})
	}
}

func TestLoginLockout(t *testing.T) {
	t.Run("account", func(t *testing.T) {
		f := newFixture(t)
		for i := range maxFailures {
			r := request(http.MethodPost, "/console/api/login", loginBody(bob, "wrong password!"))
			r.RemoteAddr = "198.51.100." + strconv.Itoa(i+1) + ":4000" // a new address each time
			wantError(t, f.serve(r), http.StatusUnauthorized, httpjson.CodeUnauthorized)
			f.clock.advance(10 * time.Second)
		}
		// Locked, even with the right password, from any address, and
		// for the address case-folded.
		for _, email := range []string{bob, strings.ToUpper(bob)} {
			r := request(http.MethodPost, "/console/api/login", loginBody(email, password))
			r.RemoteAddr = "203.0.113.9:4000"
			rec := f.serve(r)
			wantError(t, rec, http.StatusTooManyRequests, codeTooManyAttempts)
			// The first failure leaves the window 5 minutes after it: 50 s ago.
			if got := rec.Header().Get("Retry-After"); got != "250" {
				t.Errorf("Retry-After %q, want 250", got)
			}
		}
		// Another account is not locked.
		f.login(t, carol)
		// Once the first failure is 5 minutes old, the right password works.
		f.clock.advance(250 * time.Second)
		f.login(t, bob)
	})
	t.Run("address", func(t *testing.T) {
		f := newFixture(t)
		for i := range maxFailures {
			r := request(http.MethodPost, "/console/api/login", loginBody("x"+strconv.Itoa(i)+"@example.com", "wrong password!"))
			wantError(t, f.serve(r), http.StatusUnauthorized, httpjson.CodeUnauthorized)
		}
		rec := f.serve(request(http.MethodPost, "/console/api/login", loginBody(carol, password)))
		wantError(t, rec, http.StatusTooManyRequests, codeTooManyAttempts)
		if got := rec.Header().Get("Retry-After"); got != "300" {
			t.Errorf("Retry-After %q, want 300", got)
		}
		r := request(http.MethodPost, "/console/api/login", loginBody(carol, password))
		r.RemoteAddr = "203.0.113.9:4000"
		if rec := f.serve(r); rec.Code != http.StatusOK {
			t.Fatalf("login from another address: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("address behind a trusted proxy", func(t *testing.T) {
		// Failures count against the client the load balancer names,
		// not against the balancer, which every agent shares.
		f := newFixture(t)
		proxies, err := clientip.Parse("10.0.0.0/8")
		if err != nil {
			t.Fatal(err)
		}
		f.console.cfg.Proxies = proxies
		viaProxy := func(client, body string) *http.Request {
			r := request(http.MethodPost, "/console/api/login", body)
			r.RemoteAddr = "10.0.0.2:4000"
			r.Header.Set("X-Forwarded-For", client)
			return r
		}
		for i := range maxFailures {
			wantError(t, f.serve(viaProxy("198.51.100.7", loginBody("x"+strconv.Itoa(i)+"@example.com", "wrong password!"))),
				http.StatusUnauthorized, httpjson.CodeUnauthorized)
		}
		wantError(t, f.serve(viaProxy("198.51.100.7", loginBody(carol, password))), http.StatusTooManyRequests, codeTooManyAttempts)
		if rec := f.serve(viaProxy("198.51.100.8", loginBody(carol, password))); rec.Code != http.StatusOK {
			t.Fatalf("login of another client through the same proxy: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("simultaneous correct logins from one address", func(t *testing.T) {
		// A team behind one office address signs in at once: nobody is
		// locked out, since only wrong passwords count.
		f := newFixture(t)
		const n = 12
		codes := make(chan int, n)
		for i := range n {
			email := bob
			if i%2 == 1 {
				email = carol
			}
			go func() {
				codes <- f.serve(request(http.MethodPost, "/console/api/login", loginBody(email, password))).Code
			}()
		}
		for range n {
			if code := <-codes; code != http.StatusOK {
				t.Errorf("login answered %d, want 200", code)
			}
		}
	})
	t.Run("e-mail case does not matter", func(t *testing.T) {
		f := newFixture(t)
		a := f.login(t, strings.ToUpper(bob))
		me := ok[loginAnswer](t, a, http.StatusOK, http.MethodGet, "/console/api/me", "")
		if me.Agent.Login != bob || me.SLASeconds != int(f.console.cfg.SLA.Seconds()) || me.SLASeconds <= 0 {
			t.Errorf("me = %+v, want %s with the SLA in seconds", me, bob)
		}
	})
	t.Run("successes do not count", func(t *testing.T) {
		f := newFixture(t)
		for range 2 * maxFailures {
			f.login(t, bob)
		}
	})
	t.Run("simultaneous attempts", func(t *testing.T) {
		f := newFixture(t)
		const n = 20
		codes := make(chan int, n)
		for range n {
			go func() {
				codes <- f.serve(request(http.MethodPost, "/console/api/login", loginBody(bob, "wrong password!"))).Code
			}()
		}
		count := map[int]int{}
		for range n {
			count[<-codes]++
		}
		if count[http.StatusUnauthorized] != maxFailures || count[http.StatusTooManyRequests] != n-maxFailures {
			t.Fatalf("answers %v, want %d checked passwords and the rest locked", count, maxFailures)
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	f := newFixture(t)
	a := f.login(t, bob)
	// Each use starts the TTL again.
	for range 3 {
		f.clock.advance(DefaultSessionTTL - time.Minute)
		ok[loginAnswer](t, a, http.StatusOK, http.MethodGet, "/console/api/me", "")
	}
	f.clock.advance(DefaultSessionTTL)
	wantError(t, a.do(t, http.MethodGet, "/console/api/me", ""), http.StatusUnauthorized, httpjson.CodeUnauthorized)
}

func TestSessionEndsWithTheAgent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b, c := f.login(t, bob), f.login(t, carol)

	// A role given while logged in shows at once.
	if _, err := f.store.PutAgent(ctx, crm.Agent{Login: carol, Name: "Carol", Role: crm.RoleAdmin}, ""); err != nil {
		t.Fatal(err)
	}
	if me := ok[loginAnswer](t, c, http.StatusOK, http.MethodGet, "/console/api/me", ""); me.Agent.Role != crm.RoleAdmin {
		t.Fatalf("role %s after the change, want admin", me.Agent.Role)
	}
	// A new password ends the sessions opened with the old one.
	if _, err := f.store.PutAgent(ctx, crm.Agent{Login: carol, Name: "Carol", Role: crm.RoleAdmin}, "another long password"); err != nil {
		t.Fatal(err)
	}
	wantError(t, c.do(t, http.MethodGet, "/console/api/me", ""), http.StatusUnauthorized, httpjson.CodeUnauthorized)
	// A removed agent is logged out.
	if err := f.store.DeleteAgent(ctx, bob); err != nil {
		t.Fatal(err)
	}
	wantError(t, b.do(t, http.MethodGet, "/console/api/me", ""), http.StatusUnauthorized, httpjson.CodeUnauthorized)
}

func TestCrossOriginAndCSRF(t *testing.T) {
	f := newFixture(t)
	conv := f.handedOff(t, "conv-x", "")
	a := f.login(t, bob)
	claim := "/console/api/conversations/" + conv.ID + "/claim"
	for _, tc := range []struct {
		name   string
		change func(*http.Request)
		status int
		code   string
	}{
		{"other origin", func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }, http.StatusForbidden, codeCrossOrigin},
		{"other scheme", func(r *http.Request) { r.Header.Set("Origin", "https://example.com") }, http.StatusForbidden, codeCrossOrigin},
		{"null origin", func(r *http.Request) { r.Header.Set("Origin", "null") }, http.StatusForbidden, codeCrossOrigin},
		{"cross-site fetch", func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }, http.StatusForbidden, codeCrossOrigin},
		{"same-site fetch", func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "same-site") }, http.StatusForbidden, codeCrossOrigin},
		{"no token", func(r *http.Request) { r.Header.Del("X-CSRF-Token") }, http.StatusForbidden, codeCSRF},
		{"wrong token", func(r *http.Request) { r.Header.Set("X-CSRF-Token", a.csrf[1:]+"x") }, http.StatusForbidden, codeCSRF},
		{"no session", func(r *http.Request) { r.Header.Del("Cookie") }, http.StatusUnauthorized, httpjson.CodeUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := request(http.MethodPost, claim, "")
			r.AddCookie(a.cookie)
			r.Header.Set("X-CSRF-Token", a.csrf)
			tc.change(r)
			wantError(t, f.serve(r), tc.status, tc.code)
		})
	}
	// Nothing was claimed by the refused requests.
	if c, _ := f.store.Conversation(context.Background(), conv.ID); c.State != crm.StateWaiting {
		t.Fatalf("state %s after refused claims", c.State)
	}
	// Another agent's token does not do.
	other := f.login(t, dave)
	r := request(http.MethodPost, claim, "")
	r.AddCookie(a.cookie)
	r.Header.Set("X-CSRF-Token", other.csrf)
	wantError(t, f.serve(r), http.StatusForbidden, codeCSRF)

	// Login from another site is refused too.
	r = request(http.MethodPost, "/console/api/login", loginBody(bob, password))
	r.Header.Set("Origin", "https://evil.example")
	wantError(t, f.serve(r), http.StatusForbidden, codeCrossOrigin)

	// A request without Origin and Sec-Fetch-Site (not a browser) with the
	// token goes through.
	r = httptestRequest(http.MethodPost, claim)
	r.AddCookie(a.cookie)
	r.Header.Set("X-CSRF-Token", a.csrf)
	if rec := f.serve(r); rec.Code != http.StatusOK {
		t.Fatalf("claim without Origin: %d %s", rec.Code, rec.Body)
	}
}

func TestSocketNeedsOriginAndSession(t *testing.T) {
	f := newFixture(t)
	a := f.login(t, bob)
	for _, tc := range []struct {
		name   string
		origin string
		cookie bool
		status int
		code   string
	}{
		{"no origin", "", true, http.StatusForbidden, codeCrossOrigin},
		{"other origin", "https://evil.example", true, http.StatusForbidden, codeCrossOrigin},
		{"no session", origin, false, http.StatusUnauthorized, httpjson.CodeUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptestRequest(http.MethodGet, "/console/ws")
			r.Header.Set("Connection", "Upgrade")
			r.Header.Set("Upgrade", "websocket")
			r.Header.Set("Sec-WebSocket-Version", "13")
			r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			if tc.cookie {
				r.AddCookie(a.cookie)
			}
			wantError(t, f.serve(r), tc.status, tc.code)
		})
	}
}
