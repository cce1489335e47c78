package slack

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/slack-go/slack/socketmode"
)

// runSocket reads events over Socket Mode until ctx ends. socketmode
// reconnects by itself when Slack asks it to or a connection drops, but
// gives up for good when a reconnect fails (a revoked or wrong app token,
// say): runSocket then starts it again, waiting 1 s, doubling up to a
// minute, and back to 1 s after a connection that lived over a minute.
func (a *Adapter) runSocket(ctx context.Context) {
	reconnector{first: time.Second, max: time.Minute, healthy: time.Minute, now: time.Now, sleep: sleep}.
		run(ctx, a.log, a.socketSession)
}

// reconnector paces the restarts of a connection that ends for good.
type reconnector struct {
	first, max time.Duration // the first wait, and the most it doubles to
	healthy    time.Duration // a connection that lived this long resets the wait to first
	now        func() time.Time
	sleep      func(ctx context.Context, d time.Duration) bool // waits d; false when ctx ended
}

// run calls session until ctx ends, waiting between calls. session
// returns when its connection ends for good, with the time it last
// connected (zero: it never did) and why it ended.
func (r reconnector) run(ctx context.Context, log *slog.Logger, session func(context.Context) (time.Time, error)) {
	wait := r.first
	for ctx.Err() == nil {
		connected, err := session(ctx)
		if ctx.Err() != nil {
			return
		}
		if !connected.IsZero() && r.now().Sub(connected) >= r.healthy {
			wait = r.first
		}
		log.Warn("slack: Socket Mode connection ended; reconnecting", "err", err, "in", wait)
		if !r.sleep(ctx, wait) {
			return
		}
		wait = min(2*wait, r.max)
	}
}

// socketSession runs one socketmode client until it gives up or ctx ends,
// handling its events; it returns when the client last connected and the
// client's error.
func (a *Adapter) socketSession(ctx context.Context) (time.Time, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// socketmode's debug output (payloads included) goes to the adapter's
	// log at Debug, and only when that level is on.
	client := socketmode.New(a.api,
		socketmode.OptionLog(debugLog{a.log}),
		socketmode.OptionDebug(a.log.Enabled(ctx, slog.LevelDebug)))
	done := make(chan error, 1)
	go func() { done <- client.RunContext(ctx) }() // owned: this function returns only after it has
	var connected time.Time
	for {
		select {
		case err := <-done:
			return connected, err
		case evt := <-client.Events:
			if evt.Type == socketmode.EventTypeConnected {
				connected = time.Now()
			}
			a.socketEvent(ctx, client, evt)
		}
	}
}

// socketEvent handles one event of the socketmode client: requests from
// Slack are accepted and acknowledged, the client's own events logged.
func (a *Adapter) socketEvent(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeEventsAPI, socketmode.EventTypeInteractive, socketmode.EventTypeSlashCommand:
		if evt.Request != nil {
			a.socketRequest(ctx, client, *evt.Request)
		}
	case socketmode.EventTypeErrorBadMessage:
		// socketmode could not parse the payload (an event type slack-go
		// does not know, say): parse it here, so that it is acknowledged
		// (Slack would retry it otherwise) and, if it is ours, accepted.
		bad, _ := evt.Data.(*socketmode.ErrorBadMessage)
		var req socketmode.Request
		if bad == nil || json.Unmarshal(bad.Message, &req) != nil || req.EnvelopeID == "" {
			a.log.Warn("slack: Socket Mode message that is not a request", "err", errorOf(bad))
			return
		}
		a.socketRequest(ctx, client, req)
	case socketmode.EventTypeConnecting:
		a.log.Debug("slack: Socket Mode connecting")
	case socketmode.EventTypeConnected:
		a.log.Info("slack: Socket Mode connected")
	case socketmode.EventTypeHello:
		a.log.Debug("slack: Socket Mode hello")
	case socketmode.EventTypeConnectionError:
		a.log.Warn("slack: Socket Mode connection failed; socketmode retries", "err", evt.Data)
	case socketmode.EventTypeInvalidAuth:
		a.log.Error("slack: Socket Mode refused the app token (xapp-...)")
	case socketmode.EventTypeDisconnect:
		a.log.Info("slack: Socket Mode disconnect requested; reconnecting")
	case socketmode.EventTypeIncomingError:
		a.log.Warn("slack: Socket Mode read failed", "err", evt.Data)
	case socketmode.EventTypeErrorWriteFailed:
		if w, ok := evt.Data.(*socketmode.ErrorWriteFailed); ok && w != nil {
			a.log.Warn("slack: Socket Mode write failed (an ack lost: Slack sends the request again)", "err", w.Cause)
		}
	default:
		a.log.Debug("slack: Socket Mode event", "type", evt.Type)
	}
}

// socketRequest handles one request Slack sent over Socket Mode: its
// payload is the JSON an Events API body or an interaction's "payload"
// field carries. Its events are accepted within ackBudget, then the
// request is acknowledged: an event is taken durably before Slack forgets
// it, as over HTTP. When accept fails the request is not acknowledged, so
// Slack sends it again (accept drops what it took before). A payload that
// does not parse is acknowledged: sending it again would not help.
func (a *Adapter) socketRequest(ctx context.Context, client *socketmode.Client, req socketmode.Request) {
	if req.RetryAttempt > 0 {
		a.log.Debug("slack: retried Socket Mode request", "envelope", req.EnvelopeID, "retry", req.RetryAttempt, "reason", req.RetryReason)
	}
	var (
		evs []event
		err error
	)
	switch req.Type {
	case socketmode.RequestTypeEventsAPI:
		var body eventsBody
		if body, err = parseEvents(req.Payload); err == nil && body.Event != nil {
			evs = []event{*body.Event}
		} else if err == nil {
			a.log.Debug("slack: ignored event", "type", body.Type)
		}
	case socketmode.RequestTypeInteractive:
		evs, err = parseInteraction(req.Payload)
	default: // slash commands: the app has none
		a.log.Debug("slack: ignored Socket Mode request", "type", req.Type)
	}
	if err != nil {
		a.log.Warn("slack: bad Socket Mode request", "type", req.Type, "envelope", req.EnvelopeID, "err", err)
	} else {
		actx, cancel := context.WithTimeout(ctx, ackBudget)
		defer cancel()
		for _, ev := range evs {
			if err := a.accept(actx, ev); err != nil {
				if ctx.Err() == nil {
					a.log.Warn("slack: event not taken; Slack will send it again", "key", ev.Key, "err", err)
				}
				return
			}
		}
	}
	// The ack waits for room in socketmode's queue of responses; bounded,
	// for the connection may be gone for good.
	actx, cancel := context.WithTimeout(ctx, ackBudget)
	defer cancel()
	if err := client.AckCtx(actx, req.EnvelopeID, nil); err != nil && ctx.Err() == nil {
		a.log.Warn("slack: acknowledge Socket Mode request", "envelope", req.EnvelopeID, "err", err)
	}
}

// errorOf is bad's cause, or nil.
func errorOf(bad *socketmode.ErrorBadMessage) error {
	if bad == nil {
		return errors.New("no details")
	}
	return bad.Cause
}

// debugLog writes socketmode's log lines to a slog.Logger at Debug.
type debugLog struct{ log *slog.Logger }

// Output implements socketmode's logger.
func (d debugLog) Output(_ int, s string) error {
	d.log.Debug("slack socketmode: " + strings.TrimSpace(s))
	return nil
}
