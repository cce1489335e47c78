package insight

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/nlp/nlu"
)

func TestAnalyzeFindsGroups(t *testing.T) {
	src, p := testData(t)
	r, err := Analyze(context.Background(), src, p, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	wantAnalysed := 0
	for _, g := range groups {
		wantAnalysed += 2 * len(g.texts)
	}
	if r.Analysed != wantAnalysed || r.Scanned != wantAnalysed+3 {
		t.Errorf("analysed %d of %d scanned, want %d of %d", r.Analysed, r.Scanned, wantAnalysed, wantAnalysed+3)
	}
	// Every unknown text is stored twice, once with its parse: the other
	// copy is parsed, once per distinct text; the known questions too.
	if r.Parsed != wantAnalysed/2+3 || p.calls != wantAnalysed/2+3 || r.Unparsed != 0 {
		t.Errorf("parsed %d (parser called %d times), unparsed %d; want %d, 0", r.Parsed, p.calls, r.Unparsed, wantAnalysed/2+3)
	}
	if r.K != len(groups) || r.KChosenBy != "silhouette" {
		t.Fatalf("k = %d chosen by %q, want %d by silhouette (candidates %+v)", r.K, r.KChosenBy, len(groups), r.Candidates)
	}
	if r.Silhouette < 0.5 {
		t.Errorf("silhouette %.3f for well separated groups, want > 0.5", r.Silhouette)
	}
	if len(r.Candidates) != DefaultMaxK-1 {
		t.Errorf("%d candidates, want k = 2..%d", len(r.Candidates), DefaultMaxK)
	}
	wantWords := map[string][]string{"gift card": {"gift", "card"}, "loyalty points": {"loyalty", "points"}, "store hours": {"store"}}
	seen := map[int]bool{}
	for _, c := range r.Clusters {
		g := groupOf(c.Examples[0].Text)
		if g < 0 || seen[g] {
			t.Fatalf("cluster %d (%s) starts with %q: not a new group", c.ID, c.Name, c.Examples[0].Text)
		}
		seen[g] = true
		if c.Size != 2*len(groups[g].texts) {
			t.Errorf("cluster %s has %d messages, group %q has %d", c.Name, c.Size, groups[g].name, 2*len(groups[g].texts))
		}
		for _, ex := range c.Examples {
			if groupOf(ex.Text) != g {
				t.Errorf("cluster of %q holds %q", groups[g].name, ex.Text)
			}
			if ex.Count != 2 {
				t.Errorf("example %q counts %d messages, want 2", ex.Text, ex.Count)
			}
		}
		if c.Examples[0].Text != groups[g].texts[0] {
			t.Errorf("most representative of %q is %q, want %q (on the group's axis)", groups[g].name, c.Examples[0].Text, groups[g].texts[0])
		}
		if len(c.Examples) != min(DefaultExamples, len(groups[g].texts)) {
			t.Errorf("%d examples for %q", len(c.Examples), groups[g].name)
		}
		if !slices.IsSortedFunc(c.Examples, func(a, b Example) int { return cmp.Compare(a.Distance, b.Distance) }) {
			t.Errorf("examples of %q not closest first: %+v", groups[g].name, c.Examples)
		}
		for _, w := range wantWords[groups[g].name] {
			if !slices.Contains(c.TopWords[:min(2, len(c.TopWords))], w) {
				t.Errorf("top words of %q are %v, want %q among the first two", groups[g].name, c.TopWords, w)
			}
			if !strings.Contains(c.Name, w) {
				t.Errorf("name of %q is %q, want it to hold %q", groups[g].name, c.Name, w)
			}
		}
		for _, w := range c.TopWords {
			if stopWords[w] {
				t.Errorf("stop word %q among the top words of %q", w, groups[g].name)
			}
		}
		if c.NearestIntent != "product_info" || c.NearestShare != 1 {
			t.Errorf("nearest intent %q (%.2f), want product_info (1)", c.NearestIntent, c.NearestShare)
		}
	}
	if !slices.IsSortedFunc(r.Clusters, func(a, b Cluster) int { return b.Size - a.Size }) {
		t.Error("clusters not largest first")
	}
	if r.Clusters[0].OutOfScope != 6 { // texts 1, 3, 5 of the gift card group, twice each
		t.Errorf("gift card cluster: %d out of scope, want 6", r.Clusters[0].OutOfScope)
	}
}

func TestAnalyzeDeterministic(t *testing.T) {
	src, p := testData(t)
	a, err := Analyze(context.Background(), src, p, Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	src, p = testData(t)
	b, err := Analyze(context.Background(), src, p, Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("two runs with the same seed differ")
	}
}

func TestAnalyzeMap(t *testing.T) {
	src, p := testData(t)
	r, err := Analyze(context.Background(), src, p, Options{Seed: 1, K: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Map) != r.Analysed {
		t.Fatalf("%d map points for %d messages", len(r.Map), r.Analysed)
	}
	clusterOf := map[int]int{} // group -> cluster
	for _, c := range r.Clusters {
		clusterOf[groupOf(c.Examples[0].Text)] = c.ID
	}
	type ref struct {
		conv string
		seq  uint64
	}
	seen := map[ref]bool{}
	for _, pt := range r.Map {
		if seen[ref{pt.ConversationID, pt.Seq}] {
			t.Errorf("message %s/%d twice on the map", pt.ConversationID, pt.Seq)
		}
		seen[ref{pt.ConversationID, pt.Seq}] = true
		if want := clusterOf[groupOf(pt.Text)]; pt.Cluster != want {
			t.Errorf("%q on the map in cluster %d, want %d", pt.Text, pt.Cluster, want)
		}
	}
	// The groups lie on three orthogonal axes: two components keep most of
	// the variance, and each group's points lie closer to their own centroid
	// than to another's.
	if v := r.MapVariance[0] + r.MapVariance[1]; v < 0.6 || v > 1 {
		t.Errorf("map keeps %.2f of the variance, want 0.6..1", v)
	}
	centre := make([][2]float64, len(r.Clusters))
	size := make([]float64, len(r.Clusters))
	for _, pt := range r.Map {
		centre[pt.Cluster][0] += pt.X
		centre[pt.Cluster][1] += pt.Y
		size[pt.Cluster]++
	}
	for c := range centre {
		centre[c][0] /= size[c]
		centre[c][1] /= size[c]
	}
	for _, pt := range r.Map {
		own := math.Hypot(pt.X-centre[pt.Cluster][0], pt.Y-centre[pt.Cluster][1])
		for c := range centre {
			if d := math.Hypot(pt.X-centre[c][0], pt.Y-centre[c][1]); c != pt.Cluster && d < own {
				t.Errorf("%q lies closer to cluster %d's centre on the map than to its own", pt.Text, c)
			}
		}
	}
}

// withParse returns a customer message with a stored parse.
func withParse(t *testing.T, text string, inScope bool, conf float64, emb []float32) crm.Message {
	t.Helper()
	raw, err := json.Marshal(nlu.Result{Text: text, Intent: "order_status", Confidence: conf, InScope: inScope, Embedding: emb})
	if err != nil {
		t.Fatal(err)
	}
	return crm.Message{Text: text, Parse: raw}
}

func TestAnalyzeSelection(t *testing.T) {
	src := &fakeSource{}
	src.add("a", withParse(t, "oos one", false, 0.9, []float32{1, 0}))
	src.add("a", withParse(t, "low two", true, 0.3, []float32{0, 1}))
	src.add("a", withParse(t, "sure three", true, 0.7, []float32{1, 1}))
	src.add("a", crm.Message{Sender: crm.SenderAgent, Text: "agent text"})
	src.add("a", crm.Message{Text: "never parsed"})
	old := withParse(t, "old four", false, 0.1, []float32{2, 1})
	old.CreatedAt = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	src.add("b", old)
	tests := []struct {
		name string
		opts Options
		want []string // texts analysed
	}{
		{"default 0.5", Options{}, []string{"oos one", "low two", "old four"}},
		{"0.8 takes more", Options{MinConfidence: 0.8}, []string{"oos one", "low two", "sure three", "old four"}},
		{"negative: out of scope only", Options{MinConfidence: -1}, []string{"oos one", "old four"}},
		{"since", Options{Since: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, []string{"oos one", "low two"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Analyze(context.Background(), src, nil, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, pt := range r.Map {
				got = append(got, pt.Text)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("analysed %q, want %q", got, tc.want)
			}
			if r.Unparsed != 1 {
				t.Errorf("unparsed %d, want 1 (no parser for the message without a parse)", r.Unparsed)
			}
		})
	}
}

func TestAnalyzeReparse(t *testing.T) {
	// Two stored parses from models of different sizes: refused, unless
	// everything is parsed again by the current model.
	src := &fakeSource{}
	src.add("a", withParse(t, "alpha", false, 0.1, []float32{1, 0, 0}))
	src.add("a", withParse(t, "beta", false, 0.1, []float32{0, 1}))
	src.add("a", withParse(t, "gamma", false, 0.1, []float32{0, 1}))
	_, err := Analyze(context.Background(), src, nil, Options{})
	if !errors.Is(err, ErrDimension) || !strings.Contains(err.Error(), "conversation a message 2") {
		t.Fatalf("mixed sizes: err = %v, want ErrDimension naming message 2", err)
	}
	p := &fakeParser{results: map[string]*nlu.Result{
		"alpha": {Embedding: []float32{1, 0}},
		"beta":  {Embedding: []float32{0, 1}},
		"gamma": {Embedding: []float32{0, 1}, InScope: true, Confidence: 0.9},
	}}
	r, err := Analyze(context.Background(), src, p, Options{Reparse: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Parsed != 3 || r.Analysed != 2 || r.K != 1 || r.KChosenBy != "too few points" {
		t.Errorf("reparse: parsed %d, analysed %d, k %d by %q; want 3, 2, 1 by too few points", r.Parsed, r.Analysed, r.K, r.KChosenBy)
	}
}

// The engine stores parses without the embedding: a message whose stored
// parse says it was understood is skipped without parsing; the others are
// parsed for their embedding, and the current model's verdict counts.
func TestAnalyzeSlimParses(t *testing.T) {
	src := &fakeSource{}
	src.add("a", withParse(t, "known", true, 0.95, nil))
	src.add("a", withParse(t, "unknown", false, 0.2, nil))
	src.add("a", withParse(t, "learnt since", false, 0.2, nil))
	p := &fakeParser{results: map[string]*nlu.Result{
		"known":        {Embedding: []float32{1, 0}, InScope: true, Confidence: 0.95},
		"unknown":      {Embedding: []float32{0, 1}},
		"learnt since": {Embedding: []float32{1, 1}, InScope: true, Confidence: 0.9},
	}}
	r, err := Analyze(context.Background(), src, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.calls != 2 || r.Parsed != 2 || r.Analysed != 1 || r.Map[0].Text != "unknown" {
		t.Errorf("parser calls %d, parsed %d, analysed %d (%+v); want 2, 2, 1: unknown", p.calls, r.Parsed, r.Analysed, r.Map)
	}
}

func TestAnalyzeBadInput(t *testing.T) {
	nan := &fakeParser{results: map[string]*nlu.Result{"x": {Embedding: []float32{1, float32(math.NaN())}}}}
	empty := &fakeParser{results: map[string]*nlu.Result{"x": {}}}
	broken := &fakeParser{err: errors.New("model gone")}
	one := func() *fakeSource {
		s := &fakeSource{}
		s.add("c1", crm.Message{Text: "x"})
		return s
	}
	three := &fakeSource{}
	for _, text := range []string{"a", "b", "c"} {
		three.add("c1", withParse(t, text, false, 0.1, []float32{float32(len(text)), float32(text[0])}))
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		src  Source
		p    Parser
		opts Options
		want error
	}{
		{"nan from the parser", context.Background(), one(), nan, Options{}, ErrNonFinite},
		{"no embedding from the parser", context.Background(), one(), empty, Options{}, ErrDimension},
		{"parser error", context.Background(), one(), broken, Options{}, broken.err},
		{"source error", context.Background(), &fakeSource{err: crm.ErrClosed}, nil, Options{}, crm.ErrClosed},
		{"k above the messages", context.Background(), three, nil, Options{K: 4}, ErrTooFewMessages},
		{"negative k", context.Background(), three, nil, Options{K: -1}, ErrOption},
		{"max k 1", context.Background(), three, nil, Options{MaxK: 1}, ErrOption},
		{"min confidence above 1", context.Background(), three, nil, Options{MinConfidence: 1.5}, ErrOption},
		{"min confidence NaN", context.Background(), three, nil, Options{MinConfidence: math.NaN()}, ErrOption},
		{"cancelled", cancelled, three, nil, Options{}, context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Analyze(tc.ctx, tc.src, tc.p, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if r != nil {
				t.Errorf("report %+v with an error", r)
			}
		})
	}
}

func TestAnalyzeNothingToAnalyse(t *testing.T) {
	tests := []struct {
		name         string
		src          *fakeSource
		p            Parser
		wantScanned  int
		wantUnparsed int
	}{
		{"empty store", &fakeSource{}, nil, 0, 0},
		{"all in scope", func() *fakeSource {
			s := &fakeSource{}
			s.add("a", withParse(t, "where is my order", true, 0.9, []float32{1, 0}))
			return s
		}(), nil, 1, 0},
		{"parser refuses", func() *fakeSource {
			s := &fakeSource{}
			s.add("a", crm.Message{Text: "   "})
			return s
		}(), &fakeParser{}, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Analyze(context.Background(), tc.src, tc.p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if r.Analysed != 0 || len(r.Clusters) != 0 || len(r.Map) != 0 || r.Scanned != tc.wantScanned || r.Unparsed != tc.wantUnparsed {
				t.Errorf("report %+v, want nothing analysed of %d scanned, %d unparsed", r, tc.wantScanned, tc.wantUnparsed)
			}
		})
	}
}

func TestAnalyzeGivenK(t *testing.T) {
	src, p := testData(t)
	r, err := Analyze(context.Background(), src, p, Options{K: 2, Examples: 2, TopWords: 1, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if r.K != 2 || r.KChosenBy != "given" || len(r.Clusters) != 2 || len(r.Candidates) != 0 {
		t.Fatalf("k %d by %q, %d clusters, %d candidates; want 2 given, 2, 0", r.K, r.KChosenBy, len(r.Clusters), len(r.Candidates))
	}
	total := 0
	for _, c := range r.Clusters {
		total += c.Size
		if len(c.Examples) != 2 || len(c.TopWords) > 1 {
			t.Errorf("cluster %s: %d examples, %d words; want 2, at most 1", c.Name, len(c.Examples), len(c.TopWords))
		}
	}
	if total != r.Analysed {
		t.Errorf("cluster sizes add up to %d, want %d", total, r.Analysed)
	}
}

func TestAnalyzePages(t *testing.T) {
	// More conversations and messages than one page of each.
	src := &fakeSource{}
	rng := rand.New(rand.NewPCG(1, 2))
	emb := func() []float32 { return []float32{float32(rng.NormFloat64()), float32(rng.NormFloat64())} }
	for i := range conversationPage + 3 {
		src.add(fmt.Sprintf("c%04d", i), withParse(t, "q", false, 0.1, emb()))
	}
	for i := range messagePage + 5 {
		src.add("long", withParse(t, "q"+strings.Repeat("x", i%3), false, 0.1, emb()))
	}
	r, err := Analyze(context.Background(), src, nil, Options{K: 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := conversationPage + 3 + messagePage + 5; r.Scanned != want || len(r.Map) != want {
		t.Errorf("scanned %d, mapped %d; want %d", r.Scanned, len(r.Map), want)
	}
}

func TestAnalyzeMergesShapes(t *testing.T) {
	// Messages that differ in case, spacing and numbers only are one point,
	// one example counting them all.
	src := &fakeSource{}
	src.add("a", withParse(t, "where is order 1042", false, 0.1, []float32{1, 0, 0}))
	src.add("a", withParse(t, "Where is  ORDER 977", false, 0.1, []float32{0.9, 0.1, 0}))
	src.add("a", withParse(t, "gift card balance", false, 0.1, []float32{0, 1, 0}))
	src.add("a", withParse(t, "gift card balance", false, 0.1, []float32{0, 1, 0}))
	src.add("a", withParse(t, "store hours", false, 0.1, []float32{0, 0, 1}))
	r, err := Analyze(context.Background(), src, nil, Options{K: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r.Points != 3 || r.Analysed != 5 {
		t.Fatalf("%d points for %d messages, want 3 for 5", r.Points, r.Analysed)
	}
	for _, c := range r.Clusters {
		if c.Size != 2 && c.Size != 1 || len(c.Examples) != 1 || c.Examples[0].Count != c.Size {
			t.Errorf("cluster %+v: want one example counting all its messages", c)
		}
	}
	if ex := r.Clusters[0].Examples[0]; ex.Text != "where is order 1042" || ex.Seq != 1 {
		t.Errorf("first example %+v, want the first order message", ex)
	}
}

func TestShape(t *testing.T) {
	tests := []struct{ name, a, b string }{
		{"numbers", "where is order 1042", "where is order 7"},
		{"case and spaces", "  Where IS\tmy order ", "where is my order"},
		{"digits in words", "size 42eu", "size 9eu"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if shape(tc.a) != shape(tc.b) {
				t.Errorf("shape(%q) = %q, shape(%q) = %q: want equal", tc.a, shape(tc.a), tc.b, shape(tc.b))
			}
		})
	}
	if shape("order 1") == shape("orders 1") {
		t.Error("different words share a shape")
	}
}

func TestSilhouette(t *testing.T) {
	// Points 0, 1, 10, 11 on a line in two clusters; scikit-learn's
	// silhouette_score gives 0.8997493734335839.
	X := [][]float64{{0}, {1}, {10}, {11}}
	idx := []int{0, 1, 2, 3}
	got := silhouette(pairwise(X, idx), []int{0, 0, 1, 1}, idx, 2)
	if math.Abs(got-0.8997493734335839) > 1e-12 {
		t.Errorf("silhouette %v, want 0.8997493734335839", got)
	}
	// A point alone in its cluster counts 0.
	got = silhouette(pairwise(X, idx), []int{0, 0, 0, 1}, idx, 2)
	// Point 0: a=5.5, b=11; point 1: a=5, b=10; point 10: a=9.5, b=1.
	want := (0.5 + 0.5 + (1-9.5)/9.5 + 0) / 4
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("silhouette with a singleton %v, want %v", got, want)
	}
}

func BenchmarkAnalyze(b *testing.B) {
	// 2,000 unknown messages, 400 distinct texts in 5 groups, 64-wide
	// embeddings.
	rng := rand.New(rand.NewPCG(1, 1))
	src := &fakeSource{}
	vocab := strings.Fields("gift card balance loyalty points store hours open close berlin voucher coupon size chart stock restock newsletter")
	for i := range 2000 {
		g, v := i%400%5, i%400
		emb := make([]float32, 64)
		emb[g*10] = 3
		r2 := rand.New(rand.NewPCG(uint64(v), 9))
		for j := range emb {
			emb[j] += float32(r2.NormFloat64() * 0.5)
		}
		text := vocab[g*3] + " " + vocab[g*3+1] + " " + vocab[rng.IntN(len(vocab))] + " " + strings.Repeat("x", v%7+2)
		raw, _ := json.Marshal(nlu.Result{Text: text, Confidence: 0.1, Embedding: emb})
		src.add("c"+string(rune('a'+i%20)), crm.Message{Text: text, Parse: raw})
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Analyze(context.Background(), src, nil, Options{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
