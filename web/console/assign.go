package console

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// assignJob is a conversation that entered waiting, for auto-assignment.
type assignJob struct {
	conv     string
	queue    string
	eventSeq uint64 // the lifecycle event that put it there
	// exclude: it came back from an agent (release, requeue, transfer to
	// a queue), who must not get it again.
	exclude bool
}

// assigner gives the conversations that enter waiting to online agents,
// one at a time (so each choice sees the assignments before it), until ctx
// ends. It runs whether or not AutoAssign is set: without it no job comes.
func (h *hub) assigner(ctx context.Context) {
	last := make(map[string]time.Time) // when each agent was last given one
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-h.assignCh:
			h.autoAssign(ctx, job, last)
		}
	}
}

// autoAssign gives job's conversation to the online agent serving its
// queue who holds the fewest conversations (then the one given one least
// recently, then by login), never to the agent it just came back from. A
// failed assignment because someone claimed it meanwhile is the normal
// end of a race; any other failure moves on to the next agent.
func (h *hub) autoAssign(ctx context.Context, job assignJob, last map[string]time.Time) {
	var candidates []crm.Agent
	for _, a := range h.onlineAgents() {
		if serves(a, job.queue) {
			candidates = append(candidates, a)
		}
	}
	if len(candidates) == 0 {
		return
	}
	if job.exclude {
		prev, err := h.previousAgent(ctx, job.conv, job.eventSeq)
		if err != nil {
			h.assignFailed(ctx, job, err)
			return
		}
		candidates = slices.DeleteFunc(candidates, func(a crm.Agent) bool { return a.Login == prev })
	}
	held, err := h.held(ctx)
	if err != nil {
		h.assignFailed(ctx, job, err)
		return
	}
	slices.SortFunc(candidates, func(a, b crm.Agent) int {
		return cmp.Or(cmp.Compare(held[a.Login], held[b.Login]), last[a.Login].Compare(last[b.Login]),
			strings.Compare(a.Login, b.Login))
	})
	for _, a := range candidates {
		_, err := h.c.cfg.Engine.Assign(ctx, job.conv, a.Login, dialog.Actor{})
		switch {
		case err == nil:
			last[a.Login] = h.c.cfg.Now()
			h.log.Info("console auto-assigned", "conversation", job.conv, "agent", a.Login, "held", held[a.Login])
			return
		case errors.Is(err, dialog.ErrClaimed), errors.Is(err, dialog.ErrState), errors.Is(err, crm.ErrNotFound), ctx.Err() != nil:
			return // claimed, resolved or erased meanwhile
		default:
			h.log.Warn("console auto-assign", "conversation", job.conv, "agent", a.Login, "err", err)
		}
	}
}

func (h *hub) assignFailed(ctx context.Context, job assignJob, err error) {
	if ctx.Err() == nil && !errors.Is(err, crm.ErrNotFound) {
		h.log.Warn("console auto-assign", "conversation", job.conv, "err", err)
	}
}

// previousAgent returns who held the conversation before its event
// beforeSeq: the assignee of the latest earlier event that had one ("" if
// none did).
func (h *hub) previousAgent(ctx context.Context, id string, beforeSeq uint64) (string, error) {
	evs, err := h.c.cfg.Store.Events(ctx, id, 0, 0)
	if err != nil {
		return "", err
	}
	prev := ""
	for _, e := range evs {
		if beforeSeq != 0 && e.Seq >= beforeSeq {
			break
		}
		if e.Agent != "" {
			prev = e.Agent
		}
	}
	return prev, nil
}

// held counts the conversations each agent holds.
func (h *hub) held(ctx context.Context) (map[string]int, error) {
	convs, err := h.c.cfg.Store.OpenConversations(ctx, crm.ConversationFilter{State: crm.StateAgent})
	if err != nil {
		return nil, err
	}
	n := make(map[string]int)
	for _, c := range convs {
		n[c.AssignedAgent]++
	}
	return n, nil
}
