package seq2seq

import (
	"testing"
)

func TestTrainLossFalls(t *testing.T) {
	m, epochs := trainedTiny(t)
	if len(epochs) != tinyOptions().Epochs {
		t.Fatalf("%d epochs reported, want %d", len(epochs), tinyOptions().Epochs)
	}
	first, last := epochs[0].Loss, epochs[len(epochs)-1].Loss
	t.Logf("loss %.3f -> %.3f", first, last)
	if !(last < first/4) {
		t.Errorf("loss %.3f -> %.3f, want it to fall to under a quarter", first, last)
	}
	if m.Meta().Epochs != len(epochs) {
		t.Errorf("meta says %d epochs", m.Meta().Epochs)
	}
}

func TestGreedyMemorises(t *testing.T) {
	m, _ := trainedTiny(t)
	for _, p := range tinyPairs()[:10] {
		got := m.Generate(p.Question, 1)
		t.Logf("%q -> %q", p.Question, got)
		if got != p.Answer {
			t.Errorf("%q: got %q, want %q", p.Question, got, p.Answer)
		}
	}
}
