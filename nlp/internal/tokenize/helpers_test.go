package tokenize

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/parleyhq/parley/internal/datasets"
	"golang.org/x/text/unicode/norm"
)

// teamCorpus is a small set of customer messages written by the team, for
// tests that must run without the public datasets.
var teamCorpus = []string{
	"Hi, I want to cancel my order #A-10234 please",
	"Where is my package? It was supposed to arrive yesterday.",
	"Can I get a refund for the blue sweater I returned last week?",
	"My card was charged twice for the same order!!",
	"How do I change the delivery address on my order",
	"I'd like to speak to a human agent",
	"The app keeps crashing when I open my cart",
	"Do you ship to Canada? How much does shipping cost?",
	"I forgot my password and the reset email never came",
	"Thanks 👍 that solved it",
	"The crème brûlée kit arrived damaged, can I get a replacement?",
	"Is the unbelievable deal on headphones still available?",
	"Please update my phone number to 555-0142",
	"I was unable to apply the discount code SPRING20",
	"Why was my account locked?",
	"Can you tell me the status of order 88412?",
	"I want to return these shoes, they are too small",
	"Cancel my subscription immediately",
	"How long does a refund take to show up on my statement?",
	"The tracking number doesn't work",
	"Hello! Do you have this jacket in size M?",
	"I received the wrong item in my package",
	"What are your opening hours on Sunday?",
	"Can I pay with PayPal or only by credit card?",
	"My discount code says it expired but it shouldn't have",
	"I need an invoice for my last purchase for my company",
	"Change my email address to the new one please",
	"The courier left the parcel at the wrong door",
	"Is there a warranty on the coffee machine?",
	"I'd like to upgrade my plan to premium",
	"Unsubscribe me from the newsletter",
	"Your website is very slow today",
	"Can I change the size after ordering?",
	"Où est ma commande ? Je l'attends depuis lundi.",
	"¿Dónde está mi pedido? Lo necesito mañana.",
	"Ich möchte meine Bestellung stornieren",
	"the refund was unbelievably fast, thank you!",
	"I was charged €49.99 instead of €39.99",
}

// datasetDir returns the public datasets folder, skipping the test when it
// is missing and failing it when CI=true.
func datasetDir(t testing.TB) string {
	t.Helper()
	dir, ok := datasets.Dir()
	if !ok {
		datasets.Missing(t, "public datasets not found: set PARLEY_DATASETS or provide ../shared/datasets")
	}
	return dir
}

// readCLINC returns the texts of CLINC150's "train" split under dir.
func readCLINC(dir string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "clinc150", "data_full.json"))
	if err != nil {
		return nil, err
	}
	var d struct {
		Train [][2]string `json:"train"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	texts := make([]string, len(d.Train))
	for i, item := range d.Train {
		texts[i] = item[0]
	}
	return texts, nil
}

// clincTrain returns CLINC150's training texts, under the dataset rule of
// datasetDir.
func clincTrain(t testing.TB) []string {
	t.Helper()
	texts, err := readCLINC(datasetDir(t))
	if err != nil {
		t.Fatalf("read CLINC150: %v", err)
	}
	return texts
}

// optionalCLINC returns CLINC150's training texts when the dataset is there,
// as extra inputs and fuzz seeds, and nil otherwise.
func optionalCLINC() []string {
	dir, ok := datasets.Dir()
	if !ok {
		return nil
	}
	texts, _ := readCLINC(dir)
	return texts
}

// buildFile builds a tokenizer from texts and writes it to a temporary
// tokenizer.json, returning its path and bytes.
func buildFile(t testing.TB, texts []string, opts *Options) (string, []byte) {
	t.Helper()
	data, err := Build(texts, opts)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// mustLoad loads path or fails the test.
func mustLoad(t testing.TB, path string, opts *Options) *Tokenizer {
	t.Helper()
	tk, err := Load(path, opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return tk
}

// refVocab reads the model vocabulary straight from tokenizer.json bytes.
func refVocab(t testing.TB, data []byte) map[string]int {
	t.Helper()
	var f struct {
		Model struct {
			Vocab map[string]int `json:"vocab"`
		} `json:"model"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("parse tokenizer.json: %v", err)
	}
	return f.Model.Vocab
}

// refWords is an independent, whole-string implementation of the normaliser
// and pre-tokenizer Build declares, for valid UTF-8 input.
func refWords(text string) []string {
	text = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			return ' '
		}
		return r
	}, text)
	s := strings.ToLower(norm.NFKC.String(text))
	s = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, norm.NFD.String(s))
	s = norm.NFC.String(s)
	var words []string
	for _, field := range strings.Fields(s) {
		cur := []rune{}
		for _, r := range field {
			if unicode.IsPunct(r) || unicode.In(r, unicode.S, unicode.Han) ||
				(r < 128 && !unicode.IsLetter(r) && !unicode.IsDigit(r)) {
				if len(cur) > 0 {
					words = append(words, string(cur))
					cur = cur[:0]
				}
				words = append(words, string(r))
				continue
			}
			cur = append(cur, r)
		}
		if len(cur) > 0 {
			words = append(words, string(cur))
		}
	}
	return words
}

// refEncode is a reference greedy longest-match-first WordPiece encoder.
func refEncode(vocab map[string]int, text string) []int {
	var ids []int
	for _, w := range refWords(text) {
		runes := []rune(w)
		var pieces []int
		ok := len(runes) <= 100
		for start := 0; ok && start < len(runes); {
			end := len(runes)
			found := -1
			for ; end > start; end-- {
				sub := string(runes[start:end])
				if start > 0 {
					sub = "##" + sub
				}
				if id, in := vocab[sub]; in {
					found = id
					break
				}
			}
			if found < 0 {
				ok = false
				break
			}
			pieces = append(pieces, found)
			start = end
		}
		if !ok {
			pieces = []int{vocab[UnkToken]}
		}
		ids = append(ids, pieces...)
	}
	return ids
}
