package dataset

import (
	"reflect"
	"testing"
)

func TestParseCSV(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want []Example
	}{
		{
			name: "banking77 style",
			src:  "text,category\nwhere is my card?,card_arrival\n\"I paid twice, why?\",duplicate_charge\n",
			want: []Example{
				{Text: "where is my card?", Intent: "card_arrival", Line: 2},
				{Text: "I paid twice, why?", Intent: "duplicate_charge", Line: 3},
			},
		},
		{
			name: "quoted text over two lines",
			src:  "text,category\n\"my card\narrived broken\",card_damaged\nthanks,other\n",
			want: []Example{
				{Text: "my card\narrived broken", Intent: "card_damaged", Line: 2},
				{Text: "thanks", Intent: "other", Line: 4},
			},
		},
		{
			name: "other column names and order, extra column, CRLF",
			src:  "id,Intent, Utterance \r\n1,greet,hello there\r\n2,bye, see you \r\n",
			want: []Example{
				{Text: "hello there", Intent: "greet", Line: 2},
				{Text: "see you", Intent: "bye", Line: 3},
			},
		},
		{
			name: "sentence and label",
			src:  "label,sentence\ngreet,hi\n",
			want: []Example{{Text: "hi", Intent: "greet", Line: 2}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := Parse("data.csv", []byte(tc.src), FormatCSV)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ds.Train, tc.want) || len(ds.Val)+len(ds.Test) != 0 {
				t.Errorf("Train = %+v (Val %d, Test %d)\nwant %+v", ds.Train, len(ds.Val), len(ds.Test), tc.want)
			}
		})
	}
}

func TestParseCSVErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		src    string
		line   int
		reason string
	}{
		{"empty file", "", 0, "empty file"},
		{"no label column", "text,answer\nhi,hello\n", 1, "no label column (name one of: category, intent, label)"},
		{"no text column", "question,intent\nhi,greet\n", 1, "no text column (name one of: text, sentence, utterance)"},
		{"two label columns", "text,intent,category\nhi,greet,social\n", 1, `columns "intent" and "category" both look like the label column`},
		{"empty text", "text,category\nhi,greet\n  ,greet\n", 3, `empty text in column "text"`},
		{"empty label", "text,category\nhi,greet\nbye,\n", 3, `column "category": empty label`},
		{"empty label after a multi-line text", "text,category\n\"a\nb\",\n", 3, "empty label"},
		{"too many fields", "text,category\nhi,greet\nhi,there,greet\n", 3, "different number of fields"},
		{"too few fields", "text,category\nhi,greet\nhello\n", 3, "different number of fields"},
		{"bare quote", "text,category\nhi,greet\nsay \"hi\",greet\n", 3, `bare " in non-quoted-field`},
		{"unclosed quote", "text,category\nhi,greet\n\"hello,greet\nbye,x\n", 3, `extraneous or missing " in quoted-field`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkParseError(t, parseBad(t, "data.csv", tc.src, FormatCSV), tc.line, tc.reason)
		})
	}
}
