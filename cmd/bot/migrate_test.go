package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/crm/postgres"
	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/internal/shoptest"
)

// fillStore opens the bbolt store at path (the demo shop is loaded when
// it is new) and adds, through the store's API, what a served store
// holds besides: a customer who talked to the bot and then to an agent
// (handoff, claim, note, resolve), an anonymous visitor, a ticket,
// ratings, agents, canned responses and Slack's channel state.
func fillStore(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	db, err := boltdb.Open(path, &boltdb.Options{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := shop.EnsureSeeded(ctx, db, time.Now()); err != nil {
		t.Fatal(err)
	}
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	cus, err := db.CreateCustomer(ctx, crm.Customer{Name: "Grace", Email: "grace@example.com",
		Identities: []crm.Identity{{Channel: crm.ChannelWeb, ExternalID: "v-grace"}}, Attributes: map[string]string{"vip": "yes"}})
	check(err)
	for _, a := range []crm.Agent{
		{Login: "sam@example.com", Name: "Sam", Role: crm.RoleAgent, Teams: []string{"billing"}},
		{Login: "kim@example.com", Name: "Kim", Role: crm.RoleAdmin},
	} {
		_, err := db.PutAgent(ctx, a, "correct horse battery")
		check(err)
	}
	conv, err := db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb, CustomerID: cus.ID})
	check(err)
	m1, _, err := db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "I was charged twice", ClientID: "g1"})
	check(err)
	_, _, _, err = db.CommitTurn(ctx, crm.Turn{ConversationID: conv.ID, Seq: m1.Seq, Parse: json.RawMessage(`{"intent":"billing","confidence":0.9}`),
		Replies: []crm.Message{{Sender: crm.SenderBot, Text: "Let me connect you with our billing team.", QuickReplies: []string{"ok"}}},
		Events:  []crm.Event{{Type: crm.EventHandoff, Actor: crm.ActorBot, Queue: "billing", Text: "double charge"}},
		Update: func(c *crm.Conversation) error {
			c.State, c.Queue, c.Priority, c.RoutingReason, c.SatisfactionRisk = crm.StateWaiting, "billing", crm.PriorityHigh, "billing words", 0.4
			c.Slots = map[string]string{"order_id": "1042"}
			return nil
		}})
	check(err)
	_, _, err = db.Transition(ctx, conv.ID, crm.Event{Type: crm.EventClaim, Actor: "sam@example.com", Agent: "sam@example.com", Queue: "billing"},
		func(c *crm.Conversation) error {
			c.State, c.AssignedAgent = crm.StateAgent, "sam@example.com"
			return nil
		})
	check(err)
	_, _, err = db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderAgent, AgentID: "sam@example.com", Text: "Hi Grace, I see it."})
	check(err)
	_, _, err = db.Transition(ctx, conv.ID, crm.Event{Type: crm.EventNote, Actor: "sam@example.com", Text: "refund the second charge"}, nil)
	check(err)
	_, _, err = db.AppendMessage(ctx, crm.Message{ConversationID: conv.ID, Sender: crm.SenderCustomer, Text: "thank you", ClientID: "g2"})
	check(err)
	_, _, err = db.Transition(ctx, conv.ID, crm.Event{Type: crm.EventResolve, Actor: "sam@example.com"},
		func(c *crm.Conversation) error { c.State = crm.StateResolved; return nil })
	check(err)
	_, err = db.CreateTicket(ctx, crm.Ticket{CustomerID: cus.ID, Subject: "double charge", Topic: "refund_status", Conversations: []string{conv.ID},
		History: []crm.TicketEvent{{At: time.Now(), Actor: "sam@example.com", Note: "refund asked"}}})
	check(err)
	_, err = db.AddFeedback(ctx, crm.Feedback{ConversationID: conv.ID, Score: 5, Comment: "fast"})
	check(err)
	anon, err := db.CreateConversation(ctx, crm.Conversation{Channel: crm.ChannelWeb})
	check(err)
	_, _, err = db.AppendMessage(ctx, crm.Message{ConversationID: anon.ID, Sender: crm.SenderCustomer, Text: "just looking", ClientID: "a1"})
	check(err)
	_, err = db.AddFeedback(ctx, crm.Feedback{ConversationID: anon.ID, Score: 3})
	check(err)
	for _, c := range []crm.CannedResponse{{Shortcut: "refund-sent", Title: "Refund sent", Text: "Your refund is on its way."},
		{Shortcut: "hello", Title: "Hello", Text: "Hello, how can I help?", UpdatedBy: "kim@example.com"}} {
		_, err := db.PutCanned(ctx, c)
		check(err)
	}
	for i, k := range []string{"slack:event:Ev01", "slack:event:Ev02"} {
		_, err := db.MarkSeen(ctx, k, time.Now().Add(time.Duration(i)*time.Second))
		check(err)
	}
	check(db.PutLink(ctx, "slack:thread:C1/1712.0001", conv.ID))
	check(db.PutLink(ctx, "slack:conversation:"+conv.ID, "C1/1712.0001"))
}

// sameJSON fails the test when a and b do not encode alike.
func sameJSON(t *testing.T, what string, a, b any) {
	t.Helper()
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !bytes.Equal(ja, jb) {
		t.Errorf("%s differs:\nbbolt    %s\npostgres %s", what, ja, jb)
	}
}

// compareStores reads every record of the bbolt store at path and of the
// database through the crm.Store API and checks they are the same.
func compareStores(t *testing.T, path, pgURL string) {
	t.Helper()
	ctx := context.Background()
	src, err := boltdb.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, pgURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	ss, err1 := src.Stats(ctx)
	ds, err2 := dst.Stats(ctx)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	if ss != ds || ss.Events == 0 || ss.Canned == 0 || ss.Agents == 0 || ss.Feedback == 0 || ss.Tickets == 0 {
		t.Errorf("stats: bbolt %+v, postgres %+v", ss, ds)
	}
	ids, err := src.CustomerIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dids, err := dst.CustomerIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "customer ids", ids, dids)
	export := func(st crm.Store, id string) crm.Export {
		var b bytes.Buffer
		if err := st.ExportCustomer(ctx, id, &b); err != nil {
			t.Fatalf("export %s: %v", id, err)
		}
		var ex crm.Export
		if err := json.Unmarshal(b.Bytes(), &ex); err != nil {
			t.Fatal(err)
		}
		ex.ExportedAt = time.Time{}
		return ex
	}
	for _, id := range ids {
		sameJSON(t, "export of customer "+id, export(src, id), export(dst, id))
	}
	convs, err := src.Conversations(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	dconvs, err := dst.Conversations(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "conversations", convs, dconvs)
	for _, c := range convs {
		sm, err1 := src.MessagesAfter(ctx, c.ID, 0, 0)
		dm, err2 := dst.MessagesAfter(ctx, c.ID, 0, 0)
		se, err3 := src.Events(ctx, c.ID, 0, 0)
		de, err4 := dst.Events(ctx, c.ID, 0, 0)
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			t.Fatal(err)
		}
		sameJSON(t, "messages of "+c.ID, sm, dm)
		sameJSON(t, "events of "+c.ID, se, de)
		sf, err1 := src.ConversationFeedback(ctx, c.ID)
		df, err2 := dst.ConversationFeedback(ctx, c.ID)
		if errors.Is(err1, crm.ErrNotFound) != errors.Is(err2, crm.ErrNotFound) {
			t.Errorf("feedback of %s: bbolt %v, postgres %v", c.ID, err1, err2)
		}
		sameJSON(t, "feedback of "+c.ID, sf, df)
	}
	sa, err1 := src.Agents(ctx)
	da, err2 := dst.Agents(ctx)
	sc, err3 := src.CannedResponses(ctx)
	dc, err4 := dst.CannedResponses(ctx)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "agents", sa, da)
	sameJSON(t, "canned responses", sc, dc)
	if _, err := dst.Authenticate(ctx, "sam@example.com", "correct horse battery"); err != nil {
		t.Errorf("the agent's password no longer works: %v", err)
	}
	err = src.ReadAll(ctx, func(r *boltdb.Records) error {
		return errors.Join(
			r.Links(func(k, v string) error {
				if got, err := dst.Link(ctx, k); err != nil || got != v {
					t.Errorf("link %s: %q, %v; want %q", k, got, err, v)
				}
				return nil
			}),
			r.Seen(func(k string, at time.Time) error {
				if fresh, err := dst.MarkSeen(ctx, k, time.Now()); err != nil || fresh {
					t.Errorf("seen key %s is new to the database (%v)", k, err)
				}
				return nil
			}))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// pgStats counts the records of the database at pgURL.
func pgStats(t *testing.T, pgURL string) crm.Stats {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgURL, nil)
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

// TestMigrate copies a filled store into a new database, compares every
// record, checks that the database signs visitors' tokens with the file's
// key, and runs the copy again, which adds nothing.
func TestMigrate(t *testing.T) {
	pg := clusterPostgres(t)
	t.Setenv("PARLEY_TOKEN_KEY", "")
	dir := t.TempDir()
	path := filepath.Join(dir, storeFile)
	fillStore(t, path)
	key, err := loadTokenKey(filepath.Join(dir, tokenKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "", "migrate", "--dry-run", "--from", path, "--to", pg)
	if code != 0 || !strings.Contains(out, "dry run: would copy 3") {
		t.Fatalf("migrate --dry-run: exit %d\n%s\n%s", code, out, errOut)
	}
	if st := pgStats(t, pg); st != (crm.Stats{}) {
		t.Fatalf("after a dry run the database holds %+v", st)
	}
	code, out, errOut = run(t, "", "migrate", "--from", path, "--to", pg)
	if code != 0 || !strings.Contains(out, "every count matches") {
		t.Fatalf("migrate: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"customers: ", "messages: ", "channel links: 2 of 2", "visitor-token key: copied"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("progress lacks %q:\n%s", want, errOut)
		}
	}
	compareStores(t, path, pg)

	db, err := postgres.Open(context.Background(), pg, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := &serveStore{Store: db, pg: db, locker: db.TurnLocker()}
	defer st.Close()
	if got, err := serveTokenKey(context.Background(), st, t.TempDir()); err != nil || !bytes.Equal(got, key) {
		t.Errorf("the database's token key is %x (%v), want the file's %x", got, err, key)
	}
	// Serve would not load the demo shop over the copy.
	if _, err := db.Link(context.Background(), seededLink); err != nil {
		t.Errorf("seeded mark: %v", err)
	}

	code, out, errOut = run(t, "", "migrate", "--from", path, "--to", pg)
	if code != 0 || !strings.Contains(errOut, "copied: 0 records added") || !strings.Contains(out, "every count matches") {
		t.Errorf("second migrate: exit %d\n%s\n%s", code, out, errOut)
	}
}

// cancelAfter is a stderr that cancels a run once it has reported n
// batches.
type cancelAfter struct {
	mu     sync.Mutex // guards buf and n
	buf    bytes.Buffer
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	if c.n -= strings.Count(string(p), " of "); c.n <= 0 {
		c.cancel()
	}
	return len(p), nil
}

// TestMigrateResumes interrupts a copy after a few batches, as Ctrl-C
// does, then runs it again: it finishes with equal counts and nothing
// doubled.
func TestMigrateResumes(t *testing.T) {
	pg := clusterPostgres(t)
	path := filepath.Join(t.TempDir(), storeFile)
	fillStore(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &cancelAfter{n: 4, cancel: cancel}
	var out bytes.Buffer
	code := NewMain(&out, stderr).Run(ctx, []string{"migrate", "--from", path, "--to", pg, "--batch", "7"})
	if code != 1 || !strings.Contains(stderr.buf.String(), "interrupted") || !strings.Contains(stderr.buf.String(), "run the same command again") {
		t.Fatalf("interrupted migrate: exit %d\n%s\n%s", code, out.String(), stderr.buf.String())
	}
	if part := pgStats(t, pg); part.Customers == 0 || part.Messages != 0 {
		t.Fatalf("after the interruption the database holds %+v; want some customers and no messages yet", part)
	}

	code, stdout, errOut := run(t, "", "migrate", "--from", path, "--to", pg, "--batch", "7")
	if code != 0 || !strings.Contains(stdout, "every count matches") {
		t.Fatalf("resumed migrate: exit %d\n%s\n%s", code, stdout, errOut)
	}
	if !strings.Contains(errOut, "already there") || strings.Contains(errOut, "copied: 0 records added") {
		t.Errorf("the resumed run neither skipped nor added records:\n%s", errOut)
	}
	compareStores(t, path, pg)
}

// TestMigrateRefuses checks the errors a user can meet: each says what is
// wrong and what to do, and nothing is copied.
func TestMigrateRefuses(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, storeFile)
	fillStore(t, path)
	notStore := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notStore, bytes.Repeat([]byte("not a database\n"), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	const pgURL = "postgres://root@127.0.0.1:5432/test?sslmode=disable"
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no from", []string{"--to", pgURL}, 2, "--from is required"},
		{"no to", []string{"--from", path}, 2, "--to (or PARLEY_STORE) is required"},
		{"to not postgres", []string{"--from", path, "--to", "mysql://root@host/db"}, 2, "want a postgres://"},
		{"bad batch", []string{"--from", path, "--to", pgURL, "--batch", "0"}, 2, "--batch 0"},
		{"missing file", []string{"--from", filepath.Join(dir, "nope.db"), "--to", pgURL}, 1, "no such file"},
		{"folder", []string{"--from", dir, "--to", pgURL}, 1, "is a folder"},
		{"not a store", []string{"--from", notStore, "--to", pgURL}, 1, "not a Parley store"},
		{"missing token key", []string{"--from", path, "--to", pgURL, "--token-key", notStore + "x"}, 1, "--token-key"},
		{"no database", []string{"--from", path, "--to", "postgres://root@127.0.0.1:1/test?sslmode=disable&connect_timeout=2"}, 1, "is PostgreSQL running"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PARLEY_STORE", "")
			code, _, errOut := run(t, "", append([]string{"migrate"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, %q; want exit %d and %q", code, errOut, tc.code, tc.want)
			}
		})
	}
	t.Run("held by another process", func(t *testing.T) {
		db, err := boltdb.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		code, _, errOut := run(t, "", "migrate", "--from", path, "--to", pgURL)
		if code != 1 || !strings.Contains(errOut, "stop bot serve") {
			t.Errorf("exit %d, %q; want exit 1 and \"stop bot serve\"", code, errOut)
		}
	})
}

// TestMigrateConflicts copies into databases that hold other data: a
// record under a copied id with other content, another visitor-token key,
// records the file lacks. Each fails with the reason.
func TestMigrateConflicts(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, storeFile)
	fillStore(t, path)
	if _, err := loadTokenKey(filepath.Join(dir, tokenKeyFile)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	src, err := boltdb.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := src.CustomerIDs(ctx)
	src.Close()
	if err != nil || len(ids) == 0 {
		t.Fatal(ids, err)
	}
	for _, tc := range []struct {
		name  string
		setup func(db *postgres.DB) error
		want  string
	}{
		{"customer with other content", func(db *postgres.DB) error {
			_, err := db.CreateCustomer(ctx, crm.Customer{ID: ids[0], Name: "Someone Else"})
			return err
		}, "differ from the ones copied (customer"},
		{"another token key", func(db *postgres.DB) error {
			return db.PutLink(ctx, tokenKeyLink, strings.Repeat("ab", 32))
		}, "different visitor-token key"},
		{"records the file lacks", func(db *postgres.DB) error {
			_, err := db.PutCanned(ctx, crm.CannedResponse{Shortcut: "only-here", Title: "x", Text: "y"})
			return err
		}, "counts differ: canned"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pg := clusterPostgres(t)
			db, err := postgres.Open(ctx, pg, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = tc.setup(db)
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			code, out, errOut := run(t, "", "migrate", "--from", path, "--to", pg)
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want 1 and %q:\n%s\n%s", code, tc.want, out, errOut)
			}
		})
	}
}

// TestMigrateVisitorResumes chats with a bbolt-backed server, migrates its
// store, and resumes the visitor's conversation with the same token on a
// server on the PostgreSQL database.
func TestMigrateVisitorResumes(t *testing.T) {
	pg := clusterPostgres(t)
	t.Setenv("PARLEY_TOKEN_KEY", "")
	model := shoptest.ModelDir(t)
	dataA, dataB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	s := startServe(t, "--data-dir", dataA, "--model", model)
	conn, welcome := dialChat(t, s.base, "")
	send(t, conn, map[string]any{"v": 1, "type": "message", "client_id": "c1", "text": "where is my order 1042?"})
	reply := readUntil(t, conn, func(f wsFrame) bool { return f.Type == "message" && f.Sender == "bot" })
	conn.Close()
	s.stop(t)

	if code, out, errOut := run(t, "", "migrate", "--from", filepath.Join(dataA, storeFile), "--to", pg); code != 0 {
		t.Fatalf("migrate: exit %d\n%s\n%s", code, out, errOut)
	}
	s = startServe(t, "--data-dir", dataB, "--model", model, "--store", pg)
	if strings.Contains(s.errOut.String(), "loaded the demo shop") {
		t.Errorf("the server loaded the demo shop over the migrated data: %s", s.errOut)
	}
	conn, again := helloAt(t, s.base, welcome.Token, 0)
	if again.ConversationID != welcome.ConversationID || again.Seq != reply.Seq {
		t.Fatalf("on PostgreSQL the token resumed conversation %s at seq %d, want %s at %d",
			again.ConversationID, again.Seq, welcome.ConversationID, reply.Seq)
	}
	if first := readUntil(t, conn, func(f wsFrame) bool { return f.Type == "message" }); first.ClientID != "c1" || first.Seq != 1 {
		t.Errorf("history starts with %+v, want the customer's message c1", first)
	}
}
