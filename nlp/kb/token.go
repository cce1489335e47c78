package kb

import (
	"strings"
	"unicode"
)

// Terms turns text into the index terms BM25 counts. It is deliberately
// simple, so that what matches can be explained to whoever writes articles:
//
//   - lower-case; a term is a run of Unicode letters and digits (apostrophes
//     and every other character split terms: "don't" gives "don" and "t");
//   - one-letter terms and the words of a small English stop list are
//     dropped (question words included: every question has them);
//   - a light stemmer folds the common English endings so that "returns",
//     "returned" and "returning" are one term: -sses -> -ss, -ies/-ied -> -y,
//     a plural -s (not -ss, -us, -is), -ing and -ed (not -eed), undoubling the
//     consonant left behind ("shipped" -> "ship"), and finally a trailing -e
//     ("size", "sized" and "sizing" all give "siz"). Stems need not be words.
//   - a few irregular past forms that shoppers use when something went wrong
//     ("sent", "came", "broke", "paid") are read as their base verb first.
//
// Stemming is applied to articles and questions alike, so only consistency
// matters, not linguistic truth.
func Terms(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if len([]rune(w)) < 2 || stopWords[w] {
			continue
		}
		if base, ok := irregular[w]; ok {
			w = base
		}
		out = append(out, stem(w))
	}
	return out
}

// stopWords are function words that carry no topic, and the verbs and
// fillers of questions ("want", "need", "still", "much") that appear in
// questions about anything. Negations stay out of
// the list on purpose: "not arrived" and "arrived" are different questions
// for a reader, even if BM25 cannot tell them apart by much.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the and or but if then than so as of at by for from in into on onto to
		with without about over under up down out off again too very just also only
		is are was were be been being am do does did doing done have has had having
		i me my mine myself we us our ours you your yours he him his she her hers it its
		they them their theirs this that these those there here
		what which who whom whose when where why how
		can could would should will shall may might must
		get got getting any some all each every other such own same more most
		please hi hello hey thanks thank ok okay yes
		want need like much many still once know tell let
		don dont doesn doesnt didn didnt isn isnt aren arent wasn wasnt hasn hasnt haven havent
		can cant couldn couldnt won wont wouldn wouldnt im ive id ll re ve`) {
		m[w] = true
	}
	return m
}()

// irregular maps past forms to base verbs, before stemming.
var irregular = map[string]string{
	"sent": "send", "came": "come", "wore": "wear", "worn": "wear", "paid": "pay",
	"bought": "buy", "broke": "break", "broken": "break", "lost": "lose", "made": "make",
	"took": "take", "taken": "take", "gave": "give", "given": "give", "told": "tell",
	"went": "go", "gone": "go", "kept": "keep", "chose": "choose", "chosen": "choose",
	"forgot": "forget", "forgotten": "forget", "shrank": "shrink", "shrunk": "shrink",
}

// stem folds a lower-case word's common English endings; see Terms.
func stem(w string) string {
	if !isASCIILetters(w) {
		return w // the rules below are English; leave other scripts alone
	}
	switch {
	case strings.HasSuffix(w, "sses"):
		w = w[:len(w)-2]
	case len(w) > 4 && (strings.HasSuffix(w, "ies") || strings.HasSuffix(w, "ied")):
		w = w[:len(w)-3] + "y"
	case len(w) > 3 && strings.HasSuffix(w, "s") &&
		!strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		w = w[:len(w)-1]
	case len(w) > 5 && strings.HasSuffix(w, "ing"):
		w = undouble(w[:len(w)-3])
	case len(w) > 3 && strings.HasSuffix(w, "ed") && !strings.HasSuffix(w, "eed"):
		w = undouble(w[:len(w)-2])
	}
	if len(w) > 2 && strings.HasSuffix(w, "e") && !strings.HasSuffix(w, "ee") {
		w = w[:len(w)-1]
	}
	return w
}

// undouble turns "shipp" into "ship" (but leaves "ll", "ss" and "zz", as in
// "billing" -> "bill").
func undouble(w string) string {
	n := len(w)
	if n >= 3 && w[n-1] == w[n-2] && strings.IndexByte("aeioulsz", w[n-1]) < 0 {
		return w[:n-1]
	}
	return w
}

func isASCIILetters(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}
