package replies

import (
	"math"
	"regexp"
	"strings"
)

// tokenRE splits a reply into the units every metric counts: a {{...}}
// placeholder whole, a word (letters, digits and inner apostrophes), or one
// other visible character.
var tokenRE = regexp.MustCompile(`\{\{[^{}]*\}\}|[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]`)

// Tokens returns text's tokens for the metrics: words lower-cased,
// placeholders kept verbatim.
func Tokens(text string) []string {
	toks := tokenRE.FindAllString(text, -1)
	for i, t := range toks {
		if !isPlaceholder(t) {
			toks[i] = strings.ToLower(t)
		}
	}
	return toks
}

func isPlaceholder(t string) bool { return strings.HasPrefix(t, "{{") && strings.HasSuffix(t, "}}") }

// Placeholders returns the {{...}} placeholders of text, in order, repeats
// included.
func Placeholders(text string) []string {
	var out []string
	for _, t := range tokenRE.FindAllString(text, -1) {
		if isPlaceholder(t) {
			out = append(out, t)
		}
	}
	return out
}

// GenMetrics are the generation figures of one system over a set of
// replies, each compared with its gold reply.
type GenMetrics struct {
	RougeL        float64 `json:"rouge_l"`        // mean ROUGE-L F1 over replies
	BLEU4         float64 `json:"bleu4"`          // corpus BLEU-4 with the brevity penalty
	PlaceholderF1 float64 `json:"placeholder_f1"` // micro F1 of placeholders (as multisets)
	Distinct2     float64 `json:"distinct_2"`     // distinct bigrams over all bigrams generated
}

// Generation scores generated replies against gold ones (same length and
// order). Every figure is in 0..1; with no replies all are 0. A corpus
// where neither side holds a placeholder has placeholder F1 1.
func Generation(generated, gold []string) GenMetrics {
	var m GenMetrics
	if len(generated) == 0 || len(generated) != len(gold) {
		return m
	}
	var bleu bleuCounts
	bigrams := map[[2]string]bool{}
	totalBigrams := 0
	for i := range generated {
		g, r := Tokens(generated[i]), Tokens(gold[i])
		m.RougeL += RougeL(g, r)
		bleu.add(g, r)
		for j := 1; j < len(g); j++ {
			bigrams[[2]string{g[j-1], g[j]}] = true
			totalBigrams++
		}
	}
	m.RougeL /= float64(len(generated))
	m.BLEU4 = bleu.score()
	m.PlaceholderF1 = PlaceholderF1(generated, gold)
	if totalBigrams > 0 {
		m.Distinct2 = float64(len(bigrams)) / float64(totalBigrams)
	}
	return m
}

// PlaceholderF1 is Generation's placeholder F1 alone: the micro F1 of the
// placeholders of generated replies against those of their gold replies
// (same length and order), counted as multisets; 1 where neither side
// holds one.
func PlaceholderF1(generated, gold []string) float64 {
	var tp, got, want int
	for i := range generated {
		shared, ng, nr := multisetOverlap(Placeholders(generated[i]), Placeholders(gold[i]))
		tp, got, want = tp+shared, got+ng, want+nr
	}
	return f1(tp, got, want)
}

// RougeL is the F1 of the longest common subsequence of two token lists.
func RougeL(cand, ref []string) float64 {
	if len(cand) == 0 || len(ref) == 0 {
		return 0
	}
	// One row of the LCS table at a time.
	prev := make([]int, len(ref)+1)
	cur := make([]int, len(ref)+1)
	for _, c := range cand {
		for j, r := range ref {
			if c == r {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(cur[j], prev[j+1])
			}
		}
		prev, cur = cur, prev
	}
	lcs := prev[len(ref)]
	return f1(lcs, len(cand), len(ref))
}

// f1 is the F1 of tp true positives among got predicted and want expected;
// 1 when nothing was expected or predicted.
func f1(tp, got, want int) float64 {
	if got == 0 && want == 0 {
		return 1
	}
	if tp == 0 {
		return 0
	}
	p, r := float64(tp)/float64(got), float64(tp)/float64(want)
	return 2 * p * r / (p + r)
}

// multisetOverlap counts the items a and b share (as multisets) and their
// sizes.
func multisetOverlap(a, b []string) (shared, na, nb int) {
	count := map[string]int{}
	for _, x := range b {
		count[x]++
	}
	for _, x := range a {
		if count[x] > 0 {
			count[x]--
			shared++
		}
	}
	return shared, len(a), len(b)
}

// bleuCounts accumulates corpus BLEU-4 (Papineni et al. 2002): clipped
// n-gram matches and totals for n = 1..4, and the lengths for the brevity
// penalty.
type bleuCounts struct {
	match, total [4]int
	cand, ref    int
}

func (b *bleuCounts) add(cand, ref []string) {
	b.cand += len(cand)
	b.ref += len(ref)
	for n := 1; n <= 4; n++ {
		refCount := map[string]int{}
		for i := 0; i+n <= len(ref); i++ {
			refCount[strings.Join(ref[i:i+n], "\x00")]++
		}
		for i := 0; i+n <= len(cand); i++ {
			b.total[n-1]++
			k := strings.Join(cand[i:i+n], "\x00")
			if refCount[k] > 0 {
				refCount[k]--
				b.match[n-1]++
			}
		}
	}
}

func (b *bleuCounts) score() float64 {
	logSum := 0.0
	for n := range 4 {
		if b.match[n] == 0 {
			return 0
		}
		logSum += math.Log(float64(b.match[n]) / float64(b.total[n]))
	}
	bp := 1.0
	if b.cand < b.ref {
		bp = math.Exp(1 - float64(b.ref)/float64(b.cand))
	}
	return bp * math.Exp(logSum/4)
}
