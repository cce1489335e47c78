package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/internal/webhook"
	"github.com/parleyhq/parley/nlp"
)

func runChat(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("chat", "[--data-dir DIR] [--as EMAIL] [--debug]",
		"Chat with the bot in the terminal, with the real engine and store: one message a line,\n"+
			"Ctrl-D to end. The store is DATA-DIR/parley.db, seeded with the demo shop's customers on\n"+
			"first start; the model is DATA-DIR/model, trained from the embedded demo data when missing\n"+
			"("+demoTrainTime+").\n"+
			"--as starts the conversation as a known customer (try ana@example.com or ben@example.com).\n"+
			"A message over 4096 bytes is refused (as the web chat and the REST API refuse it), not cut.")
	dataDir := dataDirFlag(fs)
	as := fs.String("as", "", "chat as the customer with this `EMAIL`")
	debug := fs.Bool("debug", false, "show intent, confidence, entities, actions and state after each message")
	modelDir := fs.String("model", "", "model `directory` (default: DATA-DIR/model)")
	domainFile := fs.String("domain", "", "domain `file` (default: the embedded demo-shop domain)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	model, _, db, err := openModelAndStore(ctx, m, *dataDir, *modelDir)
	if err != nil {
		return err
	}
	defer db.Close()
	domain, err := loadDomain(*domainFile, model.Labels())
	if err != nil {
		return err
	}
	for _, h := range domain.Webhooks {
		if os.Getenv(h.SecretEnv) == "" {
			fmt.Fprintf(m.Stderr, "warning: webhook %s: %s is not set; its calls will fail politely\n", h.Name, h.SecretEnv)
		}
	}
	engine, err := dialog.New(dialog.Config{Domain: domain, Parser: model, Store: db,
		Caller: &webhook.Client{},
		// Errors only (a failed webhook, say), on stderr beside the chat.
		Logger: slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		return err
	}

	req := dialog.StartRequest{Channel: crm.ChannelCLI}
	who := "an anonymous visitor"
	if *as != "" {
		c, err := db.CustomerByEmail(ctx, *as)
		if errors.Is(err, crm.ErrNotFound) {
			return fmt.Errorf("no customer with e-mail %s in %s", *as, filepath.Join(*dataDir, storeFile))
		}
		if err != nil {
			return err
		}
		req.CustomerID = c.ID
		who = fmt.Sprintf("%s (%s, %s tier)", c.Name, c.ID, c.Tier)
	}
	conv, err := engine.Start(ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "Conversation %s as %s. Type a message (Ctrl-D to end).\n", conv.ID, who)

	lines, readErr := readLines(m.Stdin, crm.DefaultMaxMessageBytes)
	for {
		var l inputLine
		select {
		case <-ctx.Done():
			fmt.Fprintln(m.Stderr)
			return nil // Ctrl-C ends the chat like Ctrl-D
		case next, ok := <-lines:
			if !ok {
				return <-readErr
			}
			l = next
		}
		text := strings.TrimSpace(l.text)
		if l.cut {
			refuse(m, l.size)
			continue
		}
		if text == "" {
			continue
		}
		out, err := engine.Handle(ctx, dialog.Inbound{ConversationID: conv.ID, Text: text})
		switch {
		case err == nil:
			printOutcome(m, out, *debug)
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, crm.ErrTooLarge):
			refuse(m, len(text))
		case errors.Is(err, crm.ErrInvalid) && !utf8.ValidString(text):
			fmt.Fprintln(m.Stdout, "message not sent: it is not valid UTF-8 (is the terminal set to UTF-8?)")
		default:
			fmt.Fprintf(m.Stdout, "error: %v\n", err)
		}
	}
}

// refuse says that a message of size bytes was not sent: the store keeps
// messages of at most crm.DefaultMaxMessageBytes, and, as the web chat
// (too_large) and the REST API do, the terminal chat refuses a longer one
// rather than cut it, which could change what it asks.
func refuse(m *Main, size int) {
	fmt.Fprintf(m.Stdout, "message not sent: %d bytes, over the limit of %d bytes; send it in shorter parts\n",
		size, crm.DefaultMaxMessageBytes)
}

// inputLine is one line of the chat's input, without its line break ("\n"
// or "\r\n"). A line longer than the reader's limit is not kept: cut is set
// and text is empty. size counts the line's bytes either way.
type inputLine struct {
	text string
	size int
	cut  bool
}

// readLines reads r line by line on its own goroutine, so that the chat can
// stop on Ctrl-C while a read is blocked; the channel closes at the end of
// the input, and then the error (nil at EOF) is sent once. A line longer
// than limit bytes (plus room for white space around it) is counted, not
// kept, so that no line, however long, ends the chat or fills the memory. A
// read blocked on a terminal cannot be interrupted: that goroutine ends with
// the process.
func readLines(r io.Reader, limit int) (<-chan inputLine, <-chan error) {
	lines := make(chan inputLine)
	errc := make(chan error, 1)
	keep := 2*limit + 64 // a message at the limit, indented or padded, still fits
	go func() {
		defer close(lines)
		// Lines come in chunks of a quarter of the limit: a long line
		// costs no more memory than keep.
		in := bufio.NewReaderSize(r, max(16, limit/4))
		var buf []byte
		size := 0
		var before byte // the byte before the chunk being read
		for {
			chunk, err := in.ReadSlice('\n')
			size += len(chunk)
			if size <= keep+2 { // room for "\r\n"
				buf = append(buf, chunk...)
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				before = chunk[len(chunk)-1]
				continue
			}
			if size > 0 {
				// The size leaves the line break out: "\n" or "\r\n".
				if n := len(chunk); err == nil {
					size--
					if n >= 2 && chunk[n-2] == '\r' || n == 1 && before == '\r' {
						size--
					}
				}
				l := inputLine{size: size, cut: size > keep}
				if !l.cut {
					l.text = string(buf[:size])
				}
				lines <- l
			}
			if err != nil {
				if err == io.EOF {
					err = nil
				}
				errc <- err
				return
			}
			buf, size, before = buf[:0], 0, 0
		}
	}()
	return lines, errc
}

// printOutcome writes the bot's replies, and with debug what the engine
// understood and did.
func printOutcome(m *Main, out dialog.Outcome, debug bool) {
	if debug && out.Parse != nil {
		p := out.Parse
		scope := "in scope"
		if !p.InScope {
			scope = "OUT OF SCOPE"
		}
		var ranked []string
		for _, r := range p.Ranking[:min(3, len(p.Ranking))] {
			ranked = append(ranked, fmt.Sprintf("%s %.2f", r.Intent, r.Confidence))
		}
		fmt.Fprintf(m.Stdout, "  [nlu] %s (%s)\n", strings.Join(ranked, ", "), scope)
		for _, e := range p.Entities {
			fmt.Fprintf(m.Stdout, "  [entity] %s %q = %s\n", e.Type, e.Text, e.Value)
		}
	}
	for _, r := range out.Replies {
		fmt.Fprintf(m.Stdout, "bot: %s\n", r.Text)
		if len(r.QuickReplies) > 0 {
			fmt.Fprintf(m.Stdout, "     [%s]\n", strings.Join(r.QuickReplies, "] ["))
		}
	}
	c := out.Conversation
	if debug {
		fmt.Fprintf(m.Stdout, "  [engine] actions: %s; state %s", strings.Join(out.Actions, ", "), c.State)
		if c.ActiveForm != "" {
			fmt.Fprintf(m.Stdout, ", form %s", c.ActiveForm)
		}
		fmt.Fprintln(m.Stdout)
	}
	if c.State == crm.StateWaiting && len(out.Replies) > 0 {
		fmt.Fprintf(m.Stdout, "  (handed off: waiting in queue %s, priority %s: %s. No agent console is attached to this terminal.)\n", c.Queue, c.Priority, c.RoutingReason)
	} else if len(out.Replies) == 0 && (c.State == crm.StateWaiting || c.State == crm.StateAgent) {
		fmt.Fprintf(m.Stdout, "  (stored; the bot stays silent while the conversation is %s)\n", c.State)
	}
}

// loadDomain reads a domain file, or the embedded shop domain when path is
// empty, and checks it against the model's intents.
func loadDomain(path string, labels []string) (*dialog.Domain, error) {
	if path == "" {
		return dialog.ParseDomain("shop/domain.yml", shop.Domain(), labels)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return dialog.ParseDomain(path, data, labels)
}

// openModelAndStore creates the data directory if needed, loads the model
// (training the demo-shop model into DATA-DIR/model when modelDir is empty
// and there is none), opens the serving store and loads the demo shop into
// it when this call created it. An existing store is opened first, so that
// a damaged one is refused before a model is trained; a new one after, so
// that a stop during training leaves no store without its demo data. It
// returns the model's directory; the caller closes the store.
func openModelAndStore(ctx context.Context, m *Main, dataDir, modelDir string) (model *nlp.Model, dir string, db *boltdb.DB, err error) {
	return openModelAndStoreAt(ctx, m, dataDir, filepath.Join(dataDir, storeFile), modelDir)
}

// openModelAndStoreAt is openModelAndStore with the store's file at path
// (serve's --store) rather than DATA-DIR/parley.db.
func openModelAndStoreAt(ctx context.Context, m *Main, dataDir, path, modelDir string) (model *nlp.Model, dir string, db *boltdb.DB, err error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, "", nil, err
	}
	storeDir := dataDir
	if path != filepath.Join(dataDir, storeFile) {
		storeDir = filepath.Dir(path)
	}
	defer func() {
		if err != nil && db != nil {
			db.Close()
		}
	}()
	if _, err := os.Stat(path); err == nil {
		if db, err = openServingFile(path, storeDir); err != nil {
			return nil, "", nil, err
		}
	}
	if model, dir, err = loadModel(ctx, m, modelDir, dataDir); err != nil {
		return nil, "", db, err
	}
	if db == nil {
		if db, err = openServingFile(path, storeDir); err != nil {
			return nil, "", nil, err
		}
	}
	if err := seedNewStore(ctx, m, db); err != nil {
		return nil, "", db, err
	}
	return model, dir, db, nil
}

// openServingFile opens (creating if needed) the bbolt store at path
// (DIR/parley.db, or serve's --store) for a command that talks to
// customers; dir is the data directory its error hints name.
func openServingFile(path, dir string) (*boltdb.DB, error) {
	db, err := boltdb.Open(path, nil)
	switch {
	case errors.Is(err, crm.ErrInUse):
		return nil, fmt.Errorf("%w\n(a running \"bot serve\"?) bbolt allows one process per file: stop it, or use another --data-dir", err)
	case errors.Is(err, boltdb.ErrDamaged):
		return nil, fmt.Errorf("%w\n(\"bot check --data-dir %s\" lists what is wrong; \"bot backup\" makes the backups to restore from)", err, dir)
	}
	return db, err
}

// seedNewStore loads the demo shop's data into a store that its Open
// created, and only then: a store whose customers were all erased stays
// without them.
func seedNewStore(ctx context.Context, m *Main, db *boltdb.DB) error {
	seeded, err := shop.EnsureSeeded(ctx, db, time.Now())
	if err != nil || !seeded {
		return err
	}
	if st, err := db.Stats(ctx); err == nil {
		fmt.Fprintf(m.Stderr, "new store %s: loaded the demo shop (%d customers, %d orders, %d past conversations)\n", db.Path(), st.Customers, st.Orders, st.Conversations)
	}
	return nil
}
