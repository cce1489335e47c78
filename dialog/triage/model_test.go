package triage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/models"
)

// trained are models trained once on the demo history, with the data.
type trained struct {
	ds  *Dataset
	rm  *RoutingModel
	sm  *SatisfactionModel
	dir string // both saved here
}

var trainedOnce = sync.OnceValues(func() (*trained, error) {
	ds, err := historyData()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "parley-triage-model-")
	if err != nil {
		return nil, err
	}
	// Left behind for the test binary's lifetime (a few hundred KB): no test
	// knows it is the last user.
	return trainTo(ds, dir)
})

// shared returns models trained once per test binary; tests must not
// change them or their folder.
func shared(t testing.TB) *trained {
	t.Helper()
	tr, err := trainedOnce()
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// train trains afresh into t.TempDir().
func train(t testing.TB) *trained {
	t.Helper()
	tr, err := trainTo(dataset(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func trainTo(ds *Dataset, dir string) (*trained, error) {
	ctx := context.Background()
	d, err := shopDomain()
	if err != nil {
		return nil, err
	}
	opts := Options{Domain: d, Seed: 3, Now: func() time.Time { return now }}
	rm, _, err := TrainRouting(ctx, ds, opts)
	if err != nil {
		return nil, err
	}
	sm, _, err := TrainSatisfaction(ctx, ds, opts)
	if err != nil {
		return nil, err
	}
	if err := rm.Save(dir); err != nil {
		return nil, err
	}
	if err := sm.Save(dir); err != nil {
		return nil, err
	}
	return &trained{ds: ds, rm: rm, sm: sm, dir: dir}, nil
}

func TestSaveLoadRoundTrip(t *testing.T) {
	ctx := context.Background()
	tr := shared(t)
	router, scorer, err := Load(tr.dir)
	if err != nil {
		t.Fatal(err)
	}
	if router == nil || scorer == nil {
		t.Fatalf("Load = %v, %v", router, scorer)
	}
	for _, c := range tr.ds.Conversations {
		for _, s := range c.Situations {
			want, err := tr.rm.Route(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			got, err := router.Route(ctx, s)
			if err != nil || got != want {
				t.Fatalf("loaded route %+v (%v), trained %+v", got, err, want)
			}
			wr, err := tr.sm.Score(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			gr, err := scorer.Score(ctx, s)
			if err != nil || gr != wr {
				t.Fatalf("loaded risk %+v (%v), trained %+v", gr, err, wr)
			}
		}
	}
	loaded := router.(*RoutingModel)
	if loaded.Report().Queue.Chosen != tr.rm.Report().Queue.Chosen || loaded.trainedAt != now {
		t.Errorf("report or time lost: %+v %v", loaded.Report().Queue.Chosen, loaded.trainedAt)
	}
}

func TestSavedModelIsReproducible(t *testing.T) {
	a, b := train(t), train(t)
	for _, f := range []string{RoutingFile, SatisfactionFile} {
		x, err1 := os.ReadFile(filepath.Join(a.dir, f))
		y, err2 := os.ReadFile(filepath.Join(b.dir, f))
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two trainings with the same seed (%v %v)", f, err1, err2)
		}
	}
}

func TestLoadMissing(t *testing.T) {
	router, scorer, err := Load(t.TempDir())
	if err != nil || router != nil || scorer != nil {
		t.Errorf("Load of an empty folder = %v, %v, %v; want untyped nils", router, scorer, err)
	}
}

// edit returns the JSON of file with fn applied to it as a generic map.
func edit(t *testing.T, data []byte, fn func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLoadCorrupt(t *testing.T) {
	tr := shared(t)
	routing, err := os.ReadFile(filepath.Join(tr.dir, RoutingFile))
	if err != nil {
		t.Fatal(err)
	}
	sat, err := os.ReadFile(filepath.Join(tr.dir, SatisfactionFile))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		file string
		data []byte
		want error
	}{
		{"not JSON", RoutingFile, []byte("routing: yes"), ErrFormat},
		{"truncated", RoutingFile, routing[:len(routing)/2], ErrFormat},
		{"another format", RoutingFile, sat, ErrFormat},
		{"newer version", SatisfactionFile, edit(t, sat, func(m map[string]any) { m["version"] = 2 }), ErrVersion},
		{"vocabulary does not fit the learners", RoutingFile, edit(t, routing, func(m map[string]any) {
			f := m["features"].(map[string]any)
			f["intents"] = f["intents"].([]any)[1:]
		}), models.ErrDimension},
		{"repeated intent", RoutingFile, edit(t, routing, func(m map[string]any) {
			f := m["features"].(map[string]any)
			in := f["intents"].([]any)
			in[1] = in[0]
		}), ErrFormat},
		{"unknown priority", RoutingFile, edit(t, routing, func(m map[string]any) {
			m["priority"].(map[string]any)["classes"].([]any)[0] = "whenever"
		}), ErrFormat},
		{"learner of another kind", RoutingFile, edit(t, routing, func(m map[string]any) {
			m["queue"].(map[string]any)["learner"].(map[string]any)["kind"] = "svm"
		}), ErrFormat},
		{"threshold above one", SatisfactionFile, edit(t, sat, func(m map[string]any) { m["threshold"] = 1.5 }), ErrFormat},
		{"standardisation cut short", SatisfactionFile, edit(t, sat, func(m map[string]any) {
			h := m["model"].(map[string]any)
			h["scale"] = h["scale"].([]any)[:3]
		}), models.ErrDimension},
		{"zero scale", SatisfactionFile, edit(t, sat, func(m map[string]any) {
			m["model"].(map[string]any)["scale"].([]any)[0] = 0
		}), ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tt.file), tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			router, scorer, err := Load(dir)
			if !errors.Is(err, tt.want) || router != nil || scorer != nil {
				t.Fatalf("Load = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.file) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// FuzzReadRouting: a model file is outside input; no content may panic,
// and one that loads must route.
func FuzzReadRouting(f *testing.F) {
	f.Add([]byte(`{"format":"parley-routing","version":1}`))
	f.Add([]byte(`{"format":"parley-routing","version":1,"features":{"intents":["a"]},"queue":{"learner":{"kind":"tree"},"classes":["a","b"],"model":{}}}`))
	f.Add([]byte(`[]`))
	if data, err := os.ReadFile(filepath.Join(shared(f).dir, RoutingFile)); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadRouting(bytes.NewReader(data))
		if err != nil {
			return
		}
		if _, err := m.Route(context.Background(), dialog.Situation{}); err != nil {
			t.Fatalf("a loaded model cannot route: %v", err)
		}
	})
}

// FuzzReadSatisfaction: as FuzzReadRouting for satisfaction.json.
func FuzzReadSatisfaction(f *testing.F) {
	f.Add([]byte(`{"format":"parley-satisfaction","version":1,"threshold":0.6}`))
	f.Add([]byte(`{"format":"parley-satisfaction","version":1,"model":{"learner":{"kind":"logreg"},"classes":["good","low"]}}`))
	if data, err := os.ReadFile(filepath.Join(shared(f).dir, SatisfactionFile)); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadSatisfaction(bytes.NewReader(data))
		if err != nil {
			return
		}
		r, err := m.Score(context.Background(), dialog.Situation{})
		if err != nil || !(r.P >= 0 && r.P <= 1) {
			t.Fatalf("a loaded model scores %+v, %v", r, err)
		}
	})
}

func BenchmarkRoute(b *testing.B) {
	tr := shared(b)
	s := tr.ds.Conversations[0].Situations[0]
	ctx := context.Background()
	for b.Loop() {
		if _, err := tr.rm.Route(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScore(b *testing.B) {
	tr := shared(b)
	s := tr.ds.Conversations[0].Situations[0]
	ctx := context.Background()
	for b.Loop() {
		if _, err := tr.sm.Score(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}
