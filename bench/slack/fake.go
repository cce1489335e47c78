package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// fakeSlack is the Web API the server under test calls: auth.test,
// users.info and chat.postMessage, answered at once. It counts the
// messages posted to each channel and when the first of each came.
type fakeSlack struct {
	srv *http.Server
	url string

	mu     sync.Mutex
	posts  map[string][]time.Time // when each chat.postMessage to a channel came; guarded by mu
	lastAt time.Time              // guarded by mu
	ts     int                    // guarded by mu
}

func startFakeSlack() (*fakeSlack, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &fakeSlack{posts: map[string][]time.Time{}, url: "http://" + ln.Addr().String() + "/api/"}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/auth.test", func(w http.ResponseWriter, _ *http.Request) {
		answer(w, map[string]any{"ok": true, "team": "Bench", "team_id": "TBENCH", "user_id": "UBOT", "bot_id": "BBOT"})
	})
	mux.HandleFunc("/api/users.info", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		id := r.FormValue("user")
		answer(w, map[string]any{"ok": true, "user": map[string]any{"id": id, "name": strings.ToLower(id),
			"profile": map[string]any{"email": strings.ToLower(id) + "@bench.example"}}})
	})
	mux.HandleFunc("/api/chat.postMessage", f.postMessage)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		answer(w, map[string]any{"ok": true})
	})
	f.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go f.srv.Serve(ln)
	return f, nil
}

func (f *fakeSlack) postMessage(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ch := r.FormValue("channel")
	now := time.Now()
	f.mu.Lock()
	f.posts[ch] = append(f.posts[ch], now)
	f.lastAt = now
	f.ts++
	ts := fmt.Sprintf("1800000000.%06d", f.ts)
	f.mu.Unlock()
	answer(w, map[string]any{"ok": true, "channel": ch, "ts": ts})
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// snapshot returns a copy of the post times per channel and the time of
// the last post.
func (f *fakeSlack) snapshot() (map[string][]time.Time, time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string][]time.Time, len(f.posts))
	for k, v := range f.posts {
		out[k] = append([]time.Time(nil), v...)
	}
	return out, f.lastAt
}

func (f *fakeSlack) close() { f.srv.Close() }
