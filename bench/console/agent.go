package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// cred is an agent's console login.
type cred struct{ email, password string }

// consoleFrame is the part of the console's frames the agents read
// (web/console/PROTOCOL.md).
type consoleFrame struct {
	Type           string `json:"type"`
	Seq            uint64 `json:"seq"`
	Kind           string `json:"kind"`
	ConversationID string `json:"conversation_id"`
	Reason         string `json:"reason"`
	Message        *struct {
		ID       string `json:"id"`
		Sender   string `json:"sender"`
		ClientID string `json:"client_id"`
	} `json:"message"`
}

// agent is one agent's console socket. Its reader goroutine alone writes
// the fields below done until done is closed; then they are the caller's.
type agent struct {
	email string
	conn  *websocket.Conn
	sends *sync.Map // customer client_id -> time.Time it was sent; shared with the customers
	done  chan struct{}

	err       error                  // why the reader ended
	seen      map[string]int         // message frames per customer client_id
	latencies []time.Duration        // send -> this agent's first frame of each customer message
	alerts    map[string][]time.Time // handoff alerts by conversation: when each came
	other     int                    // alerts with another reason
	frames    int                    // event frames
	resets    int                    // reset frames
	seqErrors int                    // event frames whose seq was not above the one before
	errFrames int                    // error frames
	lastSeq   uint64

	progress atomic.Int64 // distinct customer messages seen, read while the reader runs
}

// login signs in to the console and returns the session cookie.
func login(ctx context.Context, base string, c cred) (*http.Cookie, error) {
	body, _ := json.Marshal(map[string]string{"email": c.email, "password": c.password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/console/api/login", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("login %s: HTTP %d %s", c.email, resp.StatusCode, bytes.TrimSpace(msg))
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "parley_console" {
			return ck, nil
		}
	}
	return nil, fmt.Errorf("login %s: no session cookie", c.email)
}

// dialAgent logs in, opens the console socket, reads its hello and starts
// the stream by saying the agent is online.
func dialAgent(ctx context.Context, base string, c cred, sends *sync.Map) (*agent, error) {
	ck, err := login(ctx, base, c)
	if err != nil {
		return nil, err
	}
	d := websocket.Dialer{HandshakeTimeout: 30 * time.Second}
	h := http.Header{"Origin": []string{base}, "Cookie": []string{ck.Name + "=" + ck.Value}}
	conn, resp, err := d.DialContext(ctx, "ws"+strings.TrimPrefix(base, "http")+"/console/ws", h)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial console: %w (HTTP %d)", err, resp.StatusCode)
		}
		return nil, fmt.Errorf("dial console: %w", err)
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var hello consoleFrame
	if err := conn.ReadJSON(&hello); err != nil || hello.Type != "hello" {
		conn.Close()
		return nil, fmt.Errorf("console hello: %+v, %v", hello, err)
	}
	conn.SetReadDeadline(time.Time{})
	conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"presence","presence":"online"}`)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("console presence: %w", err)
	}
	a := &agent{email: c.email, conn: conn, sends: sends, done: make(chan struct{}),
		seen: make(map[string]int), alerts: make(map[string][]time.Time), lastSeq: hello.Seq}
	go a.read()
	return a, nil
}

func (a *agent) read() {
	defer close(a.done)
	for {
		_, data, err := a.conn.ReadMessage()
		if err != nil {
			a.err = err
			return
		}
		now := time.Now()
		var f consoleFrame
		if err := json.Unmarshal(data, &f); err != nil {
			a.err = fmt.Errorf("console frame that is not JSON: %w", err)
			return
		}
		a.take(f, now)
	}
}

// take accounts for one frame that came at now.
func (a *agent) take(f consoleFrame, now time.Time) {
	switch f.Type {
	case "reset":
		a.resets++
		return
	case "error":
		a.errFrames++
		return
	case "event":
	default:
		return
	}
	a.frames++
	if f.Seq <= a.lastSeq {
		a.seqErrors++
	}
	a.lastSeq = max(a.lastSeq, f.Seq)
	switch f.Kind {
	case "message":
		if f.Message == nil || f.Message.Sender != "customer" || f.Message.ClientID == "" {
			return
		}
		sent, ok := a.sends.Load(f.Message.ClientID)
		if !ok {
			return // not one of this run's customers
		}
		a.seen[f.Message.ClientID]++
		if a.seen[f.Message.ClientID] == 1 {
			a.latencies = append(a.latencies, now.Sub(sent.(time.Time)))
			a.progress.Add(1)
		}
	case "alert":
		if f.Reason == "handoff" {
			a.alerts[f.ConversationID] = append(a.alerts[f.ConversationID], now)
		} else {
			a.other++
		}
	}
}

// close ends the socket and waits for the reader.
func (a *agent) close() {
	a.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	a.conn.Close()
	<-a.done
}

// closedEarly says whether the socket ended before close was called.
func (a *agent) closedEarly() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}
