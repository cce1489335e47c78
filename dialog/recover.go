package dialog

import (
	"context"
	"fmt"
	"runtime/debug"
)

// answerPending answers one conversation for AnswerPending. A panic there
// (a damaged store, a bug) fails that conversation only: it is logged once
// with its stack, and the server starts all the same. The conversation's
// lock is released by answer's own deferred unlock.
func (e *Engine) answerPending(ctx context.Context, id string, out *Outcome) (err error) {
	defer func() {
		if v := recover(); v != nil {
			e.log.Error("answer pending: panic", "conversation", id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return e.answer(ctx, id, "", out, func() {})
}
