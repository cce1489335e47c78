package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parleyhq/parley/crm/postgres"
	"github.com/parleyhq/parley/internal/servicetest"
	"github.com/parleyhq/parley/internal/shoptest"
)

// The cluster tests need PostgreSQL and NATS JetStream: PARLEY_TEST_POSTGRES
// (default the machine's, postgres://root@127.0.0.1:5432/test) and
// PARLEY_TEST_NATS (default nats://127.0.0.1:4222). Without them they skip,
// except under CI=true, where they fail. The test imports pgx and nats.go
// only to make and drop its own schema and stream.

// clusterPostgres returns the URL of a schema of the test's own (by
// search_path), dropped when the test ends.
func clusterPostgres(t *testing.T) string { return servicetest.Postgres(t) }

// clusterNATS returns the NATS URL and sets PARLEY_EVENTS_STREAM and
// PARLEY_EVENTS_PREFIX to a stream of the test's own, deleted when the test
// ends.
func clusterNATS(t *testing.T) string {
	t.Helper()
	u := servicetest.NATS(t)
	stream, prefix := servicetest.Stream(t, u)
	t.Setenv("PARLEY_EVENTS_STREAM", stream)
	t.Setenv("PARLEY_EVENTS_PREFIX", prefix)
	return u
}

// startNodes runs one "bot serve" per argument list, all started at once
// (as nodes behind a load balancer start), and returns once every one
// listens.
func startNodes(t *testing.T, args ...[]string) []*served {
	t.Helper()
	nodes := make([]*served, len(args))
	for i, a := range args {
		seedKBEncoder(t, a)
		ctx, cancel := context.WithCancel(context.Background())
		s := &served{out: &syncBuffer{}, errOut: &syncBuffer{}, cancel: cancel, code: make(chan int, 1)}
		m := NewMain(s.out, s.errOut)
		go func() { s.code <- m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, a...)) }()
		t.Cleanup(func() { s.stop(t) })
		nodes[i] = s
	}
	deadline := time.Now().Add(3 * time.Minute)
	for i, s := range nodes {
		for {
			if line, ok := strings.CutPrefix(s.out.String(), "Parley is serving on "); ok {
				s.base, _, _ = strings.Cut(line, "\n")
				break
			}
			select {
			case code := <-s.code:
				s.code <- code
				t.Fatalf("node %d exited with %d before listening: %s %s", i, code, s.out, s.errOut)
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %d does not listen: %s %s", i, s.out, s.errOut)
			}
		}
	}
	return nodes
}

// apiPost posts body to the REST API of s and returns the status and the
// answer.
func apiPost(t *testing.T, s *served, token, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// helloAt opens a web chat socket on base and says hello with token and
// lastSeq.
func helloAt(t *testing.T, base, token string, lastSeq uint64) (*websocket.Conn, wsFrame) {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws", http.Header{"Origin": {base}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	send(t, conn, map[string]any{"v": 1, "type": "hello", "token": token, "last_seq": lastSeq})
	var w struct {
		wsFrame
		LastSeq uint64 `json:"last_seq"`
		State   string `json:"state"`
	}
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	for w.Type != "welcome" {
		if err := conn.ReadJSON(&w); err != nil {
			t.Fatalf("read welcome: %v", err)
		}
		if w.Type == "error" {
			t.Fatalf("hello answered with an error: %+v", w)
		}
	}
	w.wsFrame.Seq = w.LastSeq // the welcome's newest stored seq
	w.wsFrame.Sender = w.State
	return conn, w.wsFrame
}

// TestServeCluster runs two nodes on one PostgreSQL schema and one NATS
// stream, as behind a load balancer without sticky sessions: a web chat
// customer on node A asks for a person; an agent claims the conversation
// and answers through node B's REST API; the customer's socket on A gets
// the answer live; node A stops, and the customer's token resumes on node
// B with the whole conversation.
func TestServeCluster(t *testing.T) {
	pg := clusterPostgres(t)
	nc := clusterNATS(t)
	const apiToken = "cluster-api-token"
	model := shoptest.ModelDir(t)
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	common := []string{"--model", model, "--store", pg, "--events", nc, "--api-token", apiToken}
	nodes := startNodes(t, append([]string{"--data-dir", dirA}, common...), append([]string{"--data-dir", dirB}, common...))
	a, b := nodes[0], nodes[1]

	// Started together, the nodes seeded the new database once.
	if n := strings.Count(a.errOut.String()+b.errOut.String(), "loaded the demo shop"); n != 1 {
		t.Errorf("the demo shop was loaded %d times, want once:\nA: %s\nB: %s", n, a.errOut, b.errOut)
	}
	for _, s := range nodes {
		if !strings.Contains(s.out.String(), "PostgreSQL") || !strings.Contains(s.out.String(), "NATS JetStream") {
			t.Errorf("the banner does not name the store and the events:\n%s", s.out)
		}
		if strings.Contains(s.out.String(), "password") {
			t.Errorf("banner: %s", s.out)
		}
		if code, body := s.get(t, "/readyz"); code != http.StatusOK {
			t.Errorf("GET /readyz: %d %s", code, body)
		}
	}
	for _, d := range []string{dirA, dirB} {
		if _, err := os.Stat(filepath.Join(d, tokenKeyFile)); err == nil {
			t.Errorf("with PostgreSQL the token key is in the database, yet %s has %s", d, tokenKeyFile)
		}
	}

	// An agent, added through node B's admin socket (its data directory has
	// no store file: the server answers for its database).
	if code, out, errOut := run(t, testPassword+"\n", "agent", "add", "sam@example.com", "--name", "Sam", "--data-dir", dirB); code != 0 {
		t.Fatalf("agent add through node B: exit %d: %s %s", code, out, errOut)
	}
	// What only a bbolt file can do is refused with the way to do it.
	for _, args := range [][]string{{"backup", "--data-dir", dirB, "--out", filepath.Join(t.TempDir(), "copy.db")}, {"check", "--data-dir", dirB}} {
		if code, out, errOut := run(t, "", args...); code == 0 || !strings.Contains(errOut, "pg_dump") {
			t.Errorf("bot %s on a PostgreSQL server: exit %d, %q %q; want an error naming pg_dump", args[0], code, out, errOut)
		}
	}

	// The customer, on node A, asks for a person.
	conn, welcome := helloAt(t, a.base, "", 0)
	token, convID := welcome.Token, welcome.ConversationID
	send(t, conn, map[string]any{"v": 1, "type": "message", "client_id": "c1", "text": "I want to talk to a person"})
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	for botSeen := false; !botSeen; {
		var f wsFrame
		if err := conn.ReadJSON(&f); err != nil {
			t.Fatalf("read frame: %v", err)
		}
		switch {
		case f.Type == "welcome" && f.Token != "":
			token = f.Token
		case f.Type == "message" && f.Sender == "bot":
			botSeen = true
		}
	}

	// An agent claims it and answers through node B's API.
	if code, body := apiPost(t, b, apiToken, "/api/v1/conversations/"+convID+"/claim", `{"agent_id": "sam@example.com"}`); code != http.StatusOK {
		t.Fatalf("claim on node B: %d %s", code, body)
	}
	const agentText = "Hello, this is Sam from node B."
	code, body := apiPost(t, b, apiToken, "/api/v1/conversations/"+convID+"/messages",
		`{"text": "`+agentText+`", "sender": "agent", "agent_id": "sam@example.com", "client_id": "b1"}`)
	if code != http.StatusCreated {
		t.Fatalf("agent message on node B: %d %s", code, body)
	}
	var posted struct{ Seq uint64 }
	if err := json.Unmarshal([]byte(body), &posted); err != nil || posted.Seq == 0 {
		t.Fatalf("agent message: %s (%v)", body, err)
	}
	got := readUntil(t, conn, func(f wsFrame) bool { return f.Type == "message" && f.Sender == "agent" })
	if got.Text != agentText || got.Seq != posted.Seq {
		t.Errorf("the customer on node A got %+v, want %q with seq %d", got, agentText, posted.Seq)
	}
	conn.Close()

	// Node A stops; the customer's token resumes on node B with everything.
	a.stop(t)
	conn, again := helloAt(t, b.base, token, 0)
	if again.ConversationID != convID || again.Seq != posted.Seq || again.Sender != "agent" {
		t.Fatalf("resumed on node B: conversation %s, last seq %d, state %s; want %s, %d, agent",
			again.ConversationID, again.Seq, again.Sender, convID, posted.Seq)
	}
	var seqs []uint64
	senders := map[string]bool{}
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	for len(seqs) == 0 || seqs[len(seqs)-1] < posted.Seq {
		var f wsFrame
		if err := conn.ReadJSON(&f); err != nil {
			t.Fatalf("read the history on node B: %v (so far %v)", err, seqs)
		}
		if f.Type != "message" {
			continue
		}
		if len(seqs) > 0 && f.Seq != seqs[len(seqs)-1]+1 || len(seqs) == 0 && f.Seq != 1 {
			t.Fatalf("history on node B: seq %d after %v", f.Seq, seqs)
		}
		seqs = append(seqs, f.Seq)
		senders[f.Sender] = true
		if f.Sender == "customer" && f.ClientID != "c1" {
			t.Errorf("customer message %+v, want client id c1", f)
		}
	}
	for _, who := range []string{"customer", "bot", "agent"} {
		if !senders[who] {
			t.Errorf("the history on node B has no %s message (seqs %v)", who, seqs)
		}
	}
	// A hello with the last seq it has gets nothing again, and the next
	// message live.
	conn.Close()
	conn, _ = helloAt(t, b.base, token, posted.Seq)
	const more = "One more thing from Sam."
	if code, body := apiPost(t, b, apiToken, "/api/v1/conversations/"+convID+"/messages",
		`{"text": "`+more+`", "sender": "agent", "agent_id": "sam@example.com"}`); code != http.StatusCreated {
		t.Fatalf("second agent message: %d %s", code, body)
	}
	if f := readUntil(t, conn, func(f wsFrame) bool { return f.Type == "message" }); f.Text != more || f.Seq != posted.Seq+1 {
		t.Errorf("after a hello with last seq %d the first message is %+v, want %q", posted.Seq, f, more)
	}
}

// TestClusterStoreSharedKeyAndSeed starts two stores on one new database at
// once, as two nodes do: one seeds the demo shop, and both sign visitors'
// tokens with the same key, kept in the database.
func TestClusterStoreSharedKeyAndSeed(t *testing.T) {
	pg := clusterPostgres(t)
	t.Setenv("PARLEY_TOKEN_KEY", "")
	ctx := context.Background()
	var (
		wg   sync.WaitGroup
		keys [2][]byte
		errs [2]error
		outs [2]*syncBuffer
	)
	for i := range 2 {
		outs[i] = &syncBuffer{}
		wg.Go(func() {
			db, err := postgres.Open(ctx, pg, nil)
			if err != nil {
				errs[i] = err
				return
			}
			st := &serveStore{Store: db, pg: db, locker: db.TurnLocker(), name: "PostgreSQL"}
			defer st.Close()
			m := NewMain(outs[i], outs[i])
			if errs[i] = seedShared(ctx, m, st); errs[i] == nil {
				keys[i], errs[i] = serveTokenKey(ctx, st, "")
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
	if len(keys[0]) != 32 || !bytes.Equal(keys[0], keys[1]) {
		t.Errorf("the nodes' token keys differ: %x and %x", keys[0], keys[1])
	}
	if n := strings.Count(outs[0].String()+outs[1].String(), "loaded the demo shop"); n != 1 {
		t.Errorf("the demo shop was loaded %d times, want once", n)
	}
	db, err := postgres.Open(ctx, pg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := db.Stats(ctx)
	if err != nil || st.Customers == 0 {
		t.Fatalf("after seeding: %+v, %v", st, err)
	}
	// A restart neither seeds again nor changes the key.
	again := &serveStore{Store: db, pg: db, locker: db.TurnLocker()}
	defer again.locker.Close()
	var out syncBuffer
	if err := seedShared(ctx, NewMain(&out, &out), again); err != nil || out.String() != "" {
		t.Errorf("seed again: %v %q", err, out.String())
	}
	if k, err := serveTokenKey(ctx, again, t.TempDir()); err != nil || !bytes.Equal(k, keys[0]) {
		t.Errorf("key after a restart: %x, %v; want %x", k, err, keys[0])
	}
}

// TestServeStoreFlags checks --store, --events and the environment: bad
// values are usage errors that name the flag, before anything is opened.
func TestServeStoreFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"store scheme", nil, []string{"--store", "mysql://root@db/parley"}, "--store"},
		{"store bad url", nil, []string{"--store", "postgres://root@db:port/x"}, "--store"},
		{"store password hidden", nil, []string{"--store", "redis://root:hunter2@db/0"}, "--store"},
		{"events scheme", nil, []string{"--events", "http://127.0.0.1:4222"}, "--events"},
		{"events no host", nil, []string{"--events", "nats://"}, "--events"},
		{"events one bad of two", nil, []string{"--events", "nats://a:4222,b:4222"}, "--events"},
		{"store env", map[string]string{"PARLEY_STORE": "mongodb://x"}, nil, "PARLEY_STORE"},
		{"events env", map[string]string{"PARLEY_EVENTS": "127.0.0.1:4222"}, nil, "PARLEY_EVENTS"},
		{"stream without events", map[string]string{"PARLEY_EVENTS_STREAM": "S"}, nil, "--events"},
		{"stream name", map[string]string{"PARLEY_EVENTS_STREAM": "a.b"}, []string{"--events", "nats://127.0.0.1:4222"}, "PARLEY_EVENTS_STREAM"},
		{"subject prefix", map[string]string{"PARLEY_EVENTS_PREFIX": "parley.>"}, []string{"--events", "nats://127.0.0.1:4222"}, "PARLEY_EVENTS_PREFIX"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"PARLEY_STORE", "PARLEY_EVENTS", "PARLEY_EVENTS_STREAM", "PARLEY_EVENTS_PREFIX"} {
				t.Setenv(k, tc.env[k])
			}
			code, _, errOut := run(t, "", append([]string{"serve", "--data-dir", dir}, tc.args...)...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, %q; want 2 and a message naming %s", code, errOut, tc.want)
			}
			if strings.Contains(errOut, "hunter2") {
				t.Errorf("the message shows the password: %q", errOut)
			}
		})
	}
	// Without the flags, the store stays DATA-DIR/parley.db; a path is a
	// bbolt file; a postgresql:// URL and NATS URLs are taken as given.
	for _, tc := range []struct {
		args               []string
		bolt, pg, natsURLs string
	}{
		{nil, filepath.Join(dir, storeFile), "", ""},
		{[]string{"--store", "/srv/parley/shop.db"}, "/srv/parley/shop.db", "", ""},
		{[]string{"--store", "postgresql://u@db/parley", "--events", "nats://n1:4222,nats://n2:4222"}, "", "postgresql://u@db/parley", "nats://n1:4222,nats://n2:4222"},
	} {
		sp, err := storeFlagsFor(t, tc.args...).spec(dir)
		if err != nil || sp.boltPath != tc.bolt || sp.pgURL != tc.pg || sp.natsURL != tc.natsURLs {
			t.Errorf("%q: %+v, %v", tc.args, sp, err)
		}
	}
}

// storeFlagsFor parses args as serve's store flags, with no PARLEY_STORE
// or PARLEY_EVENTS* in the environment.
func storeFlagsFor(t *testing.T, args ...string) storeFlags {
	t.Helper()
	for _, k := range []string{"PARLEY_STORE", "PARLEY_EVENTS", "PARLEY_EVENTS_STREAM", "PARLEY_EVENTS_PREFIX"} {
		t.Setenv(k, "")
	}
	m := NewMain(&bytes.Buffer{}, &bytes.Buffer{})
	f := m.flagSet("serve", "", "")
	s := addStoreFlags(f)
	if err := f.Parse(args); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestServeStoreTokenKeyEnv: PARLEY_TOKEN_KEY, in hex, is the key, and a
// malformed one is refused.
func TestServeStoreTokenKeyEnv(t *testing.T) {
	dir := t.TempDir()
	want := bytes.Repeat([]byte{0xab}, 32)
	t.Setenv("PARLEY_TOKEN_KEY", hex.EncodeToString(want))
	key, err := serveTokenKey(context.Background(), &serveStore{}, dir)
	if err != nil || !bytes.Equal(key, want) {
		t.Errorf("key %x, %v; want %x", key, err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, tokenKeyFile)); err == nil {
		t.Errorf("a key file was written although PARLEY_TOKEN_KEY is set")
	}
	for _, bad := range []string{"xyz", hex.EncodeToString(want[:16])} {
		t.Setenv("PARLEY_TOKEN_KEY", bad)
		if _, err := serveTokenKey(context.Background(), &serveStore{}, dir); err == nil || !strings.Contains(err.Error(), "PARLEY_TOKEN_KEY") {
			t.Errorf("PARLEY_TOKEN_KEY=%s: %v", bad, err)
		}
	}
}

// TestServeClusterModelMismatch: two nodes on one NATS stream whose NLU
// models differ each count the other in parley_cluster_model_mismatch and
// warn about it once; both count two nodes.
func TestServeClusterModelMismatch(t *testing.T) {
	pg := clusterPostgres(t)
	nc := clusterNATS(t)
	model := shoptest.ModelDir(t)
	other := filepath.Join(t.TempDir(), "other-model")
	if err := os.CopyFS(other, os.DirFS(model)); err != nil {
		t.Fatal(err)
	}
	meta, err := os.ReadFile(filepath.Join(other, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(meta, &m); err != nil {
		t.Fatal(err)
	}
	m["threshold"] = m["threshold"].(float64) + 0.01 // another calibration: another model
	if meta, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "meta.json"), meta, 0o644); err != nil {
		t.Fatal(err)
	}
	common := []string{"--store", pg, "--events", nc}
	nodes := startNodes(t,
		append([]string{"--data-dir", filepath.Join(t.TempDir(), "a"), "--model", model}, common...),
		append([]string{"--data-dir", filepath.Join(t.TempDir(), "b"), "--model", other}, common...))
	for i, s := range nodes {
		var body string
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			_, body = s.get(t, "/metrics")
			if strings.Contains(body, "\nparley_cluster_nodes 2\n") && strings.Contains(body, "\nparley_cluster_model_mismatch 1\n") &&
				strings.Contains(s.errOut.String(), "another node runs another NLU model") {
				break
			}
		}
		if !strings.Contains(body, "\nparley_cluster_nodes 2\n") || !strings.Contains(body, "\nparley_cluster_model_mismatch 1\n") {
			t.Errorf("node %d's cluster metrics:\n%s", i, grepLines(body, "parley_cluster_"))
		}
		if n := strings.Count(s.errOut.String(), "another node runs another NLU model"); n != 1 {
			t.Errorf("node %d warned %d times about the other model, want once:\n%s", i, n, s.errOut)
		}
		if !strings.Contains(body, "\nparley_events_published_total ") {
			t.Errorf("node %d has no NATS event counts", i)
		}
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}
