package entity

import (
	"sort"
	"time"
	"unicode/utf8"
)

// tense is the time a date without a year or modifier points to, read from
// the words around it.
type tense int8

const (
	tenseNone   tense = iota // no cue in the sentence, or the cues disagree
	tensePast                // "I was charged on 3 March", "it came Monday"
	tenseFuture              // "it will arrive on 3 March", "on Friday I'll be out"
)

// tenseCue is a word that marks the past or the future, at s[start:end].
type tenseCue struct {
	start, end int
	t          tense
}

// tenses holds the tense cues and sentence ends of one message, found on the
// first date that asks (most messages have no date, and most dates have a
// year or a modifier that fixes them).
type tenses struct {
	done  bool
	cues  []tenseCue // sorted by start
	stops []int      // byte offsets of sentence ends, sorted
}

// pastWords and futureWords are the cues read as whole words, lower case.
// Regular past tenses ("charged", "ordered") are read by their "-ed" ending
// in cueOf; these are the irregular verbs and adverbs a support message uses.
var (
	pastWords = map[string]bool{
		"was": true, "were": true, "wasn": true, "weren": true, "did": true, "didn": true,
		"had": true, "hadn": true, "been": true, "ago": true, "last": true, "yesterday": true,
		"got": true, "came": true, "went": true, "bought": true, "paid": true, "sent": true,
		"made": true, "took": true, "gave": true, "left": true, "told": true, "said": true,
		"saw": true, "found": true, "broke": true, "spent": true, "brought": true,
		"lost": true, "wrote": true, "rang": true, "knew": true, "forgot": true,
	}
	futureWords = map[string]bool{
		"will": true, "shall": true, "gonna": true, "next": true, "tomorrow": true,
		"upcoming": true,
	}
	// notPast are "-ed" words that are not past tenses, or whose past
	// participle usually speaks of a plan ("scheduled for 3 March").
	notPast = map[string]bool{
		"hundred": true, "sacred": true, "naked": true, "wicked": true, "wretched": true,
		"expected": true, "scheduled": true, "planned": true, "supposed": true,
		"booked": true, "interested": true, "tired": true,
	}
	// passiveBefore are the words after which an "-ed" participle is a
	// present or future passive ("it is delivered", "will be shipped").
	passiveBefore = map[string]bool{
		"is": true, "are": true, "am": true, "be": true, "being": true, "get": true,
		"gets": true, "getting": true, "s": true, "re": true, "m": true,
	}
)

// maxCueWord is the longest word cueOf looks at, in bytes; longer words
// are not cues, which keeps the scan's buffers on the stack.
const maxCueWord = 16

// of returns the tense of the sentence around the date at s[i:j]: the tense
// of the nearest cue in the same sentence, before or after the date (on a tie
// between two cues that disagree, none).
func (ts *tenses) of(s string, i, j int) tense {
	if !ts.done {
		ts.scan(s)
	}
	sentence := sort.SearchInts(ts.stops, i)
	k := sort.Search(len(ts.cues), func(n int) bool { return ts.cues[n].start >= j })
	best, bestDist := tenseNone, -1
	if k > 0 {
		c := ts.cues[k-1]
		if c.end <= i && sort.SearchInts(ts.stops, c.start) == sentence {
			best, bestDist = c.t, i-c.end
		}
	}
	if k < len(ts.cues) {
		c := ts.cues[k]
		if sort.SearchInts(ts.stops, c.start) == sentence {
			switch d := c.start - j; {
			case bestDist < 0 || d < bestDist:
				best = c.t
			case d == bestDist && c.t != best:
				best = tenseNone
			}
		}
	}
	return best
}

// scan finds the cues and the sentence ends of s in one pass. s is valid
// UTF-8 (Extract made it so).
func (ts *tenses) scan(s string) {
	ts.done = true
	var bufs [2][maxCueWord]byte
	var prev []byte // the previous word, lower case; nil when too long
	for i, n := 0, 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			if stop(s, i) {
				ts.stops = append(ts.stops, i)
			}
			i += w
			continue
		}
		j := wordEnd(s, i)
		var word []byte
		if j-i <= maxCueWord {
			word = lowerInto(bufs[n%2][:0], s[i:j])
		}
		if t := cueOf(s, i, j, word, prev); t != tenseNone {
			ts.cues = append(ts.cues, tenseCue{start: i, end: j, t: t})
		}
		prev, n, i = word, n+1, j
	}
}

// cueOf returns the tense that the word s[i:j] (lower-cased in w, nil when
// too long) marks; prev is the word before it.
func cueOf(s string, i, j int, w, prev []byte) tense {
	switch {
	case len(w) == 0:
		return tenseNone
	case pastWords[string(w)]:
		return tensePast
	case futureWords[string(w)]:
		return tenseFuture
	case string(w) == "ll" && isApostrophe(runeBefore(s, i)):
		return tenseFuture // "I'll", "it'll"
	case string(w) == "won" && isApostrophe(runeAt(s, j)):
		return tenseFuture // "won't"
	case string(w) == "going":
		if ns, ne, ok := nextWord(s, j); ok && equalFoldASCII(s[ns:ne], "to") {
			return tenseFuture
		}
	case len(w) >= 5 && string(w[len(w)-2:]) == "ed" && w[len(w)-3] != 'e' &&
		!notPast[string(w)] && !passiveBefore[string(prev)]:
		return tensePast // "charged", "ordered"; not "need", "speed"
	}
	return tenseNone
}

func isApostrophe(r rune) bool { return r == '\'' || r == '\u2019' }

// stop reports whether the non-word rune at byte i ends a sentence: '!', '?',
// ';' or a line break always, '.' when white space and no digit follow it (so
// that "Mar. 3" and "no. 1047" stay one sentence).
func stop(s string, i int) bool {
	switch s[i] {
	case '!', '?', ';', '\n':
		return true
	case '.':
		if ns, _, ok := nextWord(s, i+1); ok {
			return !isDigit(s[ns])
		}
		return i+1 >= len(s) || isSpaceRune(runeAt(s, i+1))
	}
	return false
}

// pastDay returns the latest day/month on or before today, looking back up
// to eight years (29 February skips at most that many). It reports false when
// the day never occurs in that month.
func pastDay(today time.Time, m time.Month, day int) (time.Time, bool) {
	return dayFrom(today, m, day, -1)
}

// futureDay returns the earliest day/month on or after today, looking ahead
// up to eight years.
func futureDay(today time.Time, m time.Month, day int) (time.Time, bool) {
	return dayFrom(today, m, day, +1)
}

// dayFrom walks the years from today's in direction step (-1 or +1) to the
// first day/month on that side of today (or today itself).
func dayFrom(today time.Time, m time.Month, day, step int) (time.Time, bool) {
	for k := range 9 {
		t := time.Date(today.Year()+k*step, m, day, 0, 0, 0, 0, time.UTC)
		if t.Day() == day && (t.Equal(today) || t.After(today) == (step > 0)) {
			return t, true
		}
	}
	return time.Time{}, false
}
