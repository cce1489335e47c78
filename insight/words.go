package insight

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley/crm"
)

// stopWords are English function words and chat filler ("hi", "please",
// "thanks") that name no customer need. Contractions are split at the apostrophe ("don't" gives
// "don"), so their stems are here too.
var stopWords = setOf(`
a about above after again against all also am an and any are as at be because
been before being below between both but by can cannot could did do does doing
done down during each else even ever every few for from further get gets got had
has have having he her here hers herself him himself his how i if in into is it
its itself just let me more most much must my myself no nor not now of off on
once one only or other ought our ours ourselves out over own same shall she
should so some still such than that the their theirs them themselves then there
these they this those through to too under until up upon us very via was we
were what when where which while who whom whose why will with within without
would yet you your yours yourself yourselves
don doesn didn isn wasn aren weren won wouldn couldn shouldn haven hasn hadn
ll ve re
hi hello hey dear morning afternoon evening please pls plz thanks thank thx ty
ok okay yes yeah yep nope sure hmm um uh oh ah lol
want wanted need needed like would know tell help anyone someone something
anything thing things way really actually maybe guys bot`)

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// placeholders is what the store puts where it removed a card number or a
// code: not the customer's words.
var placeholders = strings.NewReplacer(crm.CardPlaceholder, " ", crm.CodePlaceholder, " ")

// words returns the distinct content words of text in order: runs of
// letters (and digits), lower-cased, without stop words, one-letter words,
// words holding a digit (order numbers, codes) or redaction placeholders.
func words(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(placeholders.Replace(text)), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if utf8.RuneCountInString(w) < 2 || stopWords[w] || seen[w] || strings.ContainsFunc(w, unicode.IsDigit) {
			continue
		}
		seen[w] = true
		out = append(out, w)
	}
	return out
}

// topWords scores the words of each cluster's texts by class-based TF-IDF:
// df/n · log(1 + A/f), where df counts the cluster's texts with the word, n
// its texts, f the texts with the word in all clusters and A the mean
// number of texts per cluster. A word must be in two of the cluster's texts
// when it has three or more, unless no word is: then the words of single
// texts count, the first text's first among equals. It returns at most n
// words per cluster, best first; equal scores keep the order in which the
// words first appear in the texts (closest to the centre first), so "gift
// card" is not named "card_gift".
func topWords(texts [][]string, n int) [][]string {
	df := make([]map[string]int, len(texts))
	order := make([][]string, len(texts)) // each cluster's words by first appearance
	f := map[string]int{}
	total := 0
	for c, ts := range texts {
		df[c] = map[string]int{}
		for _, t := range ts {
			for _, w := range words(t) {
				if df[c][w] == 0 {
					order[c] = append(order[c], w)
				}
				df[c][w]++
				f[w]++
			}
		}
		total += len(ts)
	}
	avg := float64(total) / float64(len(texts))
	out := make([][]string, len(texts))
	type scored struct {
		w string
		s float64
	}
	for c, ts := range texts {
		least := 1
		if len(ts) >= 3 {
			least = 2
		}
		var ws []scored
		for ; len(ws) == 0 && least > 0; least-- {
			for _, w := range order[c] {
				if d := df[c][w]; d >= least {
					ws = append(ws, scored{w, float64(d) / float64(len(ts)) * math.Log1p(avg/float64(f[w]))})
				}
			}
		}
		slices.SortStableFunc(ws, func(a, b scored) int { return cmp.Compare(b.s, a.s) })
		out[c] = []string{}
		for _, s := range ws[:min(n, len(ws))] {
			out[c] = append(out[c], s.w)
		}
	}
	return out
}

// suggestName makes an intent name for cluster c from its top words: the
// first two ASCII words joined by "_", three when that is taken, then a
// number; "topic_<c+1>" when no word is ASCII. The name is added to taken.
func suggestName(top []string, c int, taken map[string]bool) string {
	var ascii []string
	for _, w := range top {
		if isSnake(w) {
			ascii = append(ascii, w)
		}
	}
	var base string
	switch {
	case len(ascii) == 0:
		base = fmt.Sprintf("topic_%d", c+1)
	case len(ascii) >= 3 && taken[strings.Join(ascii[:2], "_")]:
		base = strings.Join(ascii[:3], "_")
	default:
		base = strings.Join(ascii[:min(2, len(ascii))], "_")
	}
	name := base
	for i := 2; taken[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	taken[name] = true
	return name
}

// isSnake reports whether w is lower-case ASCII letters and digits only.
func isSnake(w string) bool {
	for i := 0; i < len(w); i++ {
		if c := w[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return w != ""
}
