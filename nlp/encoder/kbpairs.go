package encoder

import (
	"strings"
	"unicode"

	"github.com/parleyhq/parley/nlp/kb"
)

// KBOptions are the options for training on a help centre's KBPairs
// alone: DefaultOptions with the Dim and Temperature that did best on the
// demo shop's validation questions. With DefaultOptions' (256, 0.1, chosen
// on Bitext) the encoder added nothing there: the hybrid's best weight was
// 0, top-1 55/60 with 42/70 answered; with these, weight 4, 55/60 with
// 46/70 answered.
var KBOptions = func() Options {
	o := DefaultOptions
	o.Dim, o.Temperature = 128, 0.05
	return o
}()

// KBPairs makes training pairs from a help centre's own articles, which is
// all the labelled data a new help centre has: for every passage (its
// PassageText the answer), the questions are the article's title, each of
// its tags, the section heading, and each sentence of the passage of four
// words or more (a sentence asks, in the articles' words, for the passage
// that holds it). Each of the article's example questions (front matter
// "questions", in customers' words) is paired with the article's passage
// that BM25 ranks best for it, else its first passage.
func KBPairs(ix *kb.Index) []Pair {
	var out []Pair
	first := 0 // number of the article's first passage, in kb.Hit order
	for _, a := range ix.Articles {
		for _, p := range a.Passages {
			answer := PassageText(a, p)
			add := func(q string) {
				if q = strings.TrimSpace(q); q != "" {
					out = append(out, Pair{Question: q, Answer: answer})
				}
			}
			add(a.Title)
			for _, t := range a.Tags {
				add(t)
			}
			add(p.Heading)
			for _, s := range sentences(p.Text) {
				if len(strings.Fields(s)) >= 4 {
					add(s)
				}
			}
		}
		ids := make([]int, len(a.Passages))
		for i := range ids {
			ids[i] = first + i
		}
		first += len(a.Passages)
		for _, q := range a.Questions {
			scores := ix.BM25Scores(kb.Query{Text: q, Terms: kb.Terms(q)}, ids)
			best := 0
			for i, s := range scores {
				if s > scores[best] {
					best = i
				}
			}
			out = append(out, Pair{Question: q, Answer: PassageText(a, a.Passages[best])})
		}
	}
	return out
}

// sentences splits text after '.', '!' or '?' followed by white space.
func sentences(text string) []string {
	var out []string
	start := 0
	rs := []rune(text)
	for i, r := range rs {
		if (r == '.' || r == '!' || r == '?') && (i+1 == len(rs) || unicode.IsSpace(rs[i+1])) {
			out = append(out, string(rs[start:i+1]))
			start = i + 1
		}
	}
	if start < len(rs) {
		out = append(out, string(rs[start:]))
	}
	return out
}
