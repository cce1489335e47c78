package intent

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// tinyData is a small labelled set written for these tests.
var tinyData = []struct {
	text  string
	label int
}{
	{"where is my order", 0},
	{"has my package shipped yet", 0},
	{"track my parcel please", 0},
	{"when will my order arrive", 0},
	{"i want my money back", 1},
	{"please refund my purchase", 1},
	{"how do i get a refund", 1},
	{"refund the broken headphones", 1},
	{"i forgot my password", 2},
	{"reset my password please", 2},
	{"i can't log into my account", 2},
	{"my login does not work", 2},
}

func tinySamples(t testing.TB) (*Featurizer, []Sample) {
	t.Helper()
	var sents [][]string
	for _, d := range tinyData {
		sents = append(sents, strings.Fields(d.text))
	}
	f := BuildFeaturizer(sents, 1)
	samples := make([]Sample, len(tinyData))
	for i, d := range tinyData {
		samples[i] = Sample{Vec: f.Vectorize(sents[i], nil), Label: d.label}
	}
	return f, samples
}

// exactConfig trains without dropout or smoothing, so that the training
// graph computes exactly the loss of Forward.
func exactConfig() Config {
	c := DefaultConfig
	c.Dim, c.Batch, c.Dropout, c.InDropout, c.Smoothing = 16, 4, 0, 0, 0
	return c
}

func newTestTrainer(t *testing.T, features, classes, batch int, cfg Config) *trainer {
	t.Helper()
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	net := newNet(features, cfg.Dim, classes, rng)
	for i := range net.L { // non-zero, so that the check sees every path
		net.L[i] = float32(rng.NormFloat64() * 0.3)
	}
	tr := newTrainer(net, cfg, batch)
	t.Cleanup(tr.close)
	return tr
}

// meanLoss is the mean cross-entropy of samples under the plain-Go forward
// pass.
func meanLoss(n *Net, samples []Sample, batch []int) float64 {
	z := make([]float32, n.Dim)
	logits := make([]float32, n.Classes)
	p := make([]float64, n.Classes)
	var sum float64
	for _, i := range batch {
		n.Forward(samples[i].Vec, z, logits)
		Softmax(logits, 1, p)
		sum -= math.Log(p[samples[i].Label])
	}
	return sum / float64(len(batch))
}

// randomSamples makes sparse vectors over many rows, so that a batch uses
// more than 256 distinct rows: the Gorgonia Slice bug (STACK-NOTES) corrupts
// indices of 256 and above, and this data would expose any op that has it.
func randomSamples(features, classes, n int, seed uint64) []Sample {
	rng := rand.New(rand.NewPCG(seed, 2))
	out := make([]Sample, n)
	for i := range out {
		var v Vector
		for r := 0; r < features; r++ {
			if rng.Float64() < 0.08 {
				v.Rows = append(v.Rows, int32(r))
				v.Weights = append(v.Weights, float32(rng.Float64()*0.5))
			}
		}
		out[i] = Sample{Vec: v, Label: rng.IntN(classes)}
	}
	return out
}

func TestGradientsMatchNumeric(t *testing.T) {
	const features, classes = 700, 5
	cfg := exactConfig()
	// The graph takes batches of 10: the batch of 8 is padded, and the
	// padding must change neither the loss nor the gradients.
	tr := newTestTrainer(t, features, classes, 10, cfg)
	samples := randomSamples(features, classes, 8, 3)
	batch := []int{0, 1, 2, 3, 4, 5, 6, 7}
	loss, err := tr.pass(samples, batch, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	used := slices.Clone(tr.used)
	if len(used) <= 256 {
		t.Fatalf("the batch uses %d rows; the check needs more than 256", len(used))
	}
	if want := meanLoss(tr.net, samples, batch); math.Abs(loss-want) > 1e-4*math.Max(1, want) {
		t.Fatalf("graph loss %v, plain-Go loss %v", loss, want)
	}
	grads := map[string][]float32{"E": slices.Clone(tr.grads[0]), "L": slices.Clone(tr.grads[1])}
	for i, name := range []string{"B1", "W2", "B2"} {
		g, err := tr.gr.learnables[2+i].Grad()
		if err != nil {
			t.Fatal(err)
		}
		grads[name] = append([]float32(nil), g.Data().([]float32)...)
	}
	tr.endPass()

	n := tr.net
	// check compares the analytic gradient of one weight with a central
	// difference of the plain-Go loss. Where the step crosses a ReLU's kink
	// the one-sided slopes disagree and the difference means nothing: such
	// weights are skipped, and counted.
	skipped, checked := 0, 0
	check := func(name string, w []float32, i int, analytic float32) {
		t.Helper()
		const eps = 1e-2
		old := w[i]
		here := meanLoss(n, samples, batch)
		w[i] = old + eps
		up := meanLoss(n, samples, batch)
		w[i] = old - eps
		down := meanLoss(n, samples, batch)
		w[i] = old
		if right, left := (up-here)/eps, (here-down)/eps; math.Abs(right-left) > 1e-3+0.05*math.Abs(right+left) {
			skipped++
			return
		}
		checked++
		numeric := (up - down) / (2 * eps)
		if diff := math.Abs(numeric - float64(analytic)); diff > 2e-3+0.05*math.Abs(numeric) {
			t.Errorf("%s[%d]: analytic gradient %v, numeric %v", name, i, analytic, numeric)
		}
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for k := 0; k < 40; k++ {
		// Rows past 256 in the batch's table are the ones the Slice bug hits.
		p := 256 + rng.IntN(len(used)-256)
		if k%4 == 0 {
			p = rng.IntN(len(used))
		}
		r := int(used[p])
		j := rng.IntN(n.Dim)
		check("E", n.E, r*n.Dim+j, grads["E"][p*n.Dim+j])
		c := rng.IntN(n.Classes)
		check("L", n.L, r*n.Classes+c, grads["L"][p*n.Classes+c])
		j = rng.IntN(n.Dim)
		check("B1", n.B1, j, grads["B1"][j])
		i := rng.IntN(len(n.W2))
		check("W2", n.W2, i, grads["W2"][i])
		c = rng.IntN(n.Classes)
		check("B2", n.B2, c, grads["B2"][c])
	}
	if skipped > checked/4 {
		t.Fatalf("%d weights checked, %d skipped at ReLU kinks: the check is too weak", checked, skipped)
	}
}

func TestGraphAgreesWithForward(t *testing.T) {
	f, samples := tinySamples(t)
	cfg := exactConfig()
	tr := newTestTrainer(t, f.Len(), 3, 4, cfg)
	batch := []int{0, 5, 8, 11}
	if _, err := tr.pass(samples, batch, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	got := append([]float32(nil), tr.gr.logits.Value().Data().([]float32)...)
	tr.endPass()
	z := make([]float32, cfg.Dim)
	logits := make([]float32, 3)
	for k, i := range batch {
		tr.net.Forward(samples[i].Vec, z, logits)
		for c, want := range logits {
			if g := got[k*3+c]; math.Abs(float64(g-want)) > 1e-5*math.Max(1, math.Abs(float64(want))) {
				t.Errorf("sample %d class %d: graph %v, Forward %v", i, c, g, want)
			}
		}
	}
}

func TestOverfitOneBatch(t *testing.T) {
	const features, classes = 600, 6
	cfg := exactConfig()
	cfg.LR = 0.01
	tr := newTestTrainer(t, features, classes, 16, cfg)
	samples := randomSamples(features, classes, 16, 5)
	batch := make([]int, len(samples))
	for i := range batch {
		batch[i] = i
	}
	rng := rand.New(rand.NewPCG(1, 1))
	first, err := tr.step(samples, batch, rng)
	if err != nil {
		t.Fatal(err)
	}
	var last float64
	for i := 0; i < 150; i++ {
		if last, err = tr.step(samples, batch, rng); err != nil {
			t.Fatal(err)
		}
	}
	for i := range tr.params {
		tr.params[i].sync()
	}
	if last > 0.02 || last > first/20 {
		t.Fatalf("loss went from %v to %v: the model cannot fit one batch", first, last)
	}
	if acc := Accuracy(tr.net, samples); acc != 1 {
		t.Fatalf("accuracy on the batch it was fitted to: %v", acc)
	}
}

func TestTrainDeterministic(t *testing.T) {
	f, samples := tinySamples(t)
	cfg := DefaultConfig
	cfg.Dim, cfg.Batch, cfg.Epochs, cfg.Seed = 16, 4, 5, 7
	train := func() *Net {
		n, err := Train(context.Background(), samples, samples[:6], f.Len(), 3, cfg, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	a, b := train(), train()
	for name, pair := range map[string][2][]float32{"E": {a.E, b.E}, "L": {a.L, b.L}, "W2": {a.W2, b.W2}} {
		for i := range pair[0] {
			if pair[0][i] != pair[1][i] {
				t.Fatalf("%s[%d] differs between two runs with the same seed: %v vs %v", name, i, pair[0][i], pair[1][i])
			}
		}
	}
	cfg.Seed = 8
	c, err := Train(context.Background(), samples, samples[:6], f.Len(), 3, cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.E[0] == a.E[0] && c.W2[0] == a.W2[0] {
		t.Fatal("another seed gave the same weights")
	}
}

// TestTrainSideBySide trains nets on two goroutines at once, as an ensemble
// does: each must come out as it does alone. (Under -race it may also catch
// Gorgonia's unsynchronised state, when the goroutines happen to interleave
// there; see GraphBuild.)
func TestTrainSideBySide(t *testing.T) {
	f, samples := tinySamples(t)
	cfg := DefaultConfig
	cfg.Dim, cfg.Batch, cfg.Epochs = 8, 4, 2
	train := func(seed uint64) *Net {
		c := cfg
		c.Seed = seed
		n, err := Train(context.Background(), samples, samples[:6], f.Len(), 3, c, nil, nil)
		if err != nil {
			t.Error(err)
		}
		return n
	}
	var together [2]*Net
	var wg sync.WaitGroup
	for k := range together {
		wg.Go(func() { together[k] = train(uint64(k + 1)) })
	}
	wg.Wait()
	for k, n := range together {
		if alone := train(uint64(k + 1)); n == nil || !slices.Equal(n.E, alone.E) || !slices.Equal(n.W2, alone.W2) {
			t.Fatalf("net %d trained beside another differs from the same net trained alone", k)
		}
	}
}

func TestTrainErrors(t *testing.T) {
	f, samples := tinySamples(t)
	bad := DefaultConfig
	bad.LR = 0
	cases := []struct {
		name     string
		samples  []Sample
		features int
		classes  int
		cfg      Config
	}{
		{"no data", nil, f.Len(), 3, DefaultConfig},
		{"one class", samples, f.Len(), 1, DefaultConfig},
		{"no features", samples, 0, 3, DefaultConfig},
		{"bad config", samples, f.Len(), 3, bad},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Train(context.Background(), tc.samples, nil, tc.features, tc.classes, tc.cfg, nil, nil); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

// tinyNet trains a small net on tinyData for a few epochs.
func tinyNet(tb testing.TB, dim, epochs int) (*Featurizer, *Net) {
	tb.Helper()
	f, samples := tinySamples(tb)
	cfg := DefaultConfig
	cfg.Dim, cfg.Batch, cfg.Epochs = dim, 4, epochs
	n, err := Train(context.Background(), samples, nil, f.Len(), 3, cfg, nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return f, n
}

func TestSaveLoadRoundTrip(t *testing.T) {
	f, n := tinyNet(t, 16, 3)
	n.roundHalf()
	var buf bytes.Buffer
	if err := Save(&buf, f, &Ensemble{Nets: []*Net{n}}); err != nil {
		t.Fatal(err)
	}
	saved := buf.Bytes()
	f2, e2, err := Load(saved)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Words, f2.Words) || len(f.Words) == 0 {
		t.Fatalf("the training words changed on reload: %d words, then %d", len(f.Words), len(f2.Words))
	}
	n2 := e2.Nets[0]
	z1, z2 := make([]float32, n.Dim), make([]float32, n.Dim)
	l1, l2 := make([]float32, 3), make([]float32, 3)
	for _, d := range tinyData {
		words := strings.Fields(d.text)
		n.Forward(f.Vectorize(words, nil), z1, l1)
		n2.Forward(f2.Vectorize(words, nil), z2, l2)
		for c := range l1 {
			if l1[c] != l2[c] {
				t.Fatalf("%q: logits differ after reload: %v vs %v", d.text, l1, l2)
			}
		}
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"other file", []byte("not weights at all")},
		{"other version", append([]byte("PARLEYW\x09"), saved[8:]...)},
		{"truncated", saved[:len(saved)/2]},
		{"unsorted words", saveWords(t, f, n, []string{"where", "order"})},
		{"repeated word", saveWords(t, f, n, []string{"order", "order"})},
		{"empty word", saveWords(t, f, n, []string{"", "order"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := Load(tc.data); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

// saveWords returns the weights file of f and n with another word list.
func saveWords(t *testing.T, f *Featurizer, n *Net, words []string) []byte {
	t.Helper()
	g := *f
	g.Words = words
	var buf bytes.Buffer
	if err := Save(&buf, &g, &Ensemble{Nets: []*Net{n}}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestKnownShare(t *testing.T) {
	f, _ := tinySamples(t)
	for _, tc := range []struct {
		words []string
		caps  []bool
		want  float64
	}{
		{strings.Fields("where is my order"), nil, 1},
		{strings.Fields("where is my spaceship"), nil, 0.75},
		// One typo in a word of four letters or more is forgiven: a letter
		// left out, added, changed, or two letters swapped.
		{strings.Fields("wher is my ordr"), nil, 1},
		{strings.Fields("wheere is my oredr"), nil, 1},
		{strings.Fields("whare is my odrer"), nil, 1},
		// Two typos are not, nor one in a short word.
		{strings.Fields("whr is my order"), nil, 0.75},
		{strings.Fields("wre is mi order"), nil, 0.5},
		// Words with digits are neither known nor unknown.
		{strings.Fields("order 12345 refund a1b2"), nil, 1},
		{strings.Fields("zebra 42"), nil, 0},
		{strings.Fields("42 7"), nil, 1},
		{nil, nil, 1},
		// An unknown word written with a capital letter is a name, not
		// counted; a known one counts.
		{strings.Fields("where is my order martina"), nil, 0.8},
		{strings.Fields("where is my order martina"), []bool{true, false, false, false, true}, 1},
		{strings.Fields("where is my zebra"), []bool{true, false, false, false}, 0.75},
	} {
		if got := f.KnownShare(tc.words, tc.caps); got != tc.want {
			t.Errorf("KnownShare(%q, %v) = %v, want %v", tc.words, tc.caps, got, tc.want)
		}
	}
}

func TestStrongest(t *testing.T) {
	v := Vector{Rows: []int32{1, 4, 7, 9, 12}, Weights: []float32{0.1, 0.9, 0.3, 0.8, 0.2}}
	rows, ws := strongest(v, 3)
	wantRows, wantWs := []int32{4, 7, 9}, []float32{0.9, 0.3, 0.8}
	for i := range wantRows {
		if rows[i] != wantRows[i] || ws[i] != wantWs[i] {
			t.Fatalf("strongest: rows %v weights %v, want %v %v", rows, ws, wantRows, wantWs)
		}
	}
}

// BenchmarkStep is one training step on a batch shaped like CLINC150's:
// 64 sentences of about 110 features out of 35,000, 100 hidden units and
// 151 classes.
func BenchmarkStep(b *testing.B) {
	const features, classes, n = 35000, 151, 64 * 8
	rng := rand.New(rand.NewPCG(1, 1))
	samples := make([]Sample, n)
	for i := range samples {
		var v Vector
		// Common features (low rows) recur across sentences, as character
		// n-grams do.
		for r := int32(0); r < features; r++ {
			if rng.Float64() < 3/float64(r/8+30) {
				v.Rows = append(v.Rows, r)
				v.Weights = append(v.Weights, float32(rng.Float64()*0.3))
			}
		}
		samples[i] = Sample{Vec: v, Label: rng.IntN(classes)}
	}
	net := newNet(features, DefaultConfig.Dim, classes, rng)
	tr := newTrainer(net, DefaultConfig, 64)
	defer tr.close()
	batches := tr.batches(samples, rng)
	var rows int
	for i := 0; b.Loop(); i++ {
		if _, err := tr.step(samples, batches[i%len(batches)], rng); err != nil {
			b.Fatal(err)
		}
		rows += len(tr.used)
	}
	b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
}

// TestStepMemoryFlat checks that what a training step allocates does not
// grow with the length of the sentences: the bags are computed outside the
// graph, and the graph's tensors are [batch x width]. Before, each step
// allocated [batch x length x width] tensors, in one graph per shape, and
// CLINC150 training peaked at 5 GB.
func TestStepMemoryFlat(t *testing.T) {
	const features, classes, batch = 3000, 5, 16
	perStep := func(density float64) uint64 {
		rng := rand.New(rand.NewPCG(4, 4))
		samples := make([]Sample, batch)
		for i := range samples {
			var v Vector
			for r := int32(0); r < features; r++ {
				if rng.Float64() < density {
					v.Rows = append(v.Rows, r)
					v.Weights = append(v.Weights, float32(rng.Float64()))
				}
			}
			samples[i] = Sample{Vec: v, Label: i % classes}
		}
		tr := newTestTrainer(t, features, classes, batch, exactConfig())
		all := make([]int, batch)
		for i := range all {
			all[i] = i
		}
		for range 3 { // the graph and the buffers grow once
			if _, err := tr.step(samples, all, rng); err != nil {
				t.Fatal(err)
			}
		}
		const steps = 20
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range steps {
			if _, err := tr.step(samples, all, rng); err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&after)
		return (after.TotalAlloc - before.TotalAlloc) / steps
	}
	short, long := perStep(0.005), perStep(0.15) // about 15 and 450 features a sentence
	t.Logf("allocated per step: %d bytes with short sentences, %d with long ones", short, long)
	if long > 2*short+4096 {
		t.Errorf("a step allocates %d bytes on long sentences and %d on short ones: memory grows with sentence length", long, short)
	}
}
