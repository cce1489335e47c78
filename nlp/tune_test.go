package nlp

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/nlp/dataset"
	"github.com/parleyhq/parley/nlp/internal/intent"
)

func TestStratifiedFolds(t *testing.T) {
	t.Parallel()
	var train []dataset.Example
	for i := range 50 {
		train = append(train, dataset.Example{Intent: "a", Text: string(rune('a' + i%26))})
	}
	for range 7 {
		train = append(train, dataset.Example{Intent: "b"})
	}
	train = append(train, dataset.Example{Intent: dataset.OutOfScope}, dataset.Example{Intent: dataset.OutOfScope})
	for _, k := range []int{2, 3, 5} {
		folds := stratifiedFolds(train, k, 7)
		size := make([]int, k)
		perIntent := map[string][]int{}
		for i, f := range folds {
			if f < 0 || f >= k {
				t.Fatalf("k=%d: example %d in fold %d", k, i, f)
			}
			size[f]++
			if perIntent[train[i].Intent] == nil {
				perIntent[train[i].Intent] = make([]int, k)
			}
			perIntent[train[i].Intent][f]++
		}
		if slices.Max(size)-slices.Min(size) > 1 {
			t.Errorf("k=%d: fold sizes %v differ by more than one", k, size)
		}
		for name, n := range perIntent {
			if slices.Max(n)-slices.Min(n) > 1 {
				t.Errorf("k=%d: intent %q spread %v over the folds", k, name, n)
			}
		}
		if again := stratifiedFolds(train, k, 7); !slices.Equal(again, folds) {
			t.Errorf("k=%d: the same seed gave other folds", k)
		}
		if other := stratifiedFolds(train, k, 8); slices.Equal(other, folds) {
			t.Errorf("k=%d: another seed gave the same folds", k)
		}
	}
}

// tinyGrid is a grid whose first candidate cannot learn in its epochs (a
// learning rate a thousand times too small) and whose second can.
func tinyGrid() []Candidate {
	good := intent.DefaultConfig
	good.Dim, good.Epochs, good.LR = 32, 10, 0.01
	bad := good
	bad.LR, bad.Epochs = 3e-6, 1
	return []Candidate{{Name: "stuck", Config: bad}, {Name: "small", Config: good}}
}

func TestTuneChoosesOnTrainingDataOnly(t *testing.T) {
	t.Parallel()
	ds := shopData(t, 3)
	var lines []TuneFold
	opts := TuneOptions{Folds: 2, Grid: tinyGrid(), Train: TrainOptions{Seed: 4, Ensemble: 1},
		Progress: func(f TuneFold) { lines = append(lines, f) }}
	res, err := Tune(context.Background(), ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 4 || lines[0].Candidate != "stuck" || lines[3].Fold != 2 || lines[3].Index != 2 {
		t.Errorf("progress: %+v, want a line per fold of each candidate, in order", lines)
	}
	if res.Winner().Name != "small" || res.Best != 1 {
		t.Errorf("winner %q (row %d), want the candidate that can learn", res.Winner().Name, res.Best)
	}
	for _, row := range res.Rows {
		if len(row.Accuracies) != 2 || row.Mean < 0 || row.Mean > 1 {
			t.Errorf("row %+v: want two accuracies and their mean", row)
		}
	}
	if res.Rows[1].Mean < res.Rows[0].Mean+0.2 {
		t.Errorf("cross-validated accuracy %.3f (stuck) vs %.3f (small): the folds do not measure learning", res.Rows[0].Mean, res.Rows[1].Mean)
	}
	if table := res.Table(); !strings.Contains(table, "| small (winner) |") || strings.Count(table, "\n") != 4 {
		t.Errorf("table:\n%s", table)
	}

	// The validation split is never read: scrambling it changes nothing.
	scrambled := *ds
	scrambled.Val = slices.Clone(ds.Val)
	for i := range scrambled.Val {
		scrambled.Val[i].Intent = ds.Val[(i+1)%len(ds.Val)].Intent
		scrambled.Val[i].Text = "nothing like the training data"
	}
	opts.Progress = nil
	again, err := Tune(context.Background(), &scrambled, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Rows {
		if !slices.Equal(again.Rows[i].Accuracies, res.Rows[i].Accuracies) {
			t.Errorf("%s: accuracies %v with another validation split, %v before", res.Rows[i].Candidate.Name, again.Rows[i].Accuracies, res.Rows[i].Accuracies)
		}
	}
}

func TestTuneRecordedInMeta(t *testing.T) {
	t.Parallel()
	ds := shopData(t, 3)
	res := &TuneResult{Folds: 2, Examples: len(ds.Train), Rows: []TuneRow{{Candidate: tinyGrid()[1], Accuracies: []float64{0.5, 0.7}, Mean: 0.6}}}
	opts := quickOptions(2, 2)
	opts.Tuning, opts.MinDF = res, 1
	m, err := Train(context.Background(), ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	meta := loaded.Meta()
	if meta.Tuning == nil || meta.Tuning.Winner().Name != "small" || meta.MinDF != 1 {
		t.Errorf("loaded meta: tuning %+v, min_df %d; want the tuning and min_df 1", meta.Tuning, meta.MinDF)
	}
}

func TestTuneBadFolds(t *testing.T) {
	t.Parallel()
	ds := shopData(t, 3)
	for _, k := range []int{1, -2, len(ds.Train) + 1} {
		if _, err := Tune(context.Background(), ds, TuneOptions{Folds: k, Grid: tinyGrid()}); !errors.Is(err, ErrFolds) {
			t.Errorf("folds %d: error %v, want ErrFolds", k, err)
		}
	}
}
