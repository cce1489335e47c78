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

// chatFrame is the union of the web chat frames the customers read or write
// (channels/webchat/PROTOCOL.md).
type chatFrame struct {
	V              int    `json:"v"`
	Type           string `json:"type"`
	Token          string `json:"token,omitempty"`
	ConversationID string `json:"conversation_id,omitempty"`
	State          string `json:"state,omitempty"`
	ClientID       string `json:"client_id,omitempty"`
	Text           string `json:"text,omitempty"`
	Seq            uint64 `json:"seq,omitempty"`
	Sender         string `json:"sender,omitempty"`
	Code           string `json:"code,omitempty"`
	Message        string `json:"message,omitempty"`
}

// customer is one simulated visitor on one web chat socket. One goroutine
// reads the socket and hands frames over frames; only the customer's own
// goroutine writes.
type customer struct {
	conn   *websocket.Conn
	frames chan chatFrame
	done   chan struct{} // closed when the reader ends
	err    error         // why the reader ended; read after done
	conv   string        // from the welcome

	// The customer's goroutine alone uses these.
	state      string    // the conversation's state as the socket last said
	answeredAt time.Time // send time of the message whose bot reply came last
	handoffAt  time.Time // when the message that got the conversation handed off was sent; zero: not handed off
}

// dialCustomer connects to the web chat and says hello as a new visitor.
func dialCustomer(ctx context.Context, url, origin string) (*customer, error) {
	d := websocket.Dialer{HandshakeTimeout: 30 * time.Second}
	conn, resp, err := d.DialContext(ctx, url, http.Header{"Origin": []string{origin}})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial chat: %w (HTTP %d)", err, resp.StatusCode)
		}
		return nil, fmt.Errorf("dial chat: %w", err)
	}
	c := &customer{conn: conn, frames: make(chan chatFrame, 64), done: make(chan struct{}), state: "bot"}
	go c.read()
	if err := c.send(chatFrame{V: 1, Type: "hello"}); err != nil {
		c.close()
		return nil, err
	}
	for {
		f, err := c.next(ctx)
		if err != nil {
			c.close()
			return nil, fmt.Errorf("chat hello: %w", err)
		}
		switch f.Type {
		case "welcome":
			c.conv = f.ConversationID
			return c, nil
		case "error":
			c.close()
			return nil, fmt.Errorf("chat hello: error %s: %s", f.Code, f.Message)
		}
	}
}

func (c *customer) read() {
	defer close(c.done)
	defer close(c.frames)
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			c.err = err
			return
		}
		var f chatFrame
		if err := json.Unmarshal(data, &f); err != nil {
			c.err = fmt.Errorf("chat frame that is not JSON: %w", err)
			return
		}
		c.frames <- f
	}
}

func (c *customer) next(ctx context.Context) (chatFrame, error) {
	select {
	case f, ok := <-c.frames:
		if !ok {
			<-c.done
			return chatFrame{}, fmt.Errorf("socket closed: %v", c.err)
		}
		return f, nil
	case <-ctx.Done():
		return chatFrame{}, ctx.Err()
	}
}

func (c *customer) send(f chatFrame) error {
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.conn.WriteMessage(websocket.TextMessage, data)
}

func (c *customer) close() {
	c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.conn.Close()
	<-c.done
}

// exchange sends one message (sent is its send time, recorded by the
// caller before the call) and waits for its ack and, while the bot holds
// the conversation, for the bot's first reply after it. It returns the
// reply latency (0 when no reply was awaited) or a short error kind.
func (c *customer) exchange(ctx context.Context, id, text string, sent time.Time) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.send(chatFrame{V: 1, Type: "message", ClientID: id, Text: text}); err != nil {
		return 0, errKind("send failed")
	}
	wantReply := c.state == "bot"
	var acked uint64
	for {
		f, err := c.next(ctx)
		if err != nil {
			if acked == 0 {
				return 0, errKind("no ack")
			}
			return 0, errKind("no reply")
		}
		switch f.Type {
		case "ack":
			if f.ClientID == id {
				acked = f.Seq
				if !wantReply {
					return 0, nil
				}
			}
		case "message":
			if f.Sender == "bot" && acked > 0 && f.Seq > acked && wantReply {
				c.answeredAt = sent
				return time.Since(sent), nil
			}
		case "state":
			c.setState(f.State, sent)
			if c.state != "bot" && wantReply {
				// Handed off before a reply came (or with none): no bot
				// reply follows.
				wantReply = false
				if acked > 0 {
					return 0, nil
				}
			}
		case "error":
			return 0, errKind("chat error " + f.Code)
		}
	}
}

// setState follows the conversation's state. The state frame of a handoff
// comes after the bot's reply that announces it, so the message that
// caused it is the one whose reply came last; without such a reply, the
// one in flight.
func (c *customer) setState(state string, inFlight time.Time) {
	if (state == "waiting" || state == "agent") && c.state == "bot" && c.handoffAt.IsZero() {
		c.handoffAt = c.answeredAt
		if c.handoffAt.IsZero() {
			c.handoffAt = inFlight
		}
	}
	c.state = state
}

// drain reads what is left on the socket for a moment, so that a state
// frame that followed the last reply is seen.
func (c *customer) drain(ctx context.Context, d time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		f, err := c.next(ctx)
		if err != nil {
			return
		}
		if f.Type == "state" {
			c.setState(f.State, time.Time{})
		}
	}
}

// errKind is an error that is a short kind for the table's notes.
type errKind string

func (e errKind) Error() string { return string(e) }

// dialCustomers connects n customers, a bounded number at a time; the
// failures are counted in res.
func dialCustomers(ctx context.Context, url, origin string, n int, res *result, mu *sync.Mutex) []*customer {
	out := make([]*customer, n)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range out {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := dialCustomer(ctx, url, origin)
			if err != nil {
				mu.Lock()
				res.addError("customer connect: " + err.Error())
				mu.Unlock()
				return
			}
			out[i] = c
		})
	}
	wg.Wait()
	return out
}
