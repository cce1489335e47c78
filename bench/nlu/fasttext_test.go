package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"unicode"
)

func TestFastTextTokens(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"lower case", "Where is My CARD", "where is my card"},
		{"punctuation split off", "card?! (new)", "card ? ! ( new )"},
		{"apostrophe", "hasn't arrived", "hasn ' t arrived"},
		{"newlines and tabs become spaces", "one\ntwo\r\n\tthree", "one two three"},
		{"digits and underscore stay in words", "top_up 25.50", "top_up 25 . 50"},
		{"accents and combining marks", "Café cafe\u0301", "café cafe\u0301"},
		{"only punctuation", "??", "? ?"},
		{"empty", "   ", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fastTextTokens(tc.in); got != tc.want {
				t.Errorf("fastTextTokens(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzFastTextTokens(f *testing.F) {
	for _, s := range []string{"Where is my card?", "a\nb", "  x  ", "é\u0301!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := fastTextTokens(in)
		// One line for fastText: no line breaks, single spaces, no edges.
		if strings.ContainsFunc(got, func(r rune) bool { return unicode.IsSpace(r) && r != ' ' || unicode.IsControl(r) }) ||
			strings.Contains(got, "  ") || strings.TrimSpace(got) != got {
			t.Fatalf("fastTextTokens(%q) = %q", in, got)
		}
		if again := fastTextTokens(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, got, again)
		}
	})
}

func TestParseFastTextPredictions(t *testing.T) {
	names := []string{"balance", "card arrival"}
	tests := []struct {
		name    string
		in      string
		want    []prediction
		wantErr string
	}{
		{
			name: "labels map back by index",
			in:   "__label__1 0.75\n__label__0 1.00001\n",
			want: []prediction{{"card arrival", 0.75}, {"balance", 1.00001}},
		},
		{
			name: "empty line is no answer",
			in:   "__label__0 0.5\n\n__label__1 0.25\n",
			want: []prediction{{"balance", 0.5}, {}, {"card arrival", 0.25}},
		},
		{name: "no output", in: "", want: nil},
		{name: "index out of range", in: "__label__2 0.5\n", wantErr: "unknown label"},
		{name: "no prefix", in: "balance 0.5\n", wantErr: "no __label__ prefix"},
		{name: "k above one", in: "__label__0 0.5 __label__1 0.2\n", wantErr: "4 fields"},
		{name: "bad probability", in: "__label__0 high\n", wantErr: "probability"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseFastTextPredictions([]byte(tc.in), names)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("[%d] = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func FuzzParseFastTextPredictions(f *testing.F) {
	f.Add("__label__1 0.75\n__label__0 1.00001\n")
	f.Add("\n__label__0 1e-05\n")
	f.Add("__label__-1 0.5")
	names := []string{"a", "b"}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := parseFastTextPredictions([]byte(in), names)
		if err != nil {
			return
		}
		for _, p := range got {
			if p.Label != "" && p.Label != "a" && p.Label != "b" {
				t.Fatalf("label %q is not one of the names", p.Label)
			}
		}
	})
}

// tinyIntents is a small team-written training set. Its labels contain a
// space and fastText's own label prefix, which the index labels must survive.
var tinyIntents = map[string][]string{
	"check balance":     {"what is my balance", "how much money do i have", "show my account balance", "balance please", "tell me my balance"},
	"__label__greeting": {"hello there", "hi", "good morning", "hey", "hello"},
	"card_lost":         {"i lost my card", "my card was stolen", "cannot find my card", "card missing", "lost card"},
}

func tinyTrain() []example {
	var out []example
	for label, msgs := range tinyIntents {
		for _, m := range msgs {
			out = append(out, example{m, label})
		}
	}
	return out
}

// tinyFastText trains in a second or so: few buckets, small vectors.
var tinyFastText = fastTextConfig{
	Bin:          "fasttext",
	Args:         []string{"-epoch", "100", "-lr", "0.5", "-wordNgrams", "2", "-bucket", "1000", "-dim", "10", "-thread", "1", "-seed", "1", "-verbose", "0"},
	Seed:         1,
	LatencyLines: 200,
	LatencyRuns:  1,
}

func TestRunFastText(t *testing.T) {
	_, err := exec.LookPath("fasttext")
	needTool(t, err == nil, "fasttext")
	train := tinyTrain()
	eval := map[string][]string{"test": texts(train), "val": {"what's my balance?", "hello!!"}}
	run, err := runFastText(context.Background(), tinyFastText, t.TempDir(), train, eval)
	if err != nil {
		t.Fatal(err)
	}
	acc, _, err := closedSet(labels(train), run.Predictions["test"])
	if err != nil {
		t.Fatal(err)
	}
	if acc < 0.9 {
		t.Errorf("training-set accuracy %.2f, want >= 0.9: %v", acc, run.Predictions["test"])
	}
	if len(run.Predictions["val"]) != 2 || run.Predictions["val"][1].Label != "__label__greeting" {
		t.Errorf("val predictions %v, want 2 with the second __label__greeting", run.Predictions["val"])
	}
	if run.TrainSeconds <= 0 || run.ModelBytes <= 0 || !run.LatencyBatch || run.LatencyP50 != run.LatencyP99 {
		t.Errorf("costs %+v", run)
	}
}

func BenchmarkFastTextTokens(b *testing.B) {
	const msg = "I still haven't received my new card, it's been 2 weeks! What should I do?"
	for b.Loop() {
		fastTextTokens(msg)
	}
}
