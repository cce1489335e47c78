package replies

import (
	"math"
	"slices"
	"testing"
)

func TestTokens(t *testing.T) {
	got := Tokens("Hi! Your order {{Order Number}} isn't lost: call {{Customer Support Phone Number}}.")
	want := []string{"hi", "!", "your", "order", "{{Order Number}}", "isn't", "lost", ":", "call", "{{Customer Support Phone Number}}", "."}
	if !slices.Equal(got, want) {
		t.Errorf("Tokens = %q, want %q", got, want)
	}
}

func TestRougeL(t *testing.T) {
	tests := []struct {
		name      string
		cand, ref string
		want      float64
	}{
		{"identical", "the cat sat", "the cat sat", 1},
		{"disjoint", "a b", "c d", 0},
		// LCS "the sat" = 2; P = 2/3, R = 2/4; F1 = 4/7.
		{"partial", "the dog sat", "the cat has sat", 4.0 / 7},
		{"empty", "", "the cat", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RougeL(Tokens(tt.cand), Tokens(tt.ref)); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("RougeL = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGeneration(t *testing.T) {
	gold := []string{
		"Please call {{Customer Support Phone Number}} about order {{Order Number}} today.",
		"You can track your parcel on {{Website Name}} under {{Track Order}}.",
	}
	perfect := Generation(gold, gold)
	if perfect.RougeL != 1 || math.Abs(perfect.BLEU4-1) > 1e-9 || perfect.PlaceholderF1 != 1 {
		t.Errorf("gold against itself: %+v, want ROUGE-L, BLEU-4 and placeholder F1 of 1", perfect)
	}
	// One of the four gold placeholders generated, plus one wrong one:
	// P = 1/2, R = 1/4, F1 = 1/3.
	gen := []string{"Please call {{Website Name}} today.", "Track it under {{Track Order}}."}
	m := Generation(gen, gold)
	if math.Abs(m.PlaceholderF1-1.0/3) > 1e-9 {
		t.Errorf("placeholder F1 = %v, want 1/3", m.PlaceholderF1)
	}
	// Placeholders count as multisets: a repeat matches one gold only.
	if f := PlaceholderF1([]string{"{{A}} or {{A}}"}, []string{"{{A}}"}); math.Abs(f-2.0/3) > 1e-9 {
		t.Errorf("placeholder F1 of a repeat = %v, want 2/3", f)
	}
	if !(m.RougeL > 0 && m.RougeL < 1) || m.BLEU4 >= perfect.BLEU4 {
		t.Errorf("partial replies: %+v, want ROUGE-L in (0,1) and BLEU-4 under 1", m)
	}
	// The same reply twice: half the bigrams are repeats.
	same := Generation([]string{"a b c", "a b c"}, []string{"a b c", "x y z"})
	if same.Distinct2 != 0.5 {
		t.Errorf("distinct-2 of one reply twice = %v, want 0.5", same.Distinct2)
	}
	if none := Generation(nil, nil); none != (GenMetrics{}) {
		t.Errorf("no replies: %+v, want zeros", none)
	}
}

func TestBLEUBrevity(t *testing.T) {
	var long, short bleuCounts
	ref := Tokens("one two three four five six seven eight")
	long.add(ref, ref)
	short.add(ref[:5], ref)
	if long.score() != 1 || !(short.score() < 1 && short.score() > 0) {
		t.Errorf("BLEU of the full reference %v, of its prefix %v: want 1 and a penalised score in (0,1)", long.score(), short.score())
	}
}
