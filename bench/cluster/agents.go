package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// race is two agents claiming one waiting conversation at once, through
// two different nodes.
type race struct {
	conv    string
	agents  [2]string
	nodes   [2]int
	codes   [2]int    // HTTP status of each claim; 0: no answer (the node died)
	errs    [2]string // the error code of a refused claim, or why there was no answer
	winners int       // claims answered 200
	winner  string
	// answered is how many of the winner's messages were stored, and
	// resolved whether the winner's resolve was.
	answered int
	resolved bool
}

// agents are console agents working through the REST API: each polls the
// queue of waiting conversations on a random live node; the first to see
// one starts a race, it and another agent claiming it at the same moment
// through different nodes. The winner answers twice and resolves the
// conversation, which gives it back to the bot.
type agents struct {
	cl     *cluster
	logins []string
	client *http.Client
	mu     sync.Mutex      // guards busy and races
	busy   map[string]bool // conversations in a race or with their winner
	races  []*race
	wg     sync.WaitGroup // the races and their winners' work
}

func newAgents(cl *cluster, logins []string) *agents {
	return &agents{cl: cl, logins: logins, client: &http.Client{Timeout: 10 * time.Second}, busy: map[string]bool{}}
}

// run polls until ctx ends, then waits for the races under way.
func (a *agents) run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range a.logins {
		wg.Go(func() { a.poll(ctx, i) })
	}
	wg.Wait()
	a.wg.Wait()
}

// poll is agent i looking at the queue every half second or so.
func (a *agents) poll(ctx context.Context, i int) {
	rng := rand.New(rand.NewPCG(uint64(i), 5))
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(300+rng.IntN(400)) * time.Millisecond):
		}
		var list struct {
			Conversations []struct {
				ID string `json:"id"`
			} `json:"conversations"`
		}
		code, body, err := a.do(ctx, a.randomNode(rng, -1), "GET", "/api/v1/conversations?state=waiting&limit=500", nil)
		if err != nil || code != http.StatusOK {
			continue // a dead node, or a busy one: the next poll goes elsewhere
		}
		if err := json.Unmarshal(body, &list); err != nil {
			continue
		}
		for _, c := range list.Conversations {
			a.mu.Lock()
			if a.busy[c.ID] {
				a.mu.Unlock()
				continue
			}
			a.busy[c.ID] = true
			a.mu.Unlock()
			other := (i + 1 + rng.IntN(len(a.logins)-1)) % len(a.logins)
			seed := rng.Uint64() // the race has a generator of its own
			a.wg.Go(func() { a.race(ctx, c.ID, [2]int{i, other}, seed) })
		}
	}
}

// randomNode returns a random live node other than node except (-1: any),
// or any live one when there is no other.
func (a *agents) randomNode(rng *rand.Rand, except int) *node {
	live := a.cl.live()
	var others []*node
	for _, n := range live {
		if n.idx != except {
			others = append(others, n)
		}
	}
	if len(others) == 0 {
		others = live
	}
	return others[rng.IntN(len(others))]
}

// race runs one race for conv between the agents who and, for its winner,
// two answers and the resolve.
func (a *agents) race(ctx context.Context, conv string, who [2]int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 3))
	r := &race{conv: conv}
	first := a.randomNode(rng, -1)
	nodes := [2]*node{first, a.randomNode(rng, first.idx)}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for k := range 2 {
		r.agents[k], r.nodes[k] = a.logins[who[k]], nodes[k].idx
		wg.Go(func() {
			<-start
			body, _ := json.Marshal(map[string]string{"agent_id": r.agents[k]})
			code, resp, err := a.do(ctx, nodes[k], "POST", "/api/v1/conversations/"+conv+"/claim", body)
			r.codes[k] = code
			switch {
			case err != nil:
				r.errs[k] = err.Error()
			case code != http.StatusOK:
				var e struct {
					Error struct{ Code string } `json:"error"`
				}
				json.Unmarshal(resp, &e)
				r.errs[k] = e.Error.Code
			}
		})
	}
	close(start)
	wg.Wait()
	for k := range 2 {
		if r.codes[k] == http.StatusOK {
			r.winners++
			r.winner = r.agents[k]
		}
	}
	a.mu.Lock()
	a.races = append(a.races, r)
	round := len(a.races)
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.busy, conv)
		a.mu.Unlock()
	}()
	if r.winners != 1 {
		return
	}
	for k := range 2 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
		body, _ := json.Marshal(map[string]string{"text": fmt.Sprintf("Hello, %s here (answer %d).", r.winner, k+1),
			"sender": "agent", "agent_id": r.winner, "client_id": fmt.Sprintf("agent-%s-%d-%d", conv, round, k)})
		if code, _, err := a.retry(ctx, rng, "POST", "/api/v1/conversations/"+conv+"/messages", body); err == nil && (code == http.StatusCreated || code == http.StatusOK) {
			r.answered++
		}
	}
	body, _ := json.Marshal(map[string]string{"agent_id": r.winner})
	if code, _, err := a.retry(ctx, rng, "POST", "/api/v1/conversations/"+conv+"/resolve", body); err == nil && code == http.StatusOK {
		r.resolved = true
	}
}

// retry does a request on random live nodes until one answers (a node
// killed under it gives no answer), at most 5 times. Posting a message
// again is safe: its client id makes the resend a no-op.
func (a *agents) retry(ctx context.Context, rng *rand.Rand, method, path string, body []byte) (int, []byte, error) {
	var err error
	for range 5 {
		var code int
		var resp []byte
		if code, resp, err = a.do(ctx, a.randomNode(rng, -1), method, path, body); err == nil {
			return code, resp, nil
		}
		select {
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return 0, nil, err
}

// do sends one REST API request to nd.
func (a *agents) do(ctx context.Context, nd *node, method, path string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, nd.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.cl.apiToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s on node %d: %w", method, path, nd.idx, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s on node %d: %w", method, path, nd.idx, err)
	}
	return resp.StatusCode, data, nil
}

// claimEvents counts the stored claim events of conv, read through a
// live node: one per race with a winner, or a claim won twice.
func (a *agents) claimEvents(ctx context.Context, conv string) (int, error) {
	rng := rand.New(rand.NewPCG(uint64(len(conv)), 1))
	code, body, err := a.retry(ctx, rng, "GET", "/api/v1/conversations/"+conv+"/events?limit=1000", nil)
	if err != nil {
		return 0, err
	}
	if code != http.StatusOK {
		return 0, fmt.Errorf("events of %s: HTTP %d: %s", conv, code, body)
	}
	var list struct {
		Events []struct {
			Type string `json:"type"`
		} `json:"events"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return 0, fmt.Errorf("events of %s: %w", conv, err)
	}
	n := 0
	for _, e := range list.Events {
		if e.Type == "claim" {
			n++
		}
	}
	return n, nil
}

// conversation reads conv through a live node: its state, last customer
// seq and the seq up to which the engine answered.
func (a *agents) conversation(ctx context.Context, conv string) (state string, lastCustomer, answered uint64, err error) {
	rng := rand.New(rand.NewPCG(uint64(len(conv)), 2))
	code, body, err := a.retry(ctx, rng, "GET", "/api/v1/conversations/"+conv, nil)
	if err != nil {
		return "", 0, 0, err
	}
	if code != http.StatusOK {
		return "", 0, 0, fmt.Errorf("conversation %s: HTTP %d: %s", conv, code, body)
	}
	var c struct {
		State           string `json:"state"`
		LastCustomerSeq uint64 `json:"last_customer_seq"`
		AnsweredSeq     uint64 `json:"answered_seq"`
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return "", 0, 0, errors.Join(fmt.Errorf("conversation %s", conv), err)
	}
	return c.State, c.LastCustomerSeq, c.AnsweredSeq, nil
}
