package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/admin"
	"github.com/parleyhq/parley/internal/atomicfile"
)

const customerUsage = `Usage: bot customer <export|erase> [flags] ID

Answer a customer's request about their data.

  export   write everything held about the customer as one JSON document
  erase    remove the customer and everything that belongs to them

Run "bot customer <export|erase> -h" for the flags.
`

func runCustomer(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, customerUsage)
		return errUsage
	}
	switch args[0] {
	case "export":
		return runCustomerExport(ctx, m, args[1:])
	case "erase":
		return runCustomerErase(ctx, m, args[1:])
	case "-h", "--help", "help":
		fmt.Fprint(m.Stdout, customerUsage)
		return nil
	}
	fmt.Fprintf(m.Stderr, "unknown customer command %q\n\n%s", args[0], customerUsage)
	return errUsage
}

func runCustomerExport(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("customer export", "[--data-dir DIR] [--out FILE] ID",
		"Write everything the store holds about customer ID (profile, orders, conversations with\n"+
			"their messages, tickets, feedback) as one JSON document, to standard output or FILE.\n"+
			"While \"bot serve\" holds the store, it answers through its admin socket (DIR/admin.sock).")
	dir := dataDirFlag(fs)
	out := fs.String("out", "", "write to `FILE` (readable by its owner only) instead of standard output")
	id, err := parseFlagsAndArg(fs, args, "customer ID")
	if err != nil {
		return err
	}
	store, err := openStoreOrServer(ctx, *dir)
	if err != nil {
		return err
	}
	defer store.Close()
	if *out == "" {
		return store.exportCustomer(ctx, id, m.Stdout)
	}
	if err := atomicfile.Write(*out, func(w io.Writer) error { return store.exportCustomer(ctx, id, w) }); err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "exported customer %s to %s\n", id, *out)
	return nil
}

func runCustomerErase(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("customer erase", "[--data-dir DIR] [--yes] ID",
		"Remove customer ID and everything that belongs to them (orders, conversations and\n"+
			"messages, tickets, feedback) in one transaction. Asks first unless --yes. While \"bot serve\"\n"+
			"holds the store, it erases through its admin socket (DIR/admin.sock) and closes the\n"+
			"customer's open chats.")
	dir := dataDirFlag(fs)
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	id, err := parseFlagsAndArg(fs, args, "customer ID")
	if err != nil {
		return err
	}
	store, err := openStoreOrServer(ctx, *dir)
	if err != nil {
		return err
	}
	defer store.Close()
	c, err := store.customer(ctx, id)
	if err != nil {
		return err
	}
	if !*yes {
		who := c.Name
		if c.Email != "" {
			who += " <" + c.Email + ">"
		}
		fmt.Fprintf(m.Stdout, "Erase customer %s (%s) and all their data? This cannot be undone. [y/N] ", id, strings.TrimSpace(who))
		answer, _ := bufio.NewReader(m.Stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			fmt.Fprintln(m.Stdout)
			return fmt.Errorf("not confirmed: nothing erased (use --yes to skip the question)")
		}
	}
	e, err := store.eraseCustomer(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "erased customer %s: %d orders, %d conversations, %d messages, %d tickets, %d feedback, %d index entries\n",
		e.CustomerID, e.Orders, e.Conversations, e.Messages, e.Tickets, e.Feedback, e.IndexEntries)
	fmt.Fprintln(m.Stdout, "note: older backups still hold this customer, and the bytes may linger in the store's free pages until reused")
	return nil
}

// customerArgs are the arguments of the customer operations of the admin
// channel.
type customerArgs struct {
	ID string `json:"id"`
}

// Validate implements admin.Validator.
func (a customerArgs) Validate() error {
	switch {
	case a.ID == "":
		return errors.New("customer id missing")
	case len(a.ID) > crm.MaxKeyPart || !utf8.ValidString(a.ID) || strings.IndexByte(a.ID, 0) >= 0:
		return fmt.Errorf("customer id: at most %d bytes of UTF-8 without NUL", crm.MaxKeyPart)
	}
	return nil
}

// customerOps are the admin operations of "bot customer": the customer
// record (for the erasure's question), the export, and the erasure, which
// goes through the engine so that the customer's open chats end.
func customerOps(db crm.Store, engine *dialog.Engine) []admin.Op {
	return []admin.Op{
		admin.NewOp(opCustomerGet, func(ctx context.Context, a customerArgs, w io.Writer) error {
			c, err := db.Customer(ctx, a.ID)
			if err != nil {
				return err
			}
			return json.NewEncoder(w).Encode(c)
		}),
		admin.NewOp(opCustomerExport, func(ctx context.Context, a customerArgs, w io.Writer) error {
			return db.ExportCustomer(ctx, a.ID, w)
		}),
		admin.NewOp(opCustomerErase, func(ctx context.Context, a customerArgs, w io.Writer) error {
			e, err := engine.Erase(ctx, a.ID)
			if err != nil {
				return err
			}
			return json.NewEncoder(w).Encode(e)
		}),
	}
}

func (a storeAccess) customer(ctx context.Context, id string) (crm.Customer, error) {
	if a.db != nil {
		return a.db.Customer(ctx, id)
	}
	var c crm.Customer
	err := a.server.CallJSON(ctx, opCustomerGet, customerArgs{ID: id}, &c)
	return c, err
}

func (a storeAccess) exportCustomer(ctx context.Context, id string, w io.Writer) error {
	if a.db != nil {
		return a.db.ExportCustomer(ctx, id, w)
	}
	_, err := a.server.Call(ctx, opCustomerExport, customerArgs{ID: id}, w)
	return err
}

// eraseCustomer erases through the store when no server holds it: no chat
// can be open then.
func (a storeAccess) eraseCustomer(ctx context.Context, id string) (crm.Erasure, error) {
	if a.db != nil {
		return a.db.EraseCustomer(ctx, id)
	}
	var e crm.Erasure
	err := a.server.CallJSON(ctx, opCustomerErase, customerArgs{ID: id}, &e)
	return e, err
}
