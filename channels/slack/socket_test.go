package slack

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"testing"
	"time"
)

// socketAcks collects what the adapter writes to the fake Socket Mode
// connection (its acks). slacktest hands each message to SeenFeed, which
// someone must read, or its connection stalls.
type socketAcks struct {
	got chan string
}

func newSocketAcks(t *testing.T, s *stack) *socketAcks {
	t.Helper()
	a := &socketAcks{got: make(chan string, 256)}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case m := <-s.slack.SeenFeed:
				select {
				case a.got <- m:
				default:
				}
			case <-done:
				return
			}
		}
	}()
	t.Cleanup(func() { close(done) })
	return a
}

// waitFor waits for the ack of envelope id.
func (a *socketAcks) waitFor(t *testing.T, envelope string) {
	t.Helper()
	deadline := time.After(20 * time.Second) // only keeps a broken test from hanging
	for {
		select {
		case m := <-a.got:
			var ack struct {
				EnvelopeID string `json:"envelope_id"`
			}
			if json.Unmarshal([]byte(m), &ack) == nil && ack.EnvelopeID == envelope {
				return
			}
		case <-deadline:
			t.Fatalf("no ack for envelope %s", envelope)
		}
	}
}

// socketEnvelope is a Socket Mode request as Slack sends it.
func socketEnvelope(t *testing.T, id, typ string, retry int, payload []byte) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"envelope_id": id, "type": typ, "accepts_response_payload": false,
		"retry_attempt": retry, "retry_reason": map[bool]string{true: "timeout"}[retry > 0],
		"payload": json.RawMessage(payload),
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSocketModeAcksAndAccepts(t *testing.T) {
	log := &httpLog{}
	s := newStack(t, func(c *Config) {
		c.AppToken = "xapp-1-test"
		c.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	acks := newSocketAcks(t, s)

	// A customer's DM, as the Events API body would carry it.
	s.slack.SendToWebsocket(socketEnvelope(t, "env-dm", "events_api", 0, httpDM(t, "EvSOCK1", "hello")))
	acks.waitFor(t, "env-dm")
	if !httpTaken(t, s, "ev:EvSOCK1") {
		t.Error("the DM was acknowledged but not accepted")
	}

	// Slack's retry of it (a new envelope): acknowledged too.
	s.slack.SendToWebsocket(socketEnvelope(t, "env-dm-retry", "events_api", 1, httpDM(t, "EvSOCK1", "hello")))
	acks.waitFor(t, "env-dm-retry")
	toDM := func(p post) bool { return p.Method == "chat.postMessage" && p.Channel == "DCUST" }
	s.slack.waitFor(t, "the bot's answer to the DM", func(ps []post) bool { return count(ps, toDM) > 0 })

	// A click.
	click := parseTestdata(t, "interactions/block_actions_dm.json")
	s.slack.SendToWebsocket(socketEnvelope(t, "env-click", "interactive", 0, click))
	acks.waitFor(t, "env-click")
	if !httpTaken(t, s, "act:1700000161.61097.1b3f5e2a9c0d4e7f8a6b5c4d3e2f1a0b:parley_reply") {
		t.Error("the click was acknowledged but not accepted")
	}

	// An event type slack-go cannot parse: acknowledged all the same, so
	// that Slack does not send it again and again.
	s.slack.SendToWebsocket(socketEnvelope(t, "env-odd", "events_api", 0,
		[]byte(`{"type":"event_callback","team_id":"TSHOP","event_id":"EvODD1","event":{"type":"no_such_event_type","x":1}}`)))
	acks.waitFor(t, "env-odd")

	// A payload that is not an event at all: acknowledged and logged.
	s.slack.SendToWebsocket(socketEnvelope(t, "env-bad", "events_api", 0, []byte(`{"type":"event_callback","event":{"type":"message"}}`)))
	acks.waitFor(t, "env-bad")
	if log.count("bad Socket Mode request") != 1 {
		t.Error("the bad payload was not logged")
	}
	if log.count("Socket Mode connected") == 0 {
		t.Error("the connection was not logged")
	}
	if n := count(s.slack.Posts(), toDM); n != 1 {
		t.Errorf("%d answers to one DM delivered twice; want 1", n)
	}
}

func TestSocketReconnectBackoff(t *testing.T) {
	base := time.Unix(1_700_000_000, 0)
	// The sessions: how long each one's connection lived before it ended
	// for good (-1: it never connected).
	lived := []time.Duration{-1, -1, -1, -1, -1, -1, -1, -1, 2 * time.Minute, 10 * time.Second, -1}
	want := []time.Duration{
		time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second,
		time.Minute, time.Minute, // capped
		time.Second,     // after a connection that lived over a minute
		2 * time.Second, // a short one does not reset
		4 * time.Second,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var waits []time.Duration
	calls := 0
	r := reconnector{
		first: time.Second, max: time.Minute, healthy: time.Minute,
		now: func() time.Time { return base },
		sleep: func(_ context.Context, d time.Duration) bool {
			waits = append(waits, d)
			return len(waits) < len(want) // the last wait is cut short: the loop must end
		},
	}
	r.run(ctx, slog.New(slog.DiscardHandler), func(context.Context) (time.Time, error) {
		l := lived[calls]
		calls++
		if l < 0 {
			return time.Time{}, errors.New("invalid_auth")
		}
		return base.Add(-l), errors.New("invalid_auth")
	})
	if !reflect.DeepEqual(waits, want) || calls != len(lived) {
		t.Errorf("waits %v after %d sessions; want %v after %d", waits, calls, want, len(lived))
	}
}

func TestSocketReconnectStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	slept := false
	r := reconnector{first: time.Second, max: time.Minute, healthy: time.Minute, now: time.Now,
		sleep: func(context.Context, time.Duration) bool { slept = true; return true }}
	calls := 0
	r.run(ctx, slog.New(slog.DiscardHandler), func(context.Context) (time.Time, error) {
		calls++
		cancel() // the adapter stops while the session runs
		return time.Time{}, context.Canceled
	})
	if calls != 1 || slept {
		t.Errorf("%d sessions, slept %v; want one session and no wait after ctx ended", calls, slept)
	}
}

func TestSocketDebugLog(t *testing.T) {
	log := &httpLog{}
	d := debugLog{slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	_ = d.Output(2, "Dialing WebSocket endpoint wss://x\n")
	if log.count("level=DEBUG") != 1 || log.count("Dialing WebSocket endpoint wss://x") != 1 {
		t.Error("want the line once, at Debug")
	}
}
