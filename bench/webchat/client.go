package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// frame is the union of the protocol's frames that the load generator reads
// or writes (channels/webchat/PROTOCOL.md).
type frame struct {
	V              int      `json:"v"`
	Type           string   `json:"type"`
	Token          string   `json:"token,omitempty"`
	LastSeq        uint64   `json:"last_seq,omitempty"`
	ConversationID string   `json:"conversation_id,omitempty"`
	State          string   `json:"state,omitempty"`
	ClientID       string   `json:"client_id,omitempty"`
	Text           string   `json:"text,omitempty"`
	ID             string   `json:"id,omitempty"`
	Seq            uint64   `json:"seq,omitempty"`
	Sender         string   `json:"sender,omitempty"`
	Code           string   `json:"code,omitempty"`
	Message        string   `json:"message,omitempty"`
	QuickReplies   []string `json:"quick_replies,omitempty"`
}

// client is one simulated customer on one socket. A single goroutine reads
// the socket and hands frames to the caller over frames; writes are
// serialised by mu.
type client struct {
	conn   *websocket.Conn
	mu     sync.Mutex // guards writes to conn
	frames chan frame
	done   chan struct{} // closed when the reader ends
	token  string
	conv   string
	last   uint64 // the welcome's last_seq: the newest message stored
	// seen counts each seq received on this socket; more than one is a
	// duplicate.
	seen map[uint64]int
	err  error // why the reader ended; read after done is closed
}

// dial connects and says hello; it returns after the welcome.
func dial(ctx context.Context, url, origin, token string, lastSeq uint64) (*client, error) {
	d := websocket.Dialer{HandshakeTimeout: 30 * time.Second}
	h := http.Header{"Origin": []string{origin}}
	conn, resp, err := d.DialContext(ctx, url, h)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: %w (HTTP %d)", err, resp.StatusCode)
		}
		return nil, fmt.Errorf("dial: %w", err)
	}
	c := &client{conn: conn, frames: make(chan frame, 64), done: make(chan struct{}), seen: make(map[uint64]int)}
	go c.read()
	if err := c.send(frame{V: 1, Type: "hello", Token: token, LastSeq: lastSeq}); err != nil {
		conn.Close()
		return nil, err
	}
	for {
		f, err := c.next(ctx)
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("hello: %w", err)
		}
		switch f.Type {
		case "welcome":
			c.token, c.conv, c.last = f.Token, f.ConversationID, f.LastSeq
			return c, nil
		case "error":
			conn.Close()
			return nil, fmt.Errorf("hello: error %s: %s", f.Code, f.Message)
		}
	}
}

func (c *client) read() {
	defer close(c.done)
	defer close(c.frames)
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			c.err = err
			return
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			c.err = fmt.Errorf("server sent a frame that is not JSON: %w", err)
			return
		}
		if f.Type == "message" {
			c.seen[f.Seq]++
		}
		c.frames <- f
	}
}

// next returns the next frame, or an error when the socket closed or ctx
// ended.
func (c *client) next(ctx context.Context) (frame, error) {
	select {
	case f, ok := <-c.frames:
		if !ok {
			<-c.done
			return frame{}, fmt.Errorf("socket closed: %v", c.err)
		}
		return f, nil
	case <-ctx.Done():
		return frame{}, ctx.Err()
	}
}

func (c *client) send(f frame) error {
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.conn.WriteMessage(websocket.TextMessage, data)
}

func (c *client) close() {
	c.mu.Lock()
	c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.mu.Unlock()
	c.conn.Close()
	<-c.done
}

// duplicates counts the seqs this socket received more than once.
func (c *client) duplicates() int {
	<-c.done
	n := 0
	for _, k := range c.seen {
		if k > 1 {
			n += k - 1
		}
	}
	return n
}
