package slack

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// subBuffer is the adapter's subscription to every conversation's events.
// When it falls this far behind, the stream drops it: it subscribes again
// and catches up from the store (catchUp), so nothing is lost.
const subBuffer = 4096

// pruneEvery is how often event keys older than seenFor are forgotten.
const pruneEvery = time.Hour

// Handler serves the Events API: POST /slack/events and POST
// /slack/interactions. Without a signing secret both answer 404: Slack
// reaches this adapter over Socket Mode only. Requests accepted before Run
// starts wait in the queue.
func (a *Adapter) Handler() http.Handler {
	mux := http.NewServeMux()
	if a.cfg.SigningSecret != "" {
		mux.Handle("POST /slack/events", a.eventsHandler())
		mux.Handle("POST /slack/interactions", a.interactionsHandler())
	}
	return mux
}

// Run works until ctx ends: it learns the bot's own identity (auth.test,
// retried with backoff), runs the workers, the outbox, the subscription to
// the engine's events, the Socket Mode connection when an app token is
// set, and the pruning of old event keys. At start, and each time the
// subscription is dropped, it catches up from the store: handoffs not yet
// posted to the agent channel and replies not yet delivered to Slack
// customers go out. Run returns when everything it started has stopped.
func (a *Adapter) Run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { a.whoAmI(ctx) })
	wg.Go(func() { a.workers(ctx) })
	wg.Go(func() { a.out.run(ctx) })
	wg.Go(func() { a.watch(ctx) })
	if a.cfg.AppToken != "" {
		wg.Go(func() { a.runSocket(ctx) })
	}
	wg.Go(func() { a.prune(ctx) })
	wg.Wait()
}

// whoAmI asks auth.test for the bot's user and bot ids (the echo guard
// uses them), with backoff until it succeeds or ctx ends.
func (a *Adapter) whoAmI(ctx context.Context) {
	for wait := time.Second; ; wait = min(2*wait, time.Minute) {
		r, err := a.api.AuthTestContext(ctx)
		if err == nil {
			a.self.Lock()
			a.self.userID, a.self.botID = r.UserID, r.BotID
			a.self.Unlock()
			a.log.Info("slack: connected", "team", r.Team, "bot_user", r.UserID)
			return
		}
		a.log.Warn("slack auth.test failed; retrying", "err", err, "in", wait)
		if !sleep(ctx, wait) {
			return
		}
	}
}

// watch follows every conversation's events and hands each to both
// sides; when the stream drops it (it fell behind) it subscribes again and
// catches up from the store.
func (a *Adapter) watch(ctx context.Context) {
	for ctx.Err() == nil {
		events, stop := a.engine.Subscribe("", subBuffer)
		a.catchUp(ctx)
	read:
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					a.log.Warn("slack: the event stream dropped the adapter (it fell behind); catching up from the store")
					break read
				}
				a.customerEvent(ctx, ev)
				a.agentEvent(ctx, ev)
			case <-ctx.Done():
				break read
			}
		}
		stop()
	}
}

// catchUp sends what the store has and Slack has not been sent yet.
func (a *Adapter) catchUp(ctx context.Context) {
	if err := a.customerCatchUp(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("slack: catch up the customer side", "err", err)
	}
	if err := a.agentCatchUp(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("slack: catch up the agent side", "err", err)
	}
}

// prune forgets old event keys every pruneEvery.
func (a *Adapter) prune(ctx context.Context) {
	for sleep(ctx, pruneEvery) {
		if _, err := a.store.PruneSeen(ctx, a.now().Add(-seenFor)); err != nil && ctx.Err() == nil {
			a.log.Error("slack: prune event keys", "err", err)
		}
	}
}

// sleep waits d or until ctx ends; it reports whether the wait was full.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
