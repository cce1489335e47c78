package dialog

import (
	"fmt"
	"testing"
	"time"
)

func TestProofCounterWindow(t *testing.T) {
	var p proofCounter
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	for i := 1; i <= 3; i++ {
		if n := p.add("ip:a", t0.Add(time.Duration(i)*time.Minute)); n != i {
			t.Fatalf("failure %d counted as %d", i, n)
		}
	}
	if n := p.count("ip:a", t0.Add(time.Hour)); n != 3 {
		t.Errorf("count within the window = %d, want 3", n)
	}
	if n := p.count("ip:a", t0.Add(time.Hour+time.Minute)); n != 0 {
		t.Errorf("count a window after the first failure = %d, want 0", n)
	}
	if n := p.add("ip:a", t0.Add(2*time.Hour)); n != 1 {
		t.Errorf("a failure after the window counts %d, want a fresh 1", n)
	}
	if n := p.count("ip:b", t0); n != 0 {
		t.Errorf("another source counts %d", n)
	}
	if p.add("", t0) != 0 || p.count("", t0) != 0 || len(p.m) != 1 {
		t.Errorf("an unknown source was counted: %v", p.m)
	}
}

func TestProofCounterBounded(t *testing.T) {
	var p proofCounter
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	p.add("ip:first", t0)
	p.add("ip:first", t0)
	for i := range proofSources - 1 {
		p.add(fmt.Sprintf("ip:%d", i), t0.Add(time.Second))
	}
	if len(p.m) != proofSources {
		t.Fatalf("%d sources, want %d", len(p.m), proofSources)
	}
	// Full: a new source pushes out the one counting longest.
	p.add("ip:new", t0.Add(2*time.Second))
	if len(p.m) != proofSources || p.count("ip:first", t0.Add(2*time.Second)) != 0 || p.count("ip:new", t0.Add(2*time.Second)) != 1 {
		t.Errorf("after one more source: %d sources, first %d, new %d", len(p.m), p.count("ip:first", t0), p.count("ip:new", t0))
	}
	// Once the window has passed, every expired source goes at once.
	later := t0.Add(time.Hour + time.Minute)
	p.add("ip:later", later)
	if len(p.m) != 1 || p.count("ip:later", later) != 1 {
		t.Errorf("after the window %d sources remain, want only the new one", len(p.m))
	}
}
