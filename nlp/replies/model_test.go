package replies

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/nlp/dataset"
	"github.com/parleyhq/parley/nlp/suggest"
)

func TestSyntheticSplits(t *testing.T) {
	pairs := syntheticPairs()
	for _, s := range []dataset.Split{dataset.SplitTrain, dataset.SplitVal, dataset.SplitTest} {
		if n := len(Split(pairs, s)); n < 5 {
			t.Errorf("%s: %d pairs, want at least 5 for the tests", s, n)
		}
	}
}

func TestTrainEvaluate(t *testing.T) {
	m := trainTiny(t)
	meta := m.Meta()
	if meta.TrainPairs == 0 || meta.ValPairs == 0 || meta.HybridWeight < 0 || meta.HybridWeight > 1 || meta.TrainSeconds() <= 0 {
		t.Errorf("meta = %+v", meta)
	}
	if meta.Neighbour != NeighbourBM25 && meta.Neighbour != NeighbourEncoder {
		t.Errorf("neighbour %q, want bm25 or encoder", meta.Neighbour)
	}
	test := Split(syntheticPairs(), dataset.SplitTest)
	rep, err := Evaluate(context.Background(), m, test, EvalOptions{Samples: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.N != len(test) || rep.Candidates != len(topics) || len(rep.Samples) != 3 {
		t.Errorf("n %d, candidates %d, samples %d; want %d, %d, 3", rep.N, rep.Candidates, len(rep.Samples), len(test), len(topics))
	}
	// Five replies, which share few words with the questions: BM25 ranks
	// by those; the encoder learnt which questions each answers, and the
	// hybrid is at least as good as the better of the two on validation.
	t.Logf("retrieval: %+v", rep.Retrieval)
	if r := rep.Retrieval.Encoder; r.R1 < 0.7 {
		t.Errorf("encoder: %+v, want R@1 >= 0.7 among 5 replies", r)
	}
	if h, e := rep.Retrieval.Hybrid, rep.Retrieval.Encoder; h.R1 < 0.7 || h.MRR < h.R1 {
		t.Errorf("hybrid: %+v (encoder %+v), want R@1 >= 0.7", h, e)
	}
	if nn := rep.Generation.NearestNeighbour; nn.RougeL < 0.6 || nn.PlaceholderF1 < 0.6 {
		t.Errorf("nearest neighbour %+v", nn)
	}
	// The seq2seq model learnt the replies' words and placeholders.
	if s := rep.Generation.Seq2seq; s.RougeL < 0.3 || s.PlaceholderF1 < 0.3 {
		t.Errorf("seq2seq %+v, want ROUGE-L and placeholder F1 >= 0.3 on five memorised replies", s)
	}
	if rep.LatencyMS.RetrieveP95 <= 0 || rep.LatencyMS.GenerateP95 <= 0 {
		t.Errorf("latency %+v", rep.LatencyMS)
	}
	if _, err := Evaluate(context.Background(), m, test[:1], EvalOptions{}); !errors.Is(err, ErrNoData) {
		t.Errorf("one pair: %v, want ErrNoData", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Evaluate(ctx, m, test, EvalOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestReportJSONKeys(t *testing.T) {
	b, err := json.Marshal(Report{})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.Unmarshal(b, &got)
	// The keys bot eval-replies --json promises (a contract for scripts).
	for _, path := range []string{
		"n", "train_seconds",
		"retrieval.bm25.r1", "retrieval.bm25.r5", "retrieval.bm25.mrr",
		"retrieval.encoder.r1", "retrieval.encoder.r5", "retrieval.encoder.mrr",
		"retrieval.hybrid.r1", "retrieval.hybrid.r5", "retrieval.hybrid.mrr",
		"generation.seq2seq.rouge_l", "generation.seq2seq.bleu4", "generation.seq2seq.placeholder_f1", "generation.seq2seq.distinct_2",
		"generation.nearest_neighbour.rouge_l", "generation.nearest_neighbour.bleu4",
		"generation.nearest_neighbour.placeholder_f1", "generation.nearest_neighbour.distinct_2",
		"latency_ms.retrieve_p95", "latency_ms.generate_p95",
	} {
		var v any = got
		for _, k := range strings.Split(path, ".") {
			obj, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = obj[k]
		}
		if _, ok := v.(float64); !ok {
			t.Errorf("key %s missing or not a number", path)
		}
	}
}

func TestSaveLoad(t *testing.T) {
	m := trainTiny(t)
	dir := filepath.Join(t.TempDir(), "replies")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	// Saving again replaces the folder whole and leaves nothing beside it.
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(dir + ".*"); len(left) != 0 {
		t.Errorf("left beside the model: %v", left)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta().HybridWeight != m.Meta().HybridWeight || got.Meta().Neighbour != m.Meta().Neighbour {
		t.Errorf("meta after load %+v, want %+v", got.Meta(), m.Meta())
	}
	ctx := context.Background()
	v := suggest.Vars{OrderID: "A-1001"}
	for _, q := range []string{"where is my order?", "cancel my order please", "i forgot my password"} {
		d1, err1 := m.Draft(ctx, q, v)
		d2, err2 := got.Draft(ctx, q, v)
		if err1 != nil || err2 != nil || d1 != d2 || d1 == "" {
			t.Errorf("%q: draft %q (%v) before, %q (%v) after loading", q, d1, err1, d2, err2)
		}
		if strings.Contains(d1, "{{Order Number}}") {
			t.Errorf("%q: the order number was not filled in %q", q, d1)
		}
		if m.Neighbour(q) != got.Neighbour(q) {
			t.Errorf("%q: neighbour changed after loading", q)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := got.Draft(cctx, "hi", v); !errors.Is(err, context.Canceled) {
		t.Errorf("draft with a cancelled context: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	m := trainTiny(t)
	saved := filepath.Join(t.TempDir(), "model")
	if err := m.Save(saved); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(t *testing.T, dir string)
		want   error
	}{
		{"missing", func(t *testing.T, dir string) { os.RemoveAll(dir) }, ErrNoModel},
		{"other version", func(t *testing.T, dir string) {
			editFile(t, filepath.Join(dir, MetaFile), func(b []byte) []byte {
				return []byte(strings.Replace(string(b), `"format_version": 1`, `"format_version": 99`, 1))
			})
		}, ErrFormat},
		{"not json", func(t *testing.T, dir string) {
			editFile(t, filepath.Join(dir, MetaFile), func([]byte) []byte { return []byte("{") })
		}, ErrFormat},
		{"pairs changed", func(t *testing.T, dir string) {
			editFile(t, filepath.Join(dir, PairsFile), func(b []byte) []byte { b[len(b)/2] ^= 1; return b })
		}, ErrCorrupt},
		{"unknown neighbour", func(t *testing.T, dir string) {
			editFile(t, filepath.Join(dir, MetaFile), func(b []byte) []byte {
				return []byte(strings.Replace(string(b), `"neighbour": "`, `"neighbour": "x`, 1))
			})
		}, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "model")
			copyDir(t, saved, dir)
			tt.change(t, dir)
			if _, err := Load(dir); !errors.Is(err, tt.want) {
				t.Errorf("Load = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSaveFailureKeepsModel(t *testing.T) {
	m := trainTiny(t)
	root := t.TempDir()
	dir := filepath.Join(root, "model")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	// A file where the new folder's encoder goes: the write fails.
	blocked := filepath.Join(root, "blocked")
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(filepath.Join(blocked, "model")); err == nil {
		t.Fatal("Save under a file succeeded")
	}
	if _, err := Load(dir); err != nil {
		t.Errorf("the saved model after a failed save elsewhere: %v", err)
	}
}

func TestTrainNeedsData(t *testing.T) {
	pairs := Split(syntheticPairs(), dataset.SplitTrain)
	if _, err := Train(context.Background(), pairs, tinyOptions()); !errors.Is(err, ErrNoData) {
		t.Errorf("no validation pairs: %v, want ErrNoData", err)
	}
}

func TestFromMined(t *testing.T) {
	got := FromMined([]suggest.Pair{
		{Reply: "Your order {{order.id}} ships today.", Customers: []string{"where is my order", " ", "has it shipped?"}},
		{Reply: "Returns are free.", Customers: []string{"can I return it"}},
	})
	want := []Pair{
		{Question: "where is my order", Answer: "Your order {{order.id}} ships today.", Split: dataset.HashSplit("where is my order")},
		{Question: "has it shipped?", Answer: "Your order {{order.id}} ships today.", Split: dataset.HashSplit("has it shipped?")},
		{Question: "can I return it", Answer: "Returns are free.", Split: dataset.HashSplit("can I return it")},
	}
	if !slices.Equal(got, want) {
		t.Errorf("FromMined = %+v, want %+v", got, want)
	}
}

func editFile(t *testing.T, path string, f func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, f(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}
