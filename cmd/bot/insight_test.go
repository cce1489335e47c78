package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/insight"
	"github.com/parleyhq/parley/internal/shoptest"
)

// unknownQuestions are questions the demo shop's bot has no intent for, in
// two kinds; insightStore stores them marked out of scope.
var unknownQuestions = []string{
	"how do I check my gift card balance",
	"can I pay with a gift card",
	"my gift card does not work at checkout",
	"is there money left on my gift card",
	"how many loyalty points do I have",
	"can I redeem my loyalty points",
	"do loyalty points expire",
	"=HYPERLINK(\"http://example.com\") loyalty points",
}

// insightStore makes DIR/parley.db with open conversations whose customer
// messages are unknownQuestions (with a parse by the shop model, marked out
// of scope), an in-scope message, a message without a parse and bot
// replies, plus a resolved conversation of a customer (read) and a resolved
// conversation without a customer (which the store cannot list). It returns
// DIR.
func insightStore(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	model := shoptest.Model(t)
	snap := crm.Snapshot{
		Customers: []crm.Customer{{ID: "cus_ada", Name: "Ada"}, {ID: "cus_bob", Name: "Bob"}},
		Conversations: []crm.Conversation{
			{ID: "conv_1", Channel: crm.ChannelWeb, CustomerID: "cus_ada"},
			{ID: "conv_2", Channel: crm.ChannelWeb},
			{ID: "conv_3", Channel: crm.ChannelWeb, State: crm.StateResolved},
			{ID: "conv_4", Channel: crm.ChannelWeb, CustomerID: "cus_bob", State: crm.StateResolved},
		},
	}
	for i, text := range unknownQuestions {
		res, err := model.Parse(ctx, text)
		if err != nil {
			t.Fatal(err)
		}
		res.InScope, res.Confidence = false, 0.1
		raw, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		conv := fmt.Sprintf("conv_%d", 1+i%2)
		snap.Messages = append(snap.Messages,
			crm.Message{ConversationID: conv, Sender: crm.SenderCustomer, Text: text, Parse: raw},
			crm.Message{ConversationID: conv, Sender: crm.SenderBot, Text: "Sorry, I can't help with that."})
	}
	known, err := model.Parse(ctx, "where is my order")
	if err != nil {
		t.Fatal(err)
	}
	known.InScope, known.Confidence = true, 0.99
	raw, err := json.Marshal(known)
	if err != nil {
		t.Fatal(err)
	}
	snap.Messages = append(snap.Messages,
		crm.Message{ConversationID: "conv_1", Sender: crm.SenderCustomer, Text: "where is my order", Parse: raw},
		crm.Message{ConversationID: "conv_2", Sender: crm.SenderCustomer, Text: "do you sell umbrellas"},
		crm.Message{ConversationID: "conv_3", Sender: crm.SenderCustomer, Text: "an anonymous visitor's closed chat", Parse: raw},
		crm.Message{ConversationID: "conv_4", Sender: crm.SenderCustomer, Text: "where is my order", Parse: raw})
	dir := t.TempDir()
	db, err := boltdb.Open(filepath.Join(dir, storeFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Import(ctx, snap); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestInsight(t *testing.T) {
	dir := insightStore(t)
	model := shoptest.ModelDir(t)
	mapFile := filepath.Join(t.TempDir(), "map.csv")

	code, out, errOut := run(t, "", "insight", "--data-dir", dir, "--model", model, "--k", "2", "--json", "--map", mapFile)
	if code != 0 {
		t.Fatalf("insight --json: exit %d: %s", code, errOut)
	}
	var r insight.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("--json output is not one report: %v\n%s", err, out)
	}
	// The message without a parse was parsed with the model; whether the
	// model understands it is up to the model.
	// Every conversation counts, the closed one of an anonymous visitor too.
	if r.Scanned != len(unknownQuestions)+4 || r.Parsed != 1 || r.Analysed < len(unknownQuestions) || r.Analysed > len(unknownQuestions)+1 {
		t.Errorf("scanned %d, parsed %d, analysed %d; want %d, 1, %d or one more", r.Scanned, r.Parsed, r.Analysed, len(unknownQuestions)+4, len(unknownQuestions))
	}
	if r.K != 2 || len(r.Clusters) != 2 || len(r.Map) != r.Analysed {
		t.Errorf("k %d, %d clusters, %d map points for %d messages", r.K, len(r.Clusters), len(r.Map), r.Analysed)
	}
	for _, c := range r.Clusters {
		if c.Name == "" || len(c.Examples) == 0 || c.Size == 0 {
			t.Errorf("cluster %+v lacks a name, examples or messages", c)
		}
	}

	f, err := os.Open(mapFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != r.Analysed+1 || strings.Join(rows[0], ",") != "conversation_id,seq,cluster,intent,x,y,text" {
		t.Fatalf("map has %d rows (want %d and a header): %q", len(rows), r.Analysed, rows[0])
	}
	formula := false
	for _, row := range rows[1:] {
		if strings.HasPrefix(row[6], "=") {
			t.Errorf("map cell %q would run as a spreadsheet formula", row[6])
		}
		formula = formula || strings.HasPrefix(row[6], "'=HYPERLINK")
	}
	if !formula {
		t.Error("the formula-like message is not on the map, escaped")
	}

	code, out, errOut = run(t, "", "insight", "--data-dir", dir, "--model", model, "--k", "2")
	if code != 0 {
		t.Fatalf("insight: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Read 12 customer messages (1 parsed now, 0 could not be parsed).",
		"2 groups, as asked", "1. Suggested intent: ", "2. Suggested intent: ", "examples:", `"can I pay with a gift card"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestInsightErrors(t *testing.T) {
	dir := insightStore(t)
	model := shoptest.ModelDir(t)
	empty := t.TempDir()
	db, err := boltdb.Open(filepath.Join(empty, storeFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	// A customer keeps the demo data out; one well understood message.
	err = db.Import(context.Background(), crm.Snapshot{
		Customers:     []crm.Customer{{ID: "cus_ada"}},
		Conversations: []crm.Conversation{{ID: "conv_1", Channel: crm.ChannelWeb, CustomerID: "cus_ada"}},
		Messages:      []crm.Message{{ConversationID: "conv_1", Sender: crm.SenderCustomer, Text: "hi", Parse: json.RawMessage(`{"intent":"greet","confidence":0.99,"in_scope":true,"embedding":[1,0]}`)}},
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string
		stderr   string
		noStderr bool
	}{
		{"nothing to analyse", []string{"--data-dir", empty}, 0, "Nothing to analyse: no customer message is out of scope or below confidence 0.50.", "", true},
		{"k above the messages", []string{"--data-dir", dir, "--k", "50"}, 1, "", "use a smaller --k", false},
		{"negative k", []string{"--data-dir", dir, "--k", "-1"}, 2, "", "want --k >= 0", false},
		{"min confidence above 1", []string{"--data-dir", dir, "--min-confidence", "2"}, 2, "", "--min-confidence <= 1", false},
		{"stray argument", []string{"--data-dir", dir, "extra"}, 2, "", `unexpected argument "extra"`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, "", append([]string{"insight", "--model", model}, tc.args...)...)
			if code != tc.code || !strings.Contains(out, tc.stdout) || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			if tc.noStderr && errOut != "" {
				t.Errorf("stderr: %s", errOut)
			}
		})
	}
}

func TestSpreadsheetSafe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=1+2", "'=1+2"}, {"+1", "'+1"}, {"-1", "'-1"}, {"@SUM(A1)", "'@SUM(A1)"}, {"\tx", "'\tx"},
		{"where is my order", "where is my order"}, {"", ""}, {"a=b", "a=b"},
	}
	for _, tc := range tests {
		if got := spreadsheetSafe(tc.in); got != tc.want {
			t.Errorf("spreadsheetSafe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
