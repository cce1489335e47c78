package boltdb

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
)

// The crash test re-runs this test binary as a writer child process, selected
// by these environment variables.
const (
	crashChildEnv = "PARLEY_CRM_CRASH_CHILD" // store path; set only in the child
	crashCycleEnv = "PARLEY_CRM_CRASH_CYCLE" // cycle number, for unique client ids
	crashCycles   = "PARLEY_CRASH_CYCLES"    // how many cycles the parent runs (default 50)
	crashSeedEnv  = "PARLEY_CRASH_SEED"      // random seed, to replay a failing run
)

const crashConversations = 4

// TestCrashRecovery kills a writer process with SIGKILL at random moments and
// checks, after each kill, that the store is consistent and holds every
// message the writer had acknowledged.
func TestCrashRecovery(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(t, path)
		return
	}
	cycles := 50
	if s := os.Getenv(crashCycles); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", crashCycles, s)
		}
		cycles = n
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(crashSeedEnv); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", crashSeedEnv, s, err)
		}
	}
	t.Logf("%d cycles; replay with %s=%d", cycles, crashSeedEnv, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	path := filepath.Join(t.TempDir(), "parley.db")
	acked := map[string]ackedMessage{}
	start := time.Now()
	for cycle := range cycles {
		// Most kills land while messages are being written; one in eight
		// at any moment after the start (during Open too).
		waitForAck := rng.IntN(8) != 0
		delay := time.Duration(rng.IntN(40_000)) * time.Microsecond
		got := runCrashChild(t, path, cycle, waitForAck, delay)
		for id, m := range got {
			acked[id] = m
		}
		db, err := Open(path, &Options{Timeout: 10 * time.Second})
		if err != nil {
			t.Fatalf("cycle %d: reopen after kill: %v", cycle, err)
		}
		err = db.Check(context.Background())
		if err == nil {
			err = checkAcked(db, acked)
		}
		db.Close()
		if err != nil {
			t.Fatalf("cycle %d (killed after %v, waiting for an ack: %v): %v", cycle, delay, waitForAck, err)
		}
	}
	t.Logf("%d acknowledged messages survived %d kills (%v per cycle)", len(acked), cycles, time.Since(start)/time.Duration(cycles))
}

type ackedMessage struct {
	conv string
	seq  uint64
}

// checkAcked verifies that every acknowledged message is stored under its seq.
func checkAcked(db *DB, acked map[string]ackedMessage) error {
	stored := map[string]uint64{}
	for i := range crashConversations {
		ms, err := db.MessagesAfter(context.Background(), fmt.Sprintf("conv_%d", i), 0, 0)
		if err != nil && !errors.Is(err, crm.ErrNotFound) {
			return err
		}
		for _, m := range ms {
			stored[m.ID] = m.Seq
		}
	}
	for id, a := range acked {
		seq, ok := stored[id]
		if !ok {
			return fmt.Errorf("acknowledged message %s (%s/%d) lost", id, a.conv, a.seq)
		}
		if seq != a.seq {
			return fmt.Errorf("acknowledged message %s moved from seq %d to %d", id, a.seq, seq)
		}
	}
	return nil
}

// runCrashChild starts a writer, kills it, and returns what it acknowledged.
func runCrashChild(t *testing.T, path string, cycle int, waitForAck bool, delay time.Duration) map[string]ackedMessage {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashRecovery$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path, crashCycleEnv+"="+strconv.Itoa(cycle))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]ackedMessage{}
	var bad []string
	firstAck := make(chan struct{})
	var once sync.Once
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 4 && f[0] == "ACK":
				seq, _ := strconv.ParseUint(f[3], 10, 64)
				acked[f[1]] = ackedMessage{conv: f[2], seq: seq}
				once.Do(func() { close(firstAck) })
			case len(f) > 0 && f[0] == "BAD":
				bad = append(bad, sc.Text())
			}
		}
	}()
	if waitForAck {
		select {
		case <-firstAck:
		case <-done: // the child ended on its own: reported below
		}
	}
	time.Sleep(delay)
	_ = cmd.Process.Kill() // SIGKILL
	<-done
	err = cmd.Wait()
	if len(bad) > 0 {
		t.Fatalf("cycle %d: the writer saw: %s", cycle, strings.Join(bad, "; "))
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != -1 {
		t.Fatalf("cycle %d: the writer ended on its own (%v) instead of being killed:\n%s", cycle, err, stderr.String())
	}
	return acked
}

// crashChild is the writer: it appends until it is killed, and prints
// "ACK id conversation seq" once AppendMessage has returned.
func crashChild(t *testing.T, path string) {
	ctx := context.Background()
	db, err := Open(path, &Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for i := range crashConversations {
		_, err := db.CreateConversation(ctx, crm.Conversation{ID: fmt.Sprintf("conv_%d", i), Channel: crm.ChannelAPI})
		if err != nil && !errors.Is(err, crm.ErrConflict) {
			t.Fatal(err)
		}
	}
	cycle := os.Getenv(crashCycleEnv)
	cycleN, _ := strconv.Atoi(cycle)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(cycleN)))
			var sent []crm.Message
			for n := 0; ; n++ {
				conv := fmt.Sprintf("conv_%d", rng.IntN(crashConversations))
				if n%10 == 9 { // move a conversation between queues: keeps the open index busy
					state := []crm.ConversationState{crm.StateBot, crm.StateWaiting, crm.StateAgent, crm.StateResolved}[rng.IntN(4)]
					if _, err := db.UpdateConversation(ctx, conv, func(c *crm.Conversation) error {
						c.State, c.Queue = state, fmt.Sprintf("q%d", rng.IntN(3))
						return nil
					}); err != nil {
						fmt.Printf("BAD update: %v\n", err)
					}
				}
				m := crm.Message{ConversationID: conv, Sender: crm.SenderCustomer, ClientID: fmt.Sprintf("c%s-w%d-%d", cycle, w, n),
					Text: fmt.Sprintf("message %d of writer %d in cycle %s", n, w, cycle)}
				resend := n%7 == 6 && len(sent) > 0
				if resend {
					old := sent[rng.IntN(len(sent))]
					m.ConversationID, m.ClientID = old.ConversationID, old.ClientID
				}
				got, _, err := db.AppendMessage(ctx, m)
				if err != nil {
					fmt.Printf("BAD append: %v\n", err)
					continue
				}
				if resend {
					if old := findSent(sent, m.ClientID); got.ID != old.ID || got.Seq != old.Seq {
						fmt.Printf("BAD resend of %s gave %s/%d, want %s/%d\n", m.ClientID, got.ID, got.Seq, old.ID, old.Seq)
					}
				} else {
					sent = append(sent, got)
				}
				// One write call per line: atomic on a pipe.
				os.Stdout.WriteString(fmt.Sprintf("ACK %s %s %d\n", got.ID, got.ConversationID, got.Seq))
			}
		})
	}
	wg.Wait()
}

func findSent(sent []crm.Message, clientID string) crm.Message {
	for _, m := range sent {
		if m.ClientID == clientID {
			return m
		}
	}
	return crm.Message{}
}
