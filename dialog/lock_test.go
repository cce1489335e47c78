package dialog

import (
	"context"
	"errors"
	"testing"
)

func TestKeyedMutex(t *testing.T) {
	var k keyedMutex
	ctx := context.Background()
	unlockA, err := k.lock(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	// Another key is independent.
	unlockB, err := k.lock(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	unlockB()
	// The same key waits; a cancelled wait gives up with ctx's error.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := k.lock(cancelled, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("lock of a held key with a cancelled ctx: err = %v", err)
	}
	done := make(chan struct{})
	go func() {
		unlock, err := k.lock(ctx, "a")
		if err == nil {
			unlock()
		}
		close(done)
	}()
	unlockA()
	<-done
	k.mu.Lock()
	n := len(k.m)
	k.mu.Unlock()
	if n != 0 {
		t.Errorf("%d lock entries left after all unlocked", n)
	}
}
