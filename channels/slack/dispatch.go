package slack

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"
)

// shards is how many workers process events: events of one Slack channel
// always go to the same worker, so they are handled in the order Slack
// sent them; different channels run in parallel.
const shards = 8

// drainFor is how long the workers go on, when Run ends, with the events
// accepted (and so acknowledged to Slack) but not processed yet.
const drainFor = 5 * time.Second

// seenFor is how long an event key is remembered: Slack retries for about
// an hour at most.
const seenFor = 24 * time.Hour

// job is an event accepted and waiting for its worker, with what accept
// already did for it.
type job struct {
	ev       event
	received *receivedMsg // a customer message accept stored; nil otherwise
}

// dispatcher holds the workers' queues. A queue never refuses a job: once
// accept has recorded an event as taken, dropping it would lose it, since
// Slack's retry of it is a duplicate. It grows only as fast as Slack sends.
type dispatcher struct {
	mu      sync.Mutex
	queues  [shards][]job         // guarded by mu
	wake    [shards]chan struct{} // a value when queues[i] got a job
	stopped bool                  // guarded by mu: Run ended, accept refuses
}

func newDispatcher() *dispatcher {
	d := &dispatcher{}
	for i := range d.wake {
		d.wake[i] = make(chan struct{}, 1)
	}
	return d
}

func shardOf(channel string) int {
	h := fnv.New32a()
	h.Write([]byte(channel))
	return int(h.Sum32() % shards)
}

// push queues j on its channel's worker; false when the dispatcher has
// stopped.
func (d *dispatcher) push(j job) bool {
	i := shardOf(j.ev.Channel)
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return false
	}
	d.queues[i] = append(d.queues[i], j)
	d.mu.Unlock()
	select {
	case d.wake[i] <- struct{}{}:
	default:
	}
	return true
}

// take removes and returns the jobs queued on worker i.
func (d *dispatcher) take(i int) []job {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := d.queues[i]
	d.queues[i] = nil
	return q
}

// stop makes push refuse from now on.
func (d *dispatcher) stop() {
	d.mu.Lock()
	d.stopped = true
	d.mu.Unlock()
}

func (d *dispatcher) isStopped() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stopped
}

// errStopped means the adapter has stopped: the event was not taken (over
// HTTP Slack retries it later, to this node or another).
var errStopped = errors.New("slack adapter stopped")

// accept takes an event from either transport, before it is acknowledged
// to Slack: it drops the bot's own messages and events it has taken before
// (by key, durably: a retry, a second node's copy), stores a customer's
// message durably (so that once Slack has its ack, the message cannot be
// lost: the engine answers what it stored but did not answer at the next
// start), and queues the rest of the work. It returns quickly: nothing
// here calls Slack.
func (a *Adapter) accept(ctx context.Context, ev event) error {
	if a.ignored(ev) {
		return nil
	}
	if a.work.isStopped() {
		return errStopped
	}
	var rec *receivedMsg
	if a.isCustomerMessage(ctx, ev) {
		r, err := a.receiveCustomer(ctx, ev) // idempotent: the message's ts is its client id
		if err != nil {
			return err
		}
		rec = r
	}
	fresh, err := a.store.MarkSeen(ctx, "slack:"+ev.Key, a.now())
	if err != nil {
		return fmt.Errorf("slack accept %s: %w", ev.Key, err)
	}
	if !fresh && rec == nil {
		return nil
	}
	if !a.work.push(job{ev: ev, received: rec}) {
		// Run ended between the check above and now: the event is marked
		// taken but will not be processed here. A customer's message is
		// stored and answered at the next start; anything else is lost,
		// which only a shutdown in this instant can cause.
		return errStopped
	}
	return nil
}

// ignored reports whether the event is one the adapter never acts on: the
// bot's own messages (the echo guard), edits, deletions and joins.
func (a *Adapter) ignored(ev event) bool {
	if ev.Kind == kindAction {
		return false
	}
	a.self.Lock()
	me, bot := a.self.userID, a.self.botID
	a.self.Unlock()
	switch {
	case ev.BotID != "" || ev.Subtype == "bot_message":
		return true
	case me != "" && ev.User == me, bot != "" && ev.BotID == bot:
		return true
	case ev.Subtype != "" && ev.Subtype != "file_share" && ev.Subtype != "thread_broadcast":
		return true
	}
	return ev.User == "" || ev.Text == ""
}

// workers run the queued jobs until ctx ends, then stop the dispatcher and
// process what was queued before that for up to drainFor: those events
// were acknowledged to Slack, which will not send them again.
func (a *Adapter) workers(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range shards {
		wg.Go(func() {
			for {
				for _, j := range a.work.take(i) {
					a.process(ctx, j)
				}
				select {
				case <-a.work.wake[i]:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	wg.Wait()
	a.work.stop()
	drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainFor)
	defer cancel()
	for i := range shards {
		wg.Go(func() {
			for _, j := range a.work.take(i) {
				a.process(drain, j)
			}
		})
	}
	wg.Wait()
}

// process does the work of one event: routes it to the customer or the
// agent side. Failures are logged: the event was acknowledged already.
func (a *Adapter) process(ctx context.Context, j job) {
	var err error
	switch {
	case j.received != nil:
		err = a.answerCustomer(ctx, j.ev, *j.received)
	case j.ev.Kind == kindAction && isAgentAction(j.ev.ActionID):
		err = a.agentAction(ctx, j.ev)
	case j.ev.Kind == kindAction:
		err = a.customerAction(ctx, j.ev)
	case a.cfg.AgentChannel != "" && j.ev.Channel == a.cfg.AgentChannel:
		err = a.agentMessage(ctx, j.ev)
	}
	if err != nil && ctx.Err() == nil {
		a.log.Error("slack event", "key", j.ev.Key, "channel", j.ev.Channel, "err", err)
	}
}
