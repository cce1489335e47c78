package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
)

// seedStore makes DIR/parley.db with one customer who has an order, a
// conversation with messages, a ticket and feedback, and returns DIR and the
// customer's id.
func seedStore(t *testing.T) (string, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := boltdb.Open(filepath.Join(dir, storeFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Import(ctx, crm.Snapshot{
		Customers:     []crm.Customer{{ID: "cus_ada", Name: "Ada", Email: "ada@example.com"}, {ID: "cus_bob", Name: "Bob"}},
		Orders:        []crm.Order{{ID: "1042", CustomerID: "cus_ada", Status: crm.OrderShipped}},
		Conversations: []crm.Conversation{{ID: "conv_1", Channel: crm.ChannelWeb, CustomerID: "cus_ada"}},
		Messages: []crm.Message{
			{ConversationID: "conv_1", Sender: crm.SenderCustomer, Text: "where is 1042?"},
			{ConversationID: "conv_1", Sender: crm.SenderBot, Text: "On its way."},
		},
		Tickets:  []crm.Ticket{{ID: "tkt_1", CustomerID: "cus_ada", Subject: "Late"}},
		Feedback: []crm.Feedback{{ConversationID: "conv_1", Score: 4}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir, "cus_ada"
}

// run runs the program in-process with input as its standard input (the
// erase confirmation, passwords) and returns its exit code and output.
func run(t *testing.T, input string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := NewMain(&out, &errb)
	m.Stdin = strings.NewReader(input)
	code = m.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

func stats(t *testing.T, dir string) crm.Stats {
	t.Helper()
	db, err := boltdb.Open(filepath.Join(dir, storeFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := db.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestCustomerExport(t *testing.T) {
	dir, id := seedStore(t)
	outFile := filepath.Join(t.TempDir(), "ada.json")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		fromFile bool
		wantErr  string
	}{
		{"to stdout", []string{"customer", "export", "--data-dir", dir, id}, 0, false, ""},
		{"to a file, flags after the id", []string{"customer", "export", id, "--data-dir", dir, "--out", outFile}, 0, true, ""},
		{"unknown customer", []string{"customer", "export", "--data-dir", dir, "cus_nobody"}, 1, false, "not found"},
		{"missing id", []string{"customer", "export", "--data-dir", dir}, 2, false, "missing customer ID"},
		{"two ids", []string{"customer", "export", "--data-dir", dir, id, "cus_bob"}, 2, false, "unexpected argument"},
		{"no store", []string{"customer", "export", "--data-dir", t.TempDir(), id}, 1, false, "no store at"},
		{"unknown sub-command", []string{"customer", "delete", id}, 2, false, "unknown customer command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			if tt.wantErr != "" {
				if !strings.Contains(stderr, tt.wantErr) {
					t.Errorf("stderr %q does not say %q", stderr, tt.wantErr)
				}
				return
			}
			doc := []byte(stdout)
			if tt.fromFile {
				var err error
				if doc, err = os.ReadFile(outFile); err != nil {
					t.Fatal(err)
				}
				if fi, _ := os.Stat(outFile); fi.Mode().Perm() != 0o600 {
					t.Errorf("export file mode %v, want 0600", fi.Mode().Perm())
				}
			}
			var ex crm.Export
			if err := json.Unmarshal(doc, &ex); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, doc)
			}
			if ex.Customer.ID != id || len(ex.Orders) != 1 || len(ex.Conversations) != 1 || len(ex.Conversations[0].Messages) != 2 ||
				len(ex.Tickets) != 1 || len(ex.Feedback) != 1 {
				t.Errorf("export incomplete: %s", doc)
			}
		})
	}
}

func TestCustomerErase(t *testing.T) {
	tests := []struct {
		name       string
		input      string
		flags      []string
		wantCode   int
		wantErased bool
	}{
		{"declined", "n\n", nil, 1, false},
		{"no answer", "", nil, 1, false},
		{"confirmed", "yes\n", nil, 0, true},
		{"--yes", "", []string{"--yes"}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, id := seedStore(t)
			args := append(append([]string{"customer", "erase", "--data-dir", dir}, tt.flags...), id)
			code, stdout, stderr := run(t, tt.input, args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
			if tt.flags == nil && !strings.Contains(stdout, "Erase customer cus_ada (Ada <ada@example.com>)") {
				t.Errorf("no question asked: %q", stdout)
			}
			st := stats(t, dir)
			if !tt.wantErased {
				if st.Customers != 2 || !strings.Contains(stderr, "nothing erased") {
					t.Errorf("declined erasure: %+v, stderr %q", st, stderr)
				}
				return
			}
			want := "erased customer cus_ada: 1 orders, 1 conversations, 2 messages, 1 tickets, 1 feedback"
			if !strings.Contains(stdout, want) {
				t.Errorf("stdout %q does not say %q", stdout, want)
			}
			if st != (crm.Stats{Customers: 1}) {
				t.Errorf("after erasure: %+v, want only Bob left", st)
			}
		})
	}
	dir, _ := seedStore(t)
	if code, _, stderr := run(t, "", "customer", "erase", "--data-dir", dir, "--yes", "cus_nobody"); code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("unknown customer: exit %d, %q", code, stderr)
	}
}

func TestDataDirFromEnv(t *testing.T) {
	dir, id := seedStore(t)
	t.Setenv("PARLEY_DATA_DIR", dir)
	if code, stdout, stderr := run(t, "", "customer", "export", id); code != 0 || !strings.Contains(stdout, `"cus_ada"`) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
