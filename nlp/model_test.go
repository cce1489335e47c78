package nlp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/nlp/dataset"
	"github.com/parleyhq/parley/nlp/internal/intent"
)

// shopModel trains the embedded shop domain once per test binary: the
// model is read-only, so tests share it. It is one network of the default
// configuration, not the default ensemble of two: under -race a network
// takes over a minute to train, and the tests that parse with this model
// check single messages near the scope threshold, which a smaller network
// (dimension 64 or below, or fewer epochs) passes for some seeds and fails
// for others. TestTrainRefit saves, loads and parses with an ensemble of
// two.
var shopModel = sync.OnceValues(func() (*Model, error) {
	ds, err := dataset.Parse("shop/nlu.yml", shop.NLU(), dataset.FormatParley)
	if err != nil {
		return nil, err
	}
	return Train(context.Background(), ds, TrainOptions{Seed: 1, Ensemble: 1, Typos: shop.Typos})
})

// shopData returns the embedded shop data with every n-th example of its
// training and validation splits: tests of training mechanics need every
// intent, not every example.
func shopData(t *testing.T, n int) *dataset.Dataset {
	t.Helper()
	ds, err := dataset.Parse("shop/nlu.yml", shop.NLU(), dataset.FormatParley)
	if err != nil {
		t.Fatal(err)
	}
	every := func(exs []dataset.Example) []dataset.Example {
		var out []dataset.Example
		for i := 0; i < len(exs); i += n {
			out = append(out, exs[i])
		}
		return out
	}
	small := *ds
	small.Train, small.Val = every(ds.Train), every(ds.Val)
	if got, want := len(small.Intents()), len(ds.Intents()); got != want {
		t.Fatalf("every %d-th example keeps %d of %d intents", n, got, want)
	}
	return &small
}

func trainedShop(t testing.TB) *Model {
	t.Helper()
	m, err := shopModel()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestParseShop(t *testing.T) {
	m := trainedShop(t)
	fixed := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	m = m.withClock(func() time.Time { return fixed })
	cases := []struct {
		text     string
		intent   string
		entities map[string]string // type -> value
	}{
		{"where is my order #10423?", "order_status", map[string]string{"order_id": "10423"}},
		{"I want my money back for the broken headphones", "request_refund", nil},
		{"i forgot my password", "reset_password", nil},
		{"my email is ana.lopez@example.com", "", map[string]string{"email": "ana.lopez@example.com"}},
		{"can it arrive tomorrow?", "", map[string]string{"date": "2026-11-30"}},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			res, err := m.Parse(context.Background(), tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if tc.intent != "" && res.Intent != tc.intent {
				t.Errorf("intent %q (%.2f), want %q; ranking %v", res.Intent, res.Confidence, tc.intent, res.Ranking)
			}
			for typ, val := range tc.entities {
				found := false
				for _, e := range res.Entities {
					if e.Type == typ && e.Value == val {
						found = true
						if got := string([]rune(tc.text)[e.Start:e.End]); got != e.Text {
							t.Errorf("span %d:%d is %q, entity text %q", e.Start, e.End, got, e.Text)
						}
					}
				}
				if !found {
					t.Errorf("no %s entity %q in %+v", typ, val, res.Entities)
				}
			}
			if len(res.Embedding) != m.net.Dim() {
				t.Errorf("embedding of length %d, want %d", len(res.Embedding), m.net.Dim())
			}
			if len(res.Ranking) == 0 || res.Ranking[0].Confidence < res.Ranking[len(res.Ranking)-1].Confidence {
				t.Errorf("ranking not sorted: %v", res.Ranking)
			}
		})
	}
}

func TestParseOutOfScope(t *testing.T) {
	m := trainedShop(t)
	out := 0
	msgs := []string{
		"what's the capital of mongolia",
		"write me a poem about the sea",
		"how many moons does jupiter have",
		"what is the square root of 144",
		"zxqv blorf wibble",
	}
	for _, text := range msgs {
		res, err := m.Parse(context.Background(), text)
		if err != nil {
			t.Fatal(err)
		}
		if !res.InScope {
			out++
		}
	}
	if out < 4 {
		t.Fatalf("only %d of %d out-of-scope messages were recognised as such", out, len(msgs))
	}
}

// TestParseTyposAndNames checks that words the model never saw because of
// a typo, or because they are a name, do not by themselves put a message
// out of scope.
func TestParseTyposAndNames(t *testing.T) {
	m := trainedShop(t)
	for _, text := range []string{
		"wher is my ordr",
		"Hi, I am Martina Kowalczyk, where is my parcel?",
	} {
		res, err := m.Parse(context.Background(), text)
		if err != nil {
			t.Fatal(err)
		}
		if !res.InScope || res.Intent != "order_status" {
			t.Errorf("%q: %s, in scope %v (score %.3f, threshold %.3f)", text, res.Intent, res.InScope, res.ScopeScore, m.meta.Threshold)
		}
	}
}

func TestParseBadInput(t *testing.T) {
	m := trainedShop(t)
	long := strings.Repeat("where is my order ", 60000) // about 1 MB
	cases := []struct {
		name    string
		text    string
		wantErr error
		check   func(t *testing.T, r *Result)
	}{
		{"empty", "", ErrEmptyText, nil},
		{"white space", " \t\n ", ErrEmptyText, nil},
		{"invalid UTF-8", "where is \xff\xfe my order", ErrInvalidUTF8, nil},
		{"1 MB", long, nil, func(t *testing.T, r *Result) {
			if !r.Truncated || len(r.Text) > MaxTextBytes {
				t.Fatalf("truncated %v, text of %d bytes", r.Truncated, len(r.Text))
			}
		}},
		{"emoji", "😀😀😀 📦❓", nil, nil},
		{"CJK", "我的订单在哪里", nil, nil},
		{"right to left", "أين طلبي؟", nil, nil},
		{"control characters", "where\x00is\x07my\x1border", nil, nil},
		{"only punctuation", "?!?!...", nil, func(t *testing.T, r *Result) {
			if r.InScope {
				t.Fatalf("punctuation taken as in scope: %+v", r.Ranking)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := m.Parse(context.Background(), tc.text)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestParseConcurrent(t *testing.T) {
	m := trainedShop(t)
	want, err := m.Parse(context.Background(), "where is my package")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				got, err := m.Parse(context.Background(), "where is my package")
				if err != nil || got.Intent != want.Intent || got.Confidence != want.Confidence {
					t.Errorf("concurrent parse gave %+v, %v", got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// quickOptions trains a tiny, fast network of the given epochs: tests that
// train their own models run under -race in CI, where a network of the
// default size takes about 5 s an epoch on the shop data.
func quickOptions(seed uint64, epochs int) TrainOptions {
	cfg := intent.DefaultConfig
	cfg.Dim, cfg.Epochs = 8, epochs
	return TrainOptions{Seed: seed, Ensemble: 1, Config: &cfg}
}

func TestSameSeedSamePredictions(t *testing.T) {
	t.Parallel()
	ds := shopData(t, 3) // reproducibility, not accuracy, is under test
	a, err := Train(context.Background(), ds, quickOptions(5, 2))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(context.Background(), ds, quickOptions(5, 2))
	if err != nil {
		t.Fatal(err)
	}
	if a.meta.DataHash != b.meta.DataHash || a.meta.Threshold != b.meta.Threshold {
		t.Fatalf("meta differs: %+v vs %+v", a.meta, b.meta)
	}
	if len(ds.Train) < 50 {
		t.Fatalf("only %d examples", len(ds.Train))
	}
	for _, ex := range ds.Train[:50] {
		ra, _ := a.Parse(context.Background(), ex.Text)
		rb, _ := b.Parse(context.Background(), ex.Text)
		if ra.Intent != rb.Intent || ra.Confidence != rb.Confidence || ra.ScopeScore != rb.ScopeScore {
			t.Fatalf("%q: %s %.6f %.6f vs %s %.6f %.6f", ex.Text, ra.Intent, ra.Confidence, ra.ScopeScore, rb.Intent, rb.Confidence, rb.ScopeScore)
		}
	}
}

// TestTrainRefit checks that data without a validation split is trained on
// twice: first with a hold-out that chooses each network's epochs, then on
// all examples for those epochs; and that data with a validation split is
// not.
func TestTrainRefit(t *testing.T) {
	t.Parallel()
	ds := shopData(t, 3) // the mechanics, not the model, are under test
	train := func(ds *dataset.Dataset) (*Model, map[string][]int) {
		opts := quickOptions(2, 3)
		opts.Ensemble = 2
		stages := map[string][]int{} // stage: the epochs each network reported last
		opts.Progress = func(p Progress) {
			if p.Stage == "epoch" || p.Stage == "refit" {
				if stages[p.Stage] == nil {
					stages[p.Stage] = make([]int, p.Members)
				}
				stages[p.Stage][p.Member-1] = p.Epoch.Epoch
			}
		}
		m, err := Train(context.Background(), ds, opts)
		if err != nil {
			t.Fatal(err)
		}
		return m, stages
	}
	if len(ds.Val) == 0 {
		t.Fatal("the shop data has no validation split")
	}
	noVal := *ds
	noVal.Train, noVal.Val = slices.Concat(ds.Train, ds.Val), nil
	m, stages := train(&noVal)
	if len(stages["epoch"]) != 2 || len(stages["refit"]) != 2 {
		t.Fatalf("progress %v: want two networks trained and retrained", stages)
	}
	for k, e := range m.meta.Epochs {
		if stages["refit"][k] != e || e < 1 || e > stages["epoch"][k] {
			t.Fatalf("network %d retrained for %d epochs, meta says %d, it first ran %d", k, stages["refit"][k], e, stages["epoch"][k])
		}
	}
	// The shared shop model has one network: this one checks that an
	// ensemble's networks are all saved and averaged the same after a load.
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded.net.Nets) != 2 {
		t.Fatalf("loaded %d networks, saved 2", len(loaded.net.Nets))
	}
	for _, text := range []string{"where is my order", "refund please"} {
		a, _ := m.Parse(context.Background(), text)
		b, _ := loaded.Parse(context.Background(), text)
		if a.Intent != b.Intent || a.Confidence != b.Confidence || a.ScopeScore != b.ScopeScore {
			t.Fatalf("%q: before save %+v, after load %+v", text, a, b)
		}
	}
	// With a validation split of its own, the data is trained on once.
	if _, stages := train(ds); stages["refit"] != nil {
		t.Fatalf("progress %v: retrained although the data has a validation split", stages)
	}
}

func TestSaveLoad(t *testing.T) {
	m := trainedShop(t)
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"where is my order", "refund please", "hello there"} {
		a, _ := m.Parse(context.Background(), text)
		b, _ := loaded.Parse(context.Background(), text)
		if a.Intent != b.Intent || a.Confidence != b.Confidence || a.ScopeScore != b.ScopeScore || a.InScope != b.InScope {
			t.Fatalf("%q: before save %+v, after load %+v", text, a, b)
		}
	}

	damage := []struct {
		name    string
		breakIt func(dir string) error
		wantErr error
		mention string
	}{
		{"missing weights", func(d string) error { return os.Remove(filepath.Join(d, WeightsFile)) }, ErrModelMissing, WeightsFile},
		{"missing meta", func(d string) error { return os.Remove(filepath.Join(d, MetaFile)) }, ErrModelMissing, MetaFile},
		{"corrupted weights", func(d string) error { return flipByte(filepath.Join(d, WeightsFile)) }, ErrModelCorrupt, WeightsFile},
		{"corrupted tokenizer", func(d string) error { return flipByte(filepath.Join(d, TokenizerFile)) }, ErrModelCorrupt, TokenizerFile},
		{"meta not JSON", func(d string) error { return os.WriteFile(filepath.Join(d, MetaFile), []byte("{"), 0o644) }, ErrModelCorrupt, MetaFile},
		{"other version", editMeta(fmt.Sprintf(`"format_version": %d`, FormatVersion), `"format_version": 99`), ErrModelVersion, "99"},
		{"zero temperature", editMeta(`"temperature": `, `"temperature": 0, "_": `), ErrModelCorrupt, "temperature"},
		{"threshold above 1", editMeta(`"threshold": `, `"threshold": 2, "_": `), ErrModelCorrupt, "threshold"},
	}
	for _, tc := range damage {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			if err := m.Save(d); err != nil {
				t.Fatal(err)
			}
			if err := tc.breakIt(d); err != nil {
				t.Fatal(err)
			}
			_, err := Load(d, nil)
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("error %v, want %v mentioning %q", err, tc.wantErr, tc.mention)
			}
		})
	}
}

// editMeta returns a change of meta.json that replaces the first old with
// new.
func editMeta(old, new string) func(dir string) error {
	return func(d string) error {
		b, err := os.ReadFile(filepath.Join(d, MetaFile))
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), old) {
			return fmt.Errorf("%s has no %q", MetaFile, old)
		}
		b = []byte(strings.Replace(string(b), old, new, 1))
		return os.WriteFile(filepath.Join(d, MetaFile), b, 0o644)
	}
}

func flipByte(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	b[len(b)/2] ^= 0x55
	return os.WriteFile(path, b, 0o644)
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"where is my order #10423?",
		"I was charged twice, €49.99, on 3 March!!",
		"call me on +44 20 7946 0958 or ana@example.com",
		"😡😡 this is the worst shop ever",
		"我的订单在哪里", "أين طلبي؟", "\x00\x01\x02", "", "   ",
		strings.Repeat("a", 5000),
	} {
		f.Add(s)
	}
	m := trainedShop(f)
	f.Fuzz(func(t *testing.T, text string) {
		r, err := m.Parse(context.Background(), text)
		if err != nil {
			if !errors.Is(err, ErrEmptyText) && !errors.Is(err, ErrInvalidUTF8) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if r.Confidence < 0 || r.Confidence > 1 || len(r.Ranking) == 0 {
			t.Fatalf("bad result %+v", r)
		}
		n := len([]rune(r.Text))
		for _, e := range r.Entities {
			if e.Start < 0 || e.End > n || e.Start >= e.End {
				t.Fatalf("entity span %d:%d outside text of %d runes", e.Start, e.End, n)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	m := trainedShop(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Parse(ctx, "hi, where is my order #10423? it was due yesterday"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseParallel(b *testing.B) {
	m := trainedShop(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Parse(ctx, "hi, where is my order #10423? it was due yesterday"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func TestTrainWithUserTokenizer(t *testing.T) {
	t.Parallel()
	ds, err := dataset.Parse("shop/nlu.yml", shop.NLU(), dataset.FormatParley)
	if err != nil {
		t.Fatal(err)
	}
	user := filepath.Join("internal", "tokenize", "testdata", "bert-style.tokenizer.json")
	opts := quickOptions(1, 4)
	opts.Tokenizer = user
	m, err := Train(context.Background(), ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(user)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.tokenizer) != string(want) {
		t.Fatal("the model does not keep the user's tokenizer.json")
	}
	res, err := m.Parse(context.Background(), "where is my order")
	if err != nil {
		t.Fatal(err)
	}
	if res.Intent != "order_status" {
		t.Fatalf("intent %q with the user's tokenizer", res.Intent)
	}
	if _, err := Train(context.Background(), ds, TrainOptions{Tokenizer: filepath.Join(t.TempDir(), "none.json")}); err == nil {
		t.Fatal("a missing tokenizer file trained")
	}
}

func TestSplitWordsCapitals(t *testing.T) {
	m := trainedShop(t)
	words, caps := splitWords(m.tok, "Ça va, Élodie? où est Zoë 42")
	// ça va , élodie ? où est zoë 42
	want := []bool{true, false, false, true, false, false, false, true, false}
	if len(caps) != len(want) || len(words) != len(want) {
		t.Fatalf("words %q, capitals %v: want %d words", words, caps, len(want))
	}
	for i := range want {
		if caps[i] != want[i] {
			t.Fatalf("words %q, capitals %v, want %v", words, caps, want)
		}
	}
}

// The fingerprint tells apart what parses differently, and only that:
// when and where a model was trained does not change it.
func TestFingerprint(t *testing.T) {
	base := Meta{FormatVersion: FormatVersion, Labels: []string{"a", "b"}, Threshold: 0.5,
		Checksums: map[string]string{"weights.bin": "aa", "tokenizer.json": "bb"}}
	same := base
	same.CreatedAt, same.TrainSeconds, same.DataFile = time.Now(), 12, "/elsewhere/nlu.yml"
	same.Checksums = map[string]string{"tokenizer.json": "bb", "weights.bin": "aa"}
	if base.Fingerprint() != same.Fingerprint() {
		t.Errorf("the same model trained elsewhere has another fingerprint")
	}
	for name, change := range map[string]func(*Meta){
		"weights":   func(m *Meta) { m.Checksums = map[string]string{"weights.bin": "ab", "tokenizer.json": "bb"} },
		"threshold": func(m *Meta) { m.Threshold = 0.6 },
		"labels":    func(m *Meta) { m.Labels = []string{"a", "c"} },
	} {
		m := base
		change(&m)
		if m.Fingerprint() == base.Fingerprint() {
			t.Errorf("another %s, same fingerprint", name)
		}
	}
}
