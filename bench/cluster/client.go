package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// frame is the union of the web chat frames the benchmark reads or writes
// (channels/webchat/PROTOCOL.md).
type frame struct {
	V              int    `json:"v"`
	Type           string `json:"type"`
	Token          string `json:"token,omitempty"`
	LastSeq        uint64 `json:"last_seq,omitempty"`
	ConversationID string `json:"conversation_id,omitempty"`
	State          string `json:"state,omitempty"`
	ClientID       string `json:"client_id,omitempty"`
	Text           string `json:"text,omitempty"`
	Seq            uint64 `json:"seq,omitempty"`
	Sender         string `json:"sender,omitempty"`
	Code           string `json:"code,omitempty"`
	Message        string `json:"message,omitempty"`
}

// sock is one websocket of a customer, on one node. Its reader goroutine
// hands frames over frames and closes it when the socket ends; the
// customer's goroutine is the only writer.
type sock struct {
	conn   *websocket.Conn
	node   *node
	frames chan frame
	err    error // why the reader ended; read after frames is closed
	// lastSeq is the last message seq received on this socket, and seen
	// every seq received on it: a seq that does not rise is out of order,
	// one seen twice a duplicate.
	lastSeq uint64
	seen    map[uint64]bool
	// lastAck is the highest seq acknowledged on this socket: a message
	// below it arriving later is behind the customer's own message.
	lastAck uint64
}

// errRefused is a hello the server answered with an error frame.
type errRefused struct{ code, msg string }

func (e *errRefused) Error() string { return "hello refused: " + e.code + ": " + e.msg }

// dialNode opens a socket on nd and says hello; it returns the socket and
// the welcome.
func dialNode(ctx context.Context, nd *node, token string, lastSeq uint64) (*sock, frame, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.DialContext(ctx, nd.wsURL(), http.Header{"Origin": {nd.base}})
	if err != nil {
		if resp != nil {
			return nil, frame{}, fmt.Errorf("dial node %d: %w (HTTP %d)", nd.idx, err, resp.StatusCode)
		}
		return nil, frame{}, fmt.Errorf("dial node %d: %w", nd.idx, err)
	}
	conn.SetReadLimit(1 << 20)
	s := &sock{conn: conn, node: nd, frames: make(chan frame, 256), seen: map[uint64]bool{}}
	go s.read()
	if err := s.send(frame{V: 1, Type: "hello", Token: token, LastSeq: lastSeq}); err != nil {
		conn.Close()
		return nil, frame{}, fmt.Errorf("hello on node %d: %w", nd.idx, err)
	}
	for {
		select {
		case f, ok := <-s.frames:
			if !ok {
				return nil, frame{}, fmt.Errorf("hello on node %d: socket closed: %v", nd.idx, s.err)
			}
			switch f.Type {
			case "welcome":
				return s, f, nil
			case "error":
				conn.Close()
				return nil, frame{}, &errRefused{f.Code, f.Message}
			}
		case <-ctx.Done():
			conn.Close()
			return nil, frame{}, fmt.Errorf("hello on node %d: %w", nd.idx, ctx.Err())
		}
	}
}

func (s *sock) read() {
	defer close(s.frames)
	for {
		_, data, err := s.conn.ReadMessage()
		if err != nil {
			s.err = err
			return
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			s.err = fmt.Errorf("a frame that is not JSON: %w", err)
			return
		}
		s.frames <- f
	}
}

func (s *sock) send(f frame) error {
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	s.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return s.conn.WriteMessage(websocket.TextMessage, data)
}

// close ends the socket and waits for its reader.
func (s *sock) close() {
	s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	s.conn.Close()
	for range s.frames {
	}
}

// connect says hello on the nodes in round-robin order until one
// welcomes the customer, backing off after each failure (a refused
// connection to a dead node is tried again on the next at once).
func (cu *customer) connect(ctx context.Context) (*sock, frame, error) {
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		nd := cu.cl.pick()
		s, w, err := dialNode(ctx, nd, cu.token, cu.contig)
		if err == nil {
			return s, w, nil
		}
		if ref, ok := errors.AsType[*errRefused](err); ok && ref.code == "invalid_token" {
			return nil, frame{}, err // a bug in the server, or in the benchmark: do not loop
		}
		if ctx.Err() != nil {
			return nil, frame{}, ctx.Err()
		}
		if attempt%len(cu.cl.nodes) != 0 {
			continue // the next node, at once
		}
		if attempt > 20*len(cu.cl.nodes) {
			return nil, frame{}, fmt.Errorf("no node welcomes the customer after %d attempts: %w", attempt, err)
		}
		select {
		case <-time.After(backoff/2 + rand.N(backoff/2)):
		case <-ctx.Done():
			return nil, frame{}, ctx.Err()
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}
