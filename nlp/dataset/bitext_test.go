package dataset

import (
	"bytes"
	"encoding/csv"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/datasets"
)

// bitextSample is team-written data in the Bitext header's shape, with
// multi-line quoted responses and a duplicate that differs in case and spaces.
const bitextSample = "testdata/bitext_sample.csv"

func TestHashSplit(t *testing.T) {
	// The expected splits come from an independent FNV-1a 64
	// implementation (hash mod 10: 0 test, 1 val, else train).
	for _, tc := range []struct {
		text string
		want Split
	}{
		{"", SplitTrain},  // offset basis 0xcbf29ce484222325, mod 10 = 7
		{"a", SplitTrain}, // 0xaf63dc4c8601ec8c, mod 10 = 6
		{"foobar", SplitTrain},
		{"put me through to an agent", SplitTest},
		{"how do i call off an order", SplitVal},
		{"refund me for order 5520", SplitTest},
		{"I was charged but want my money returned", SplitVal},
		{"where is my parcel 4471?", SplitTrain},
	} {
		t.Run(tc.text, func(t *testing.T) {
			if got := HashSplit(tc.text); got != tc.want {
				t.Errorf("HashSplit(%q) = %q, want %q", tc.text, got, tc.want)
			}
			for _, variant := range []string{strings.ToUpper(tc.text), "  " + tc.text + "\t\n"} {
				if got := HashSplit(variant); got != tc.want {
					t.Errorf("HashSplit(%q) = %q; a case or space variant must share %q's split %q", variant, got, tc.text, tc.want)
				}
			}
		})
	}
}

func TestParseBitextSample(t *testing.T) {
	ds, err := Load(bitextSample, FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Format != FormatBitext {
		t.Fatalf("Format = %q, want %q (guessed from the header)", ds.Format, FormatBitext)
	}
	if len(ds.Train) != 21 || len(ds.Val) != 3 || len(ds.Test) != 4 {
		t.Errorf("train/val/test = %d/%d/%d, want 21/3/4", len(ds.Train), len(ds.Val), len(ds.Test))
	}
	want := []string{"cancel_order", "contact_human_agent", "get_refund", "track_order"}
	if got := ds.Intents(); !slices.Equal(got, want) {
		t.Errorf("Intents = %q, want %q", got, want)
	}
	// Lines are where the instruction is; earlier responses span lines.
	if first := ds.Train[0]; first.Text != "where is my parcel 4471?" || first.Intent != "track_order" || first.Line != 2 {
		t.Errorf("first training example = %+v", ds.Train[0])
	}
	wantTest := []Example{
		{Text: "has my package left the warehouse yet", Intent: "track_order", Line: 7},
		{Text: "refund me for order 5520", Intent: "get_refund", Line: 45},
		{Text: "put me through to an agent", Intent: "contact_human_agent", Line: 53},
		{Text: "Put me through to an AGENT", Intent: "contact_human_agent", Line: 64},
	}
	if !slices.EqualFunc(ds.Test, wantTest, func(a, b Example) bool { return a.Text == b.Text && a.Intent == b.Intent && a.Line == b.Line }) {
		t.Errorf("Test = %+v\nwant %+v", ds.Test, wantTest)
	}
	for split, exs := range map[Split][]Example{SplitTrain: ds.Train, SplitVal: ds.Val, SplitTest: ds.Test} {
		for _, ex := range exs {
			if HashSplit(ex.Text) != split || len(ex.Entities) != 0 {
				t.Errorf("%+v is in %s; HashSplit says %s", ex, split, HashSplit(ex.Text))
			}
		}
	}

	// The same file given explicitly as bitext, and as generic CSV, which
	// has no text column to read.
	data, err := os.ReadFile(bitextSample)
	if err != nil {
		t.Fatal(err)
	}
	if explicit, err := Parse("any.name", data, FormatBitext); err != nil || len(explicit.Train) != 21 {
		t.Errorf("explicit bitext: %v", err)
	}
	checkParseError(t, parseBad(t, "b.csv", string(data), FormatCSV), 1, "no text column")
}

func TestParseGuessesBitext(t *testing.T) {
	for _, tc := range []struct {
		name, file, src string
		want            Format
	}{
		{"only the two columns", "b.csv", "instruction,intent\nwhere is my order,track_order\n", FormatBitext},
		{"header names in another case and order", "b.CSV", " Intent ,INSTRUCTION\ntrack_order,where is my order\n", FormatBitext},
		{"a text column wins", "b.csv", "text,intent,instruction\nwhere is it,track_order,ignored\n", FormatCSV},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := Parse(tc.file, []byte(tc.src), FormatAuto)
			if err != nil {
				t.Fatal(err)
			}
			if ds.Format != tc.want {
				t.Errorf("Format = %q, want %q", ds.Format, tc.want)
			}
		})
	}
	// Without an intent column it is not Bitext, and the generic CSV
	// reader says what it misses.
	err := parseBad(t, "b.csv", "instruction,category\nwhere is my order,track_order\n", FormatAuto)
	checkParseError(t, err, 1, "no text column")
}

func TestParseBitextErrors(t *testing.T) {
	const header = "context,role,instruction,intent,response\n"
	for _, tc := range []struct {
		name   string
		src    string
		line   int
		reason string
	}{
		{"empty file", "", 0, "empty file"},
		{"no instruction column", "text,intent\nhi,greet\n", 1, `no "instruction" column`},
		{"no intent column", "instruction,category\nhi,greet\n", 1, `no "intent" column`},
		{"instruction twice", "instruction,intent,Instruction\nhi,greet,hi\n", 1, `names the "instruction" column twice (columns 1 and 3)`},
		{"empty instruction", header + "cs,va,where is it,track_order,ok\ncs,va,  ,track_order,ok\n", 3, `empty text in column "instruction"`},
		{"empty intent after a multi-line response", header + "cs,va,\"where\nis it\",,\"a\nb\"\n", 3, `column "intent": empty intent`},
		{"control character in intent", header + "cs,va,hi,gre\x01et,ok\n", 2, "control character"},
		{"short row", header + "cs,va,hi,greet\n", 2, "different number of fields"},
		{"unclosed quote", header + "cs,va,\"hi,greet,ok\n", 2, `extraneous or missing "`},
		{"header only", header, 0, "no training examples"},
		{"every row held out", header + "cs,va,put me through to an agent,agent,ok\ncs,va,how do i call off an order,cancel,ok\n", 0,
			"the hash split put all 2 rows in the validation and test splits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkParseError(t, parseBad(t, "b.csv", tc.src, FormatBitext), tc.line, tc.reason)
		})
	}
}

func FuzzParseBitext(f *testing.F) {
	sample, err := os.ReadFile(bitextSample)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		string(sample),
		"instruction,intent\nwhere is my order,track_order\n",
		"\ufeffintent,instruction\r\ncancel_order,\"stop\nit\"\r\n",
		"context,role,instruction,intent\ncs,va,\"unclosed,x\n",
		"instruction,intent,instruction\na,b,c\n",
	} {
		f.Add([]byte(s))
	}
	if path, ok := findPublicDataset("bitext_customer_support/Bitext_Sample_Customer_Support_Training_Dataset.csv"); ok {
		f.Add(headRecords(f, path, 20))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, err := Parse("fuzz.csv", data, FormatBitext)
		checkParsed(t, data, ds, err)
		if err != nil {
			return
		}
		for split, exs := range map[Split][]Example{SplitTrain: ds.Train, SplitVal: ds.Val, SplitTest: ds.Test} {
			for _, ex := range exs {
				if HashSplit(ex.Text) != split {
					t.Fatalf("%q is in %s; HashSplit says %s", ex.Text, split, HashSplit(ex.Text))
				}
			}
		}
	})
}

// headRecords returns the header and the first n records of a CSV file,
// written back as CSV: whole records, since responses span lines.
func headRecords(f *testing.F, path string, n int) []byte {
	f.Helper()
	file, err := os.Open(path)
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	r := csv.NewReader(file)
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	for i := 0; i <= n; i++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			f.Fatal(err)
		}
		if err := w.Write(rec); err != nil {
			f.Fatal(err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Fatal(err)
	}
	return out.Bytes()
}

func TestLoadBitextReal(t *testing.T) {
	path := datasets.Path(t, "bitext_customer_support/Bitext_Sample_Customer_Support_Training_Dataset.csv")
	ds, err := Load(path, FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Format != FormatBitext {
		t.Fatalf("Format = %q, want %q", ds.Format, FormatBitext)
	}
	total := len(ds.Train) + len(ds.Val) + len(ds.Test)
	if total != 4514 {
		t.Errorf("%d rows, want 4514", total)
	}
	if n := len(ds.Intents()); n != 27 {
		t.Errorf("%d intents in train, want 27", n)
	}
	// The split is fixed by the hash: 3,585 / 456 / 473 (79.4 / 10.1 /
	// 10.5%). Exact counts catch a changed hash; the share bounds say what
	// the numbers mean.
	for _, tc := range []struct {
		split         Split
		exs           []Example
		want          int
		lo, hi        float64
		intentsWanted int
	}{
		{SplitTrain, ds.Train, 3585, 0.77, 0.83, 27},
		{SplitVal, ds.Val, 456, 0.08, 0.12, 27},
		{SplitTest, ds.Test, 473, 0.08, 0.12, 27},
	} {
		share := float64(len(tc.exs)) / float64(total)
		intents := map[string]bool{}
		for _, ex := range tc.exs {
			intents[ex.Intent] = true
		}
		if len(tc.exs) != tc.want || share < tc.lo || share > tc.hi || len(intents) != tc.intentsWanted {
			t.Errorf("%s: %d items (%.1f%%), %d intents; want %d in [%.0f%%, %.0f%%], %d intents",
				tc.split, len(tc.exs), 100*share, len(intents), tc.want, 100*tc.lo, 100*tc.hi, tc.intentsWanted)
		}
	}
	// No instruction is in two splits, whatever its case.
	where := map[string]Split{}
	for split, exs := range map[Split][]Example{SplitTrain: ds.Train, SplitVal: ds.Val, SplitTest: ds.Test} {
		for _, ex := range exs {
			key := strings.ToLower(ex.Text)
			if prev, ok := where[key]; ok && prev != split {
				t.Fatalf("%q is in %s and %s", ex.Text, prev, split)
			}
			where[key] = split
		}
	}
}

func TestParseSplit(t *testing.T) {
	ds := &Dataset{Train: []Example{{Text: "a"}}, Val: []Example{{Text: "b"}}, Test: []Example{{Text: "c"}}}
	for _, name := range []string{"train", "val", "test"} {
		sp, err := ParseSplit(name)
		if err != nil || string(sp) != name || len(ds.Examples(sp)) != 1 {
			t.Errorf("%q: %q, %v", name, sp, err)
		}
	}
	if got := ds.Examples(SplitVal)[0].Text; got != "b" {
		t.Errorf("val example %q", got)
	}
	if _, err := ParseSplit("dev"); err == nil || !strings.Contains(err.Error(), "want test, val or train") {
		t.Errorf("dev: %v", err)
	}
}
