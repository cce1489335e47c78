package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/crm/postgres"
	"github.com/parleyhq/parley/internal/admin"
)

// defaultMigrateBatch is how many records of one kind go in one PostgreSQL
// transaction: big enough that a round trip carries many, small enough
// that a run cut short loses little work.
const defaultMigrateBatch = 500

// pgOpenTimeout bounds how long migrate waits for PostgreSQL to answer.
const pgOpenTimeout = 30 * time.Second

func runMigrate(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("migrate", "--from DATA-DIR/parley.db --to postgres://USER@HOST:PORT/DB [flags]",
		"Copy everything a bbolt store holds into a PostgreSQL database, unchanged: customers,\n"+
			"orders, conversations with their messages and events (ids, seqs, states, times),\n"+
			"tickets, ratings, agents (password hashes as stored), canned responses, channel state,\n"+
			"and the key that signs web visitors' tokens (DATA-DIR/webchat.key), so that visitors\n"+
			"resume their conversations on the PostgreSQL nodes. Stop \"bot serve\" on the file first.\n\n"+
			"The copy goes in batches, each one transaction; a record already in the database and\n"+
			"equal to the file's is skipped, so a run cut short (Ctrl-C, a lost connection) finishes\n"+
			"when run again, with nothing doubled. A record stored under the same id with different\n"+
			"content is a conflict: nothing of its batch is written and the command fails. At the\n"+
			"end the records of each kind are counted on both sides; any difference fails it.")
	from := fs.String("from", "", "the bbolt store `FILE` to copy, DATA-DIR/parley.db (required)")
	to := fs.String("to", "", "the PostgreSQL database `URL`, postgres://USER@HOST:PORT/DB (env PARLEY_STORE,\n"+
		"preferred: flags show in ps) (required)")
	keyFile := fs.String("token-key", "", "`FILE` holding the visitors' token key (default: webchat.key beside --from)")
	batch := fs.Int("batch", defaultMigrateBatch, "records per transaction, 1 to 100000")
	dryRun := fs.Bool("dry-run", false, "count what would be copied and check the token key; write nothing\n"+
		"(the database's schema is still created or brought up to date)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	secretsFromEnv(fs, []envString{{"to", "PARLEY_STORE", to}})
	usage := func(msg string) error {
		fmt.Fprintln(fs.Output(), msg)
		fs.Usage()
		return errUsage
	}
	switch {
	case *from == "":
		return usage("--from is required: the bbolt store to copy, such as data/parley.db")
	case *to == "":
		return usage("--to (or PARLEY_STORE) is required: the PostgreSQL database, postgres://USER@HOST:PORT/DB")
	case !strings.HasPrefix(*to, "postgres://") && !strings.HasPrefix(*to, "postgresql://"):
		return usage(fmt.Sprintf("--to %s: want a postgres:// (or postgresql://) URL", redactURL(*to)))
	case *batch < 1 || *batch > 100000:
		return usage(fmt.Sprintf("--batch %d: want 1 to 100000", *batch))
	}
	if _, err := url.Parse(*to); err != nil {
		return usage(fmt.Sprintf("--to: not a valid PostgreSQL URL (%v); want postgres://USER@HOST:PORT/DB", redactErr(err)))
	}
	key, keyPath, err := migrateKeyFile(*from, *keyFile)
	if err != nil {
		return err
	}
	src, err := openBoltSource(ctx, "--from", *from)
	if err != nil {
		return err
	}
	defer src.Close()
	octx, cancel := context.WithTimeout(ctx, pgOpenTimeout)
	dst, err := postgres.Open(octx, *to, nil)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			return fmt.Errorf("--to %s: %w (is PostgreSQL running, and does the database exist?)", redactURL(*to), redactErr(err))
		}
		return err
	}
	defer dst.Close()
	mg := &migration{m: m, src: src, dst: dst, batch: *batch, key: key, keyPath: keyPath,
		name: fmt.Sprintf("%s to PostgreSQL %s", *from, redactURL(*to))}
	if *dryRun {
		return mg.dryRun(ctx)
	}
	return mg.run(ctx)
}

// migrateKeyFile reads the visitors' token key: from keyFlag, or else from
// webchat.key beside the store, where "bot serve" keeps it (tokenKeyFile).
// A missing default file is no error (nil key): that server signed tokens
// with PARLEY_TOKEN_KEY, or never served the web chat.
func migrateKeyFile(from, keyFlag string) (key []byte, path string, err error) {
	path = keyFlag
	if path == "" {
		path = filepath.Join(filepath.Dir(from), tokenKeyFile)
	}
	key, err = os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && keyFlag == "":
		return nil, path, nil
	case err != nil:
		return nil, path, fmt.Errorf("--token-key: %w", err)
	case len(key) < 32:
		return nil, path, fmt.Errorf("token key %s: %d bytes, want 32 (the webchat.key that bot serve wrote)", path, len(key))
	}
	return key, path, nil
}

// openBoltSource opens the bbolt store at path (given by the flag named
// flag) for a tool that reads it whole, never creating one, and explains a
// file a server holds: a server writing to it meanwhile would outdate
// what the tool read.
func openBoltSource(ctx context.Context, flag, path string) (*boltdb.DB, error) {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s %s: no such file; want the bbolt store of a Parley data folder, DATA-DIR/%s", flag, path, storeFile)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", flag, err)
	case info.IsDir():
		return nil, fmt.Errorf("%s %s is a folder; want the store file in it, such as %s", flag, path, filepath.Join(path, storeFile))
	}
	db, err := boltdb.Open(path, nil)
	switch {
	case errors.Is(err, crm.ErrInUse):
		sock := filepath.Join(filepath.Dir(path), adminSocket)
		if _, perr := admin.NewClient(sock).Ops(ctx); perr == nil {
			return nil, fmt.Errorf("%s %s: a running \"bot serve\" holds it (it answers on %s): stop bot serve first, then run this command again", flag, path, sock)
		}
		return nil, fmt.Errorf("%s %s: %w: stop bot serve (or bot chat) first, then run this command again", flag, path, err)
	case errors.Is(err, boltdb.ErrDamaged):
		return nil, fmt.Errorf("%s %s is not a Parley store, or is damaged: %w", flag, path, err)
	case err != nil:
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	if db.Created() {
		db.Close()
		return nil, fmt.Errorf("%s %s is not a Parley store: the file held no data", flag, path)
	}
	return db, nil
}

// migration is one run of "bot migrate".
type migration struct {
	m       *Main
	src     *boltdb.DB
	dst     *postgres.DB
	batch   int
	key     []byte // visitors' token key; nil when there is no key file
	keyPath string
	name    string // "FILE to PostgreSQL URL", for messages

	added, present int
	srcLinks       map[string]bool // the managed links (tokenKeyLink, seededLink) the source holds
}

// run copies everything, kind after kind, then counts both sides.
func (mg *migration) run(ctx context.Context) error {
	if err := mg.putTokenKey(ctx, false); err != nil {
		return err
	}
	var counts boltdb.RecordCounts
	err := mg.src.ReadAll(ctx, func(r *boltdb.Records) error {
		counts = r.Counts()
		fmt.Fprintf(mg.m.Stderr, "copying %s: %d records\n", mg.name, total(counts))
		return mg.copyAll(ctx, r, counts)
	})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("migrate %s: interrupted (%w); what was copied stays: run the same command again to finish", mg.name, ctx.Err())
		}
		if errors.Is(err, crm.ErrConflict) {
			return fmt.Errorf("migrate %s: %w. The database holds other data under the file's ids: "+
				"migrate into an empty database (or schema)", mg.name, err)
		}
		return fmt.Errorf("migrate %s: %w; what was copied before stays: fix the cause and run the same command again", mg.name, err)
	}
	if _, err := mg.dst.Link(ctx, seededLink); errors.Is(err, crm.ErrNotFound) {
		// The data is the store's own: serve must not load the demo shop
		// into it, even when it holds no customer.
		err = mg.dst.PutLink(ctx, seededLink, time.Now().UTC().Format(time.RFC3339))
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintf(mg.m.Stderr, "copied: %d records added, %d already there\n", mg.added, mg.present)
	return mg.verify(ctx, counts)
}

func total(c boltdb.RecordCounts) int {
	s := c.Stats
	return s.Customers + s.Orders + s.Conversations + s.Messages + s.Tickets + s.Feedback + s.Agents +
		s.Events + s.Canned + c.Seen + c.Links
}

// copyAll copies each kind in an order that satisfies the references
// between them.
func (mg *migration) copyAll(ctx context.Context, r *boltdb.Records, n boltdb.RecordCounts) error {
	mg.srcLinks = map[string]bool{}
	steps := []func() error{
		func() error {
			return copyKind(ctx, mg, "customers", n.Customers, r.Customers, func(c *postgres.Copy, v []crm.Customer) { c.Customers = v })
		},
		func() error {
			return copyKind(ctx, mg, "orders", n.Orders, r.Orders, func(c *postgres.Copy, v []crm.Order) { c.Orders = v })
		},
		func() error {
			return copyKind(ctx, mg, "conversations", n.Conversations, r.Conversations, func(c *postgres.Copy, v []crm.Conversation) { c.Conversations = v })
		},
		func() error {
			return copyKind(ctx, mg, "messages", n.Messages, r.Messages, func(c *postgres.Copy, v []crm.Message) { c.Messages = v })
		},
		func() error {
			return copyKind(ctx, mg, "events", n.Events, r.Events, func(c *postgres.Copy, v []crm.Event) { c.Events = v })
		},
		func() error {
			return copyKind(ctx, mg, "tickets", n.Tickets, r.Tickets, func(c *postgres.Copy, v []crm.Ticket) { c.Tickets = v })
		},
		func() error {
			return copyKind(ctx, mg, "feedback", n.Feedback, r.Feedback, func(c *postgres.Copy, v []crm.Feedback) { c.Feedback = v })
		},
		func() error {
			return copyKind(ctx, mg, "agents", n.Agents, r.Agents, func(c *postgres.Copy, v []crm.Agent) { c.Agents = v })
		},
		func() error {
			return copyKind(ctx, mg, "canned", n.Canned, r.Canned, func(c *postgres.Copy, v []crm.CannedResponse) { c.Canned = v })
		},
		func() error {
			each := func(fn func(postgres.SeenKey) error) error {
				return r.Seen(func(k string, at time.Time) error { return fn(postgres.SeenKey{Key: k, At: at}) })
			}
			return copyKind(ctx, mg, "channel seen", n.Seen, each, func(c *postgres.Copy, v []postgres.SeenKey) { c.Seen = v })
		},
		func() error {
			each := func(fn func(postgres.Link) error) error {
				return r.Links(func(k, v string) error {
					if k == tokenKeyLink || k == seededLink {
						mg.srcLinks[k] = true
					}
					return fn(postgres.Link{Key: k, Value: v})
				})
			}
			return copyKind(ctx, mg, "channel links", n.Links, each, func(c *postgres.Copy, v []postgres.Link) { c.Links = v })
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// copyKind copies the records each walks, mg.batch at a time, each batch
// one transaction, and reports progress after each.
func copyKind[T any](ctx context.Context, mg *migration, name string, n int, each func(func(T) error) error, put func(*postgres.Copy, []T)) error {
	buf := make([]T, 0, mg.batch)
	done := 0
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		var c postgres.Copy
		put(&c, buf)
		res, err := mg.dst.CopyRecords(ctx, c)
		if err != nil {
			return fmt.Errorf("%s %d to %d of %d: %w", name, done+1, done+len(buf), n, err)
		}
		done += len(buf)
		mg.added += res.Added
		mg.present += res.Present
		fmt.Fprintf(mg.m.Stderr, "%s: %d of %d\n", name, done, n)
		buf = buf[:0]
		return nil
	}
	err := each(func(v T) error {
		buf = append(buf, v)
		if len(buf) >= mg.batch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil && done == 0 {
		fmt.Fprintf(mg.m.Stderr, "%s: 0 of 0\n", name)
	}
	return err
}

// putTokenKey makes the file's visitor-token key the database's, under
// the lock serve takes to create one (sharedTokenKey), so that a token
// signed by the bbolt-era server resumes on every PostgreSQL node. A
// database with another key is an error: one of the two sets of tokens
// would stop working. check only compares.
func (mg *migration) putTokenKey(ctx context.Context, check bool) error {
	if mg.key == nil {
		fmt.Fprintf(mg.m.Stderr, "no visitor-token key at %s: if bot serve signed tokens with PARLEY_TOKEN_KEY, set the same on the PostgreSQL nodes\n", mg.keyPath)
		return nil
	}
	locker := mg.dst.TurnLocker()
	defer locker.Close()
	unlock, err := locker.Lock(ctx, tokenKeyLock)
	if err != nil {
		return fmt.Errorf("token key: %w", err)
	}
	defer unlock()
	h, err := mg.dst.Link(ctx, tokenKeyLink)
	switch {
	case err == nil:
		have, derr := hex.DecodeString(h)
		if derr != nil || !bytes.Equal(have, mg.key) {
			return fmt.Errorf("the database already has a different visitor-token key (link %s) than %s: "+
				"visitors of one of the two would lose their conversations. If no node has served on the database yet, "+
				"delete that link (delete from channel_links where key = '%s') and run migrate again", tokenKeyLink, mg.keyPath, tokenKeyLink)
		}
		return nil
	case !errors.Is(err, crm.ErrNotFound):
		return fmt.Errorf("token key: %w", err)
	case check:
		return nil
	}
	if err := mg.dst.PutLink(ctx, tokenKeyLink, hex.EncodeToString(mg.key)); err != nil {
		return fmt.Errorf("token key: %w", err)
	}
	fmt.Fprintf(mg.m.Stderr, "visitor-token key: copied from %s\n", mg.keyPath)
	return nil
}

// targetCounts counts the database's records as the file's are counted.
func (mg *migration) targetCounts(ctx context.Context) (boltdb.RecordCounts, error) {
	st, err := mg.dst.Stats(ctx)
	if err != nil {
		return boltdb.RecordCounts{}, err
	}
	seen, links, err := mg.dst.ChannelStateCounts(ctx)
	if err != nil {
		return boltdb.RecordCounts{}, err
	}
	return boltdb.RecordCounts{Stats: st, Seen: seen, Links: links}, nil
}

// countRows lists both sides' counts by kind.
func countRows(src, dst boltdb.RecordCounts) []struct {
	kind     string
	src, dst int
} {
	return []struct {
		kind     string
		src, dst int
	}{
		{"customers", src.Customers, dst.Customers}, {"orders", src.Orders, dst.Orders},
		{"conversations", src.Conversations, dst.Conversations}, {"messages", src.Messages, dst.Messages},
		{"events", src.Events, dst.Events}, {"tickets", src.Tickets, dst.Tickets},
		{"feedback", src.Feedback, dst.Feedback}, {"agents", src.Agents, dst.Agents},
		{"canned", src.Canned, dst.Canned}, {"channel seen", src.Seen, dst.Seen},
		{"channel links", src.Links, dst.Links},
	}
}

// verify counts every kind in the database and compares with the file:
// the links migrate itself adds (the token key, the seeded mark) are
// left out of the database's count.
func (mg *migration) verify(ctx context.Context, src boltdb.RecordCounts) error {
	dst, err := mg.targetCounts(ctx)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	for _, k := range []string{tokenKeyLink, seededLink} {
		if _, err := mg.dst.Link(ctx, k); err == nil && !mg.srcLinks[k] {
			dst.Links--
		}
	}
	tw := tabwriter.NewWriter(mg.m.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\tbbolt\tpostgres\t")
	var differ []string
	for _, r := range countRows(src, dst) {
		mark := ""
		if r.src != r.dst {
			mark = "  DIFFERS"
			differ = append(differ, fmt.Sprintf("%s %d in the file, %d in the database", r.kind, r.src, r.dst))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", r.kind, r.src, r.dst, mark)
	}
	tw.Flush()
	if len(differ) > 0 {
		return fmt.Errorf("verify %s: counts differ: %s. The database holds records the file does not "+
			"(it was used before the copy, or seeded): migrate into an empty database", mg.name, strings.Join(differ, "; "))
	}
	fmt.Fprintf(mg.m.Stdout, "migrated %s: every count matches\n", mg.name)
	return nil
}

// dryRun counts both sides and checks the token key, writing nothing.
func (mg *migration) dryRun(ctx context.Context) error {
	if err := mg.putTokenKey(ctx, true); err != nil {
		return err
	}
	var src boltdb.RecordCounts
	if err := mg.src.ReadAll(ctx, func(r *boltdb.Records) error { src = r.Counts(); return nil }); err != nil {
		return fmt.Errorf("count %s: %w", mg.name, err)
	}
	dst, err := mg.targetCounts(ctx)
	if err != nil {
		return fmt.Errorf("count the database: %w", err)
	}
	w := tabwriter.NewWriter(mg.m.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "kind\tbbolt\tpostgres now\t")
	for _, r := range countRows(src, dst) {
		fmt.Fprintf(w, "%s\t%d\t%d\t\n", r.kind, r.src, r.dst)
	}
	w.Flush()
	fmt.Fprintf(mg.m.Stdout, "dry run: would copy %d records from %s; nothing written\n", total(src), mg.name)
	return nil
}
