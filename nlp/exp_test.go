package nlp

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/parleyhq/parley/nlp/internal/intent"
)

func envF(k string, d float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(k), 64); err == nil {
		return v
	}
	return d
}

func TestExp(t *testing.T) {
	if os.Getenv("EXP") == "" {
		t.Skip()
	}
	ds, err := LoadDataset(os.Getenv("EXP"), FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("NOOOS") != "" {
		var tr []Example
		for _, e := range ds.Train {
			if e.Intent != OutOfScope {
				tr = append(tr, e)
			}
		}
		ds.Train = tr
	}
	cfg := intent.DefaultConfig
	cfg.Dim = int(envF("DIM", float64(cfg.Dim)))
	cfg.Smoothing = envF("SMOOTH", cfg.Smoothing)
	cfg.LR = envF("LR", cfg.LR)
	cfg.Decay = envF("DECAY", cfg.Decay)
	cfg.Dropout = envF("DROP", cfg.Dropout)
	cfg.InDropout = envF("INDROP", cfg.InDropout)
	cfg.Epochs = int(envF("EPOCHS", float64(cfg.Epochs)))
	m, err := Train(context.Background(), ds, TrainOptions{Seed: 1, Config: &cfg, Vectors: os.Getenv("VECTORS"), MinDF: int(envF("MINDF", 2)),
		Progress: func(p Progress) {
			if p.Stage == "epoch" {
				t.Logf("epoch %d val %.4f %v", p.Epoch.Epoch, p.Epoch.ValAccuracy, p.Epoch.Elapsed)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("val %+v %+v train %.1fs", m.meta.Validation, m.meta.Validation.OOS, m.meta.TrainSeconds)
	test := ds.Test
	if len(test) == 0 {
		t2, err := LoadDataset(os.Getenv("EXPTEST"), FormatAuto)
		if err != nil {
			t.Fatal(err)
		}
		test = t2.Train
	}
	r, err := Evaluate(context.Background(), m, test)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("TEST acc %.4f f1 %.4f oos %+v lat %+v", r.Accuracy, r.MacroF1, r.OOS, r.Latency)
}
