package tokenize

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestNormalizeText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"ascii lower-cased", "Where IS my Order?", "where is my order?"},
		{"accents", "Crème brûlée", "creme brulee"},
		{"full width", "ＡＢＣ１２３", "abc123"},
		{"ligature", "ﬁ ﬂ", "fi fl"},
		{"decomposed input", "e\u0301cole", "ecole"},
		{"dotted capital I", "İstanbul", "istanbul"},
		{"German sharp s kept", "Straße", "straße"},
		{"Greek", "ΆΣΤΡΟ", "αστρο"},
		{"Hangul stays composed", "안녕하세요", "안녕하세요"},
		{"Hangul jamo compose", "\u1100\u1161", "가"},
		{"Arabic hamza stripped", "أين", "اين"},
		{"Hebrew points stripped", "שָׁלוֹם", "שלום"},
		{"Devanagari vowel sign kept (Mc), nukta stripped (Mn)", "क़ारी", "कारी"},
		{"circled and superscript", "①²", "12"},
		{"controls become spaces", "a\x00b", "a b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := normalizeText(tc.in); got != tc.want {
				t.Errorf("normalizeText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestSpecPlanMatchesGoNormalizer checks that the general Go normaliser, given
// the normaliser spec Build writes, gives the same text and alignment as the
// specialised one the Go path uses.
func TestSpecPlanMatchesGoNormalizer(t *testing.T) {
	plan, err := parsePlan(json.RawMessage(normalizerSpec))
	if err != nil {
		t.Fatal(err)
	}
	texts := slices.Concat(teamCorpus, extraTexts, []string{"½ ﬁ ①²", "\u1100\u1161\u11a8", "a\u0301\u0302\u0303b", "ǅ ǈ ǋ"})
	for _, text := range texts {
		checkSpecPlan(t, plan, Clean(text))
	}
}

func checkSpecPlan(t testing.TB, plan normPlan, clean string) {
	t.Helper()
	var sg segmenter
	sg.normalize(clean)
	var a aligned
	a.reset(clean)
	plan.apply(&a)
	if got, want := string(a.runes), string(sg.norm); got != want {
		t.Fatalf("%q: plan gives %q, Go normaliser %q", clean, got, want)
	}
	if sg.identity {
		return
	}
	if !slices.Equal(a.start, sg.start) || !slices.Equal(a.end, sg.end) {
		t.Fatalf("%q: alignments differ:\n plan %v %v\n Go   %v %v", clean, a.start, a.end, sg.start, sg.end)
	}
}

func TestParsePlan(t *testing.T) {
	tests := []struct {
		name string
		json string
		want normPlan
	}{
		{"null", ``, nil},
		{"BERT uncased: strip_accents null follows lowercase", `{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true}`,
			normPlan{{kind: stepBertClean}, {kind: stepBertChinese}, {kind: stepNFD}, {kind: stepStripAccents}, {kind: stepLower}}},
		{"BERT cased", `{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":false,"strip_accents":null,"lowercase":false}`,
			normPlan{{kind: stepBertClean}}},
		{"sequence", `{"type":"Sequence","normalizers":[{"type":"NFKD"},{"type":"Strip","strip_left":false,"strip_right":true}]}`,
			normPlan{{kind: stepNFKD}, {kind: stepStrip, left: false, right: true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parsePlan(json.RawMessage(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("parsePlan = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPlanSteps(t *testing.T) {
	tests := []struct {
		name  string
		plan  normPlan
		in    string
		want  string
		start []int32
	}{
		{"BERT clean drops controls and U+FFFD", normPlan{{kind: stepBertClean}}, "a\u200b\ufffdb\u00a0c", "ab c", []int32{0, 3, 4, 5}},
		{"chinese characters get spaces", normPlan{{kind: stepBertChinese}}, "a订b", "a 订 b", []int32{0, 1, 1, 1, 2}},
		{"strip both ends", normPlan{{kind: stepStrip, left: true, right: true}}, "  ab ", "ab", []int32{2, 3}},
		{"NFKD then strip accents", normPlan{{kind: stepNFKD}, {kind: stepStripAccents}}, "éﬁ", "efi", []int32{0, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var a aligned
			a.reset(tc.in)
			tc.plan.apply(&a)
			if got := string(a.runes); got != tc.want || !slices.Equal(a.start, tc.start) {
				t.Errorf("got %q %v, want %q %v", got, a.start, tc.want, tc.start)
			}
		})
	}
}
