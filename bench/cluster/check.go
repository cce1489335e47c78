package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// verdict is what the check of one customer's conversation found, read
// back from the store through a live node after the run.
type verdict struct {
	acked int // messages the customer had acknowledged
	// lost: acknowledged but not stored; stored twice: an acknowledged
	// client id stored more than once; moved: stored at another seq than
	// its ack said; changed: a message received live whose stored sender
	// or text differs.
	lost, storedTwice, moved, changed int
	// badHistory: the replayed history is not seqs 1..N, each once, in
	// order.
	badHistory int
	// gaps: seqs below the newest the customer received live that it never
	// received (nor got replayed on a resume).
	gaps int
	// unanswered: customer messages with no bot or agent message after
	// them; engineBehind: conversations the bot holds whose answered seq
	// is below their last customer seq.
	unanswered, engineBehind int
	// answeredTwice: customer messages followed by the same bot messages
	// twice over (two turns answered one message).
	answeredTwice int
}

// check reads the whole conversation back (hello with last seq 0 on a
// live node) and compares it with what the customer sent and received;
// it also asks the REST API whether the engine answered everything.
func (cu *customer) check(ctx context.Context, a *agents) (verdict, error) {
	if cu.conv == "" || len(cu.acked) == 0 {
		return verdict{}, nil // never stored a message: nothing to check
	}
	hist, err := cu.history(ctx)
	if err != nil {
		return verdict{acked: len(cu.acked)}, err
	}
	v := cu.compare(hist)
	state, lastCustomer, answered, err := a.conversation(ctx, cu.conv)
	if err != nil {
		return v, err
	}
	if state == "bot" && answered < lastCustomer {
		v.engineBehind++
	}
	return v, nil
}

// compare checks the stored history hist against what the customer sent,
// had acknowledged and received live.
func (cu *customer) compare(hist []frame) verdict {
	v := verdict{acked: len(cu.acked)}
	stored := map[string][]uint64{} // client id: seqs
	bySeq := map[uint64]frame{}
	for i, m := range hist {
		if m.Seq != uint64(i+1) {
			v.badHistory++
		}
		if m.Sender == "customer" {
			stored[m.ClientID] = append(stored[m.ClientID], m.Seq)
		}
		bySeq[m.Seq] = m
	}
	for id, seq := range cu.acked {
		seqs := stored[id]
		switch {
		case len(seqs) == 0:
			v.lost++
		case len(seqs) > 1:
			v.storedTwice += len(seqs) - 1
		case seqs[0] != seq:
			v.moved++
		}
	}
	for seq, m := range cu.seen {
		h, ok := bySeq[seq]
		if !ok || h.Sender != m.sender || h.Text != m.text || m.sender == "customer" && h.ClientID != m.clientID {
			v.changed++
		}
	}
	for seq := uint64(1); seq <= cu.maxSeen; seq++ {
		if _, ok := cu.seen[seq]; !ok {
			v.gaps++
		}
	}
	var bots []string // the bot's texts since the last customer message
	for i := len(hist) - 1; i >= 0; i-- {
		switch hist[i].Sender {
		case "bot":
			bots = append(bots, hist[i].Text)
		case "customer":
			if h := len(bots) / 2; len(bots) > 0 && len(bots)%2 == 0 && slices.Equal(bots[:h], bots[h:]) {
				v.answeredTwice++
			}
			bots = bots[:0]
		}
	}
	replied := false
	for i := len(hist) - 1; i >= 0; i-- {
		switch hist[i].Sender {
		case "bot", "agent":
			replied = true
		case "customer":
			if !replied {
				v.unanswered++
			}
		}
	}
	return v
}

// history says hello with last seq 0 on the live nodes in turn until one
// replays the conversation, and returns its messages up to the welcome's
// last seq.
func (cu *customer) history(ctx context.Context) ([]frame, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var err error
	for _, nd := range cu.cl.live() {
		var hist []frame
		if hist, err = replay(ctx, nd, cu.token); err == nil {
			return hist, nil
		}
	}
	return nil, fmt.Errorf("read the history of %s: %w", cu.conv, err)
}

// replay reads token's conversation from nd: the messages up to the
// welcome's last seq.
func replay(ctx context.Context, nd *node, token string) ([]frame, error) {
	s, w, err := dialNode(ctx, nd, token, 0)
	if err != nil {
		return nil, err
	}
	defer s.close()
	var hist []frame
	for len(hist) == 0 || hist[len(hist)-1].Seq < w.LastSeq {
		if w.LastSeq == 0 {
			break
		}
		select {
		case f, ok := <-s.frames:
			if !ok {
				return nil, fmt.Errorf("read the history on node %d: %v (%d of %d messages)", nd.idx, s.err, len(hist), w.LastSeq)
			}
			if f.Type == "message" {
				hist = append(hist, f)
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("read the history on node %d: %w (%d of %d messages)", nd.idx, ctx.Err(), len(hist), w.LastSeq)
		}
	}
	return hist, nil
}
