package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parleyhq/parley/crm/postgres"
	"github.com/parleyhq/parley/internal/shoptest"
)

// serveKillChildEnv, when set, makes TestServeClusterSIGKILL the node that
// it kills: the test binary runs "bot serve" with the arguments in it (a
// JSON array) until it is killed, or until its standard input closes (the
// test ended without killing it).
const serveKillChildEnv = "PARLEY_TEST_SERVE_KILL_CHILD"

// TestServeClusterSIGKILL runs node A as a process of its own and node B
// in the test, on one PostgreSQL schema and one NATS stream. A web chat
// customer talks to the bot on A and asks for a person; an agent claims
// the conversation and answers through B's REST API, and the customer sees
// it on A. Then A is killed with SIGKILL. The customer's token resumes on
// B with every message acknowledged before the kill, once each and in seq
// order, and the customer and the agent go on talking through B.
//
// Two messages are acknowledged by A and killed with it before their turn
// (the test holds their conversations' turn locks, as a turn running on
// another node would, so that A stops between the ack and the answer
// every time): one in the agent's conversation and one in a second
// customer's conversation that the bot holds. Both must be stored; what
// happens to the bot's answer of the second is checked below.
func TestServeClusterSIGKILL(t *testing.T) {
	if args := os.Getenv(serveKillChildEnv); args != "" {
		serveKillChild(t, args)
		return
	}
	pg := clusterPostgres(t)
	nc := clusterNATS(t)
	const apiToken = "kill-api-token"
	model := shoptest.ModelDir(t)
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	common := []string{"--model", model, "--store", pg, "--events", nc, "--api-token", apiToken}
	seedKBEncoder(t, append([]string{"--data-dir", dirA}, common...))
	a := startKillNode(t, append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dirA}, common...))
	b := startNodes(t, append([]string{"--data-dir", dirB}, common...))[0]
	a.waitListening(t)
	if code, out, errOut := run(t, testPassword+"\n", "agent", "add", "sam@example.com", "--name", "Sam", "--data-dir", dirB); code != 0 {
		t.Fatalf("agent add through node B: exit %d: %s %s", code, out, errOut)
	}

	// The customer talks to the bot on node A, then asks for a person.
	cust := chatAt(t, a.base, "", 0)
	for i, text := range []string{"hello", "what shipping options do you have", "I want to talk to a person"} {
		id := fmt.Sprintf("c%d", i+1)
		cust.say(t, id, text)
		cust.read(t, func(f wsFrame) bool { return f.Type == "message" && f.Sender == "bot" && f.Seq > cust.acked[id] })
	}

	// An agent claims it and answers through node B; the customer sees the
	// answer live on node A.
	if code, body := apiPost(t, b, apiToken, "/api/v1/conversations/"+cust.convID+"/claim", `{"agent_id": "sam@example.com"}`); code != http.StatusOK {
		t.Fatalf("claim on node B: %d %s", code, body)
	}
	agentSeq := agentSays(t, b, apiToken, cust.convID, "Hello, this is Sam on node B.", "b1")
	if f := cust.read(t, func(f wsFrame) bool { return f.Type == "message" && f.Sender == "agent" }); f.Seq != agentSeq {
		t.Fatalf("the customer on node A got %+v, want the agent's message with seq %d", f, agentSeq)
	}
	cust.say(t, "c4", "my order is late")
	cust.read(t, func(f wsFrame) bool { return f.Type == "ack" && f.ClientID == "c4" })

	// Turn locks held as another node's turns would hold them: node A
	// acknowledges the next messages and then waits for the lock.
	ctx := context.Background()
	db, err := postgres.Open(ctx, pg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	locker := db.TurnLocker()
	defer locker.Close()
	lock := func(conv string) func() {
		lctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		unlock, err := locker.Lock(lctx, conv)
		if err != nil {
			t.Fatalf("turn lock of %s: %v", conv, err)
		}
		return unlock
	}
	unlock1 := lock(cust.convID)
	cust.say(t, "c5", "are you still there?")
	cust.read(t, func(f wsFrame) bool { return f.Type == "ack" && f.ClientID == "c5" })

	// A second customer, whose conversation the bot holds.
	other := chatAt(t, a.base, "", 0)
	unlock2 := lock(other.convID)
	other.say(t, "p1", "where is my refund")
	other.read(t, func(f wsFrame) bool { return f.Type == "ack" && f.ClientID == "p1" })

	a.kill(t)
	unlock1()
	unlock2()

	// The customer's token resumes on node B with everything: seqs 1..N,
	// each once, every acknowledged message at the seq of its ack, every
	// message seen on node A unchanged.
	cust.conn.Close()
	hist := chatHistory(t, b.base, cust.token, cust.convID)
	for id, seq := range cust.acked {
		n := 0
		for _, f := range hist {
			if f.ClientID == id {
				n++
				if f.Seq != seq || f.Sender != "customer" || f.Text != cust.sent[id] {
					t.Errorf("acknowledged %s (seq %d, %q) is %+v on node B", id, seq, cust.sent[id], f)
				}
			}
		}
		if n != 1 {
			t.Errorf("acknowledged %s is %d times in the history on node B, want once", id, n)
		}
	}
	for seq, f := range cust.seen {
		if seq > uint64(len(hist)) {
			t.Errorf("seq %d (%+v), seen on node A, is not on node B (last seq %d)", seq, f, len(hist))
			continue
		}
		if h := hist[seq-1]; h.Sender != f.Sender || f.Text != "" && h.Text != f.Text {
			t.Errorf("seq %d was %+v on node A, is %+v on node B", seq, f, h)
		}
	}

	// Customer and agent go on through node B: the agent, still holding
	// the conversation, gets the customer's messages acknowledged by A
	// (including c5, whose turn A never ran) and by B, and the customer sees
	// the agent's next message live.
	cust = chatAt(t, b.base, cust.token, uint64(len(hist)))
	cust.say(t, "c6", "hello again")
	cust.read(t, func(f wsFrame) bool { return f.Type == "ack" && f.ClientID == "c6" })
	if got, want := cust.acked["c6"], uint64(len(hist))+1; got != want {
		t.Errorf("c6 on node B was stored with seq %d, want %d", got, want)
	}
	var msgs struct {
		Messages []wsFrame `json:"messages"`
	}
	if code, body := apiGet(t, b, apiToken, fmt.Sprintf("/api/v1/conversations/%s/messages?after=%d", cust.convID, agentSeq)); code != http.StatusOK {
		t.Fatalf("messages on node B: %d %s", code, body)
	} else if err := json.Unmarshal([]byte(body), &msgs); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range msgs.Messages {
		if m.Sender != "customer" {
			t.Errorf("after the agent's message, node B lists %+v; want only the customer's", m)
		}
		ids = append(ids, m.ClientID)
	}
	if strings.Join(ids, " ") != "c4 c5 c6" {
		t.Errorf("the agent gets the customer's messages %q through node B, want c4 c5 c6", ids)
	}
	last := agentSays(t, b, apiToken, cust.convID, "Sorry for the wait: your parcel left today.", "b2")
	if f := cust.read(t, func(f wsFrame) bool { return f.Type == "message" }); f.Seq != last || f.Sender != "agent" {
		t.Errorf("the customer on node B got %+v, want the agent's message with seq %d", f, last)
	}

	// The second customer's message p1 is stored; node A died before its
	// turn. Node B's sweep runs that turn once p1 has waited the stall
	// timeout, without the customer writing again: back on node B, the
	// customer gets the bot's answer right after p1, once.
	other.conn.Close()
	p1 := other.acked["p1"]
	other = chatAt(t, b.base, other.token, p1)
	if f := other.read(t, func(f wsFrame) bool { return f.Type == "message" }); f.Sender != "bot" || f.Seq != p1+1 {
		t.Fatalf("after p1 (seq %d) the second customer got %+v on node B, want the bot's answer at seq %d", p1, f, p1+1)
	}
	hist2 := chatHistory(t, b.base, other.token, other.convID)
	n := 0
	for _, f := range hist2 {
		if f.ClientID == "p1" {
			n++
		}
	}
	if n != 1 || hist2[p1-1].ClientID != "p1" || hist2[len(hist2)-1].Sender != "bot" {
		t.Errorf("the second conversation on node B is %+v; want p1 once at seq %d, answered by the bot", hist2, p1)
	}
}

// agentSays posts text as Sam's message through s's API and returns its
// seq.
func agentSays(t *testing.T, s *served, apiToken, conv, text, clientID string) uint64 {
	t.Helper()
	code, body := apiPost(t, s, apiToken, "/api/v1/conversations/"+conv+"/messages",
		`{"text": "`+text+`", "sender": "agent", "agent_id": "sam@example.com", "client_id": "`+clientID+`"}`)
	if code != http.StatusCreated {
		t.Fatalf("agent message %s: %d %s", clientID, code, body)
	}
	var m struct{ Seq uint64 }
	if err := json.Unmarshal([]byte(body), &m); err != nil || m.Seq == 0 {
		t.Fatalf("agent message %s: %s (%v)", clientID, body, err)
	}
	return m.Seq
}

// apiGet gets path from the REST API of s.
func apiGet(t *testing.T, s *served, token, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// chatClient is a web chat customer on one socket: what it sent, what was
// acknowledged, and the messages it has, by seq.
type chatClient struct {
	conn    *websocket.Conn
	token   string // the newest from a welcome
	convID  string
	sent    map[string]string  // client_id: text
	acked   map[string]uint64  // client_id: seq
	seen    map[uint64]wsFrame // messages by seq, its own acknowledged ones too
	lastSeq uint64
}

func chatAt(t *testing.T, base, token string, lastSeq uint64) *chatClient {
	t.Helper()
	conn, w := helloAt(t, base, token, lastSeq)
	c := &chatClient{conn: conn, token: w.Token, convID: w.ConversationID,
		sent: map[string]string{}, acked: map[string]uint64{}, seen: map[uint64]wsFrame{}, lastSeq: lastSeq}
	if c.token == "" {
		c.token = token
	}
	return c
}

func (c *chatClient) say(t *testing.T, clientID, text string) {
	t.Helper()
	c.sent[clientID] = text
	send(t, c.conn, map[string]any{"v": 1, "type": "message", "client_id": clientID, "text": text})
}

// read reads frames, keeping what they say, until one satisfies ok.
func (c *chatClient) read(t *testing.T, ok func(wsFrame) bool) wsFrame {
	t.Helper()
	return readUntil(t, c.conn, func(f wsFrame) bool {
		switch f.Type {
		case "welcome":
			if f.Token != "" {
				c.token = f.Token
			}
		case "ack":
			c.acked[f.ClientID] = f.Seq
			c.seen[f.Seq] = wsFrame{Type: "message", Seq: f.Seq, Sender: "customer", ClientID: f.ClientID, Text: c.sent[f.ClientID]}
			c.lastSeq = max(c.lastSeq, f.Seq)
		case "message":
			c.seen[f.Seq] = f
			c.lastSeq = max(c.lastSeq, f.Seq)
		}
		return ok(f)
	})
}

// chatHistory resumes token on base with last seq 0 and returns the
// conversation's messages up to the welcome's last seq, failing unless
// they are seqs 1..N in order, each once.
func chatHistory(t *testing.T, base, token, conv string) []wsFrame {
	t.Helper()
	conn, w := helloAt(t, base, token, 0)
	defer conn.Close()
	if w.ConversationID != conv {
		t.Fatalf("the token resumes conversation %s, want %s", w.ConversationID, conv)
	}
	var hist []wsFrame
	conn.SetReadDeadline(time.Now().Add(time.Minute)) // a hang guard
	for uint64(len(hist)) < w.Seq {
		var f wsFrame
		if err := conn.ReadJSON(&f); err != nil {
			t.Fatalf("read the history: %v (so far %d of %d messages)", err, len(hist), w.Seq)
		}
		if f.Type != "message" {
			continue
		}
		if f.Seq != uint64(len(hist))+1 {
			t.Fatalf("history: seq %d after %d messages", f.Seq, len(hist))
		}
		hist = append(hist, f)
	}
	return hist
}

// killNode is a "bot serve" in a process of its own.
type killNode struct {
	base        string
	out, errOut *syncBuffer
	cmd         *exec.Cmd
	exited      chan struct{} // closed when waitErr is set
	waitErr     error
}

// startKillNode starts "bot serve" (args from "serve" on) in a child
// process, without waiting for it to listen.
func startKillNode(t *testing.T, args []string) *killNode {
	t.Helper()
	enc, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	n := &killNode{out: &syncBuffer{}, errOut: &syncBuffer{}, exited: make(chan struct{})}
	n.cmd = exec.Command(os.Args[0], "-test.run=^TestServeClusterSIGKILL$", "-test.count=1")
	n.cmd.Env = append(os.Environ(), serveKillChildEnv+"="+string(enc))
	n.cmd.Stdout, n.cmd.Stderr = n.out, n.errOut
	stdin, err := n.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		n.waitErr = n.cmd.Wait()
		close(n.exited)
	}()
	t.Cleanup(func() {
		stdin.Close()
		n.cmd.Process.Kill()
		<-n.exited
	})
	return n
}

func (n *killNode) waitListening(t *testing.T) {
	t.Helper()
	deadline := time.After(3 * time.Minute) // a hang guard
	for {
		if _, line, ok := strings.Cut(n.out.String(), "Parley is serving on "); ok {
			n.base, _, _ = strings.Cut(line, "\n")
			return
		}
		select {
		case <-n.exited:
			t.Fatalf("node A exited before listening (%v): %s %s", n.waitErr, n.out, n.errOut)
		case <-deadline:
			t.Fatalf("node A does not listen: %s %s", n.out, n.errOut)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// kill kills the node with SIGKILL and waits until it is gone.
func (n *killNode) kill(t *testing.T) {
	t.Helper()
	if err := n.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill node A: %v", err)
	}
	<-n.exited
	var exit *exec.ExitError
	if !errors.As(n.waitErr, &exit) || exit.ExitCode() != -1 {
		t.Fatalf("node A ended on its own (%v) instead of being killed: %s %s", n.waitErr, n.out, n.errOut)
	}
}

// serveKillChild is node A's side: "bot serve" with the JSON arguments,
// until the process is killed or its standard input closes.
func serveKillChild(t *testing.T, args string) {
	var a []string
	if err := json.Unmarshal([]byte(args), &a); err != nil {
		t.Fatalf("%s: %v", serveKillChildEnv, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if code := NewMain(os.Stdout, os.Stderr).Run(ctx, a); code != 0 {
		t.Fatalf("bot serve: exit %d", code)
	}
}
