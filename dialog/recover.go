package dialog

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/parleyhq/parley/crm"
)

// DefaultStallTimeout is Config.StallTimeout's default: far longer than a
// turn takes, short enough that a customer whose node died is answered
// within seconds.
const DefaultStallTimeout = 5 * time.Second

// stallLockWait is how long Sweep waits for the lock of a stalled
// conversation: a turn that holds it is answering the message already.
const stallLockWait = 200 * time.Millisecond

// answerPending answers one conversation for AnswerPending and Sweep. A
// panic there (a damaged store, a bug) fails that conversation only: it is
// logged once with its stack, and the server goes on. wait > 0 bounds the
// wait for the conversation's lock (the turns themselves run under ctx);
// a lock still held after it is errBusy.
func (e *Engine) answerPending(ctx context.Context, id string, wait time.Duration, out *Outcome) (err error) {
	defer func() {
		if v := recover(); v != nil {
			e.log.Error("answer pending: panic", "conversation", id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	lockCtx := ctx
	if wait > 0 {
		var cancel context.CancelFunc
		lockCtx, cancel = context.WithTimeout(ctx, wait)
		defer cancel()
	}
	unlock, err := e.lock(lockCtx, id)
	if err != nil {
		if ctx.Err() == nil && lockCtx.Err() != nil {
			return errBusy
		}
		return err
	}
	defer unlock()
	return e.turns(ctx, id, "", out)
}

// errBusy: another turn of the conversation holds its lock.
var errBusy = errors.New("conversation busy")

// answerStalled answers the conversations the bot holds whose newest
// customer message has waited Config.StallTimeout unanswered: the node
// that acknowledged it stopped before its turn (killed, or its turn
// failed). Any node may run the turn, since the store and the turn lock
// are shared. A conversation whose turn failed here is not tried again
// until a new message arrives (stalled), so a message that always fails is
// logged once per process, not once per sweep.
func (e *Engine) answerStalled(ctx context.Context, now time.Time) (int, error) {
	convs, err := e.store.OpenConversations(ctx, crm.ConversationFilter{State: crm.StateBot, Unanswered: true})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range convs {
		if now.Before(c.UpdatedAt.Add(e.stallTimeout)) || e.stalled.failed(c) {
			continue
		}
		var out Outcome
		switch err := e.answerPending(ctx, c.ID, stallLockWait, &out); {
		case err == nil:
			n++
		case errors.Is(err, errBusy):
		case ctx.Err() != nil:
			return n, ctx.Err()
		default:
			e.stalled.fail(c)
			e.log.Error("answer stalled message", "conversation", c.ID, "err", err)
		}
	}
	return n, nil
}

// stalledFailures remembers, per conversation, the newest customer message
// whose stalled turn failed in this process.
type stalledFailures struct {
	mu sync.Mutex
	m  map[string]uint64 // conversation id: LastCustomerSeq; guarded by mu
}

func (s *stalledFailures) failed(c crm.Conversation) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	seq, ok := s.m[c.ID]
	if ok && seq != c.LastCustomerSeq {
		delete(s.m, c.ID) // a new message: try again
		return false
	}
	return ok
}

func (s *stalledFailures) fail(c crm.Conversation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]uint64)
	}
	s.m[c.ID] = c.LastCustomerSeq
}
