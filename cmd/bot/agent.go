package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/mail"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/admin"
)

// Limits of an agent's password: long enough to resist guessing at the
// console's login (which also locks out after 5 failures), and no longer
// than bcrypt reads.
const (
	minPasswordRunes = 12
	maxPasswordBytes = 72
)

// Names of the admin operations of "bot agent".
const (
	opAgentPut    = "agent.put"
	opAgentList   = "agent.list"
	opAgentDelete = "agent.delete"
)

// Modes of agent.put: add makes a new agent, passwd changes an existing
// agent's password and nothing else.
const (
	agentModeAdd    = "add"
	agentModePasswd = "passwd"
)

const agentUsage = `Usage: bot agent <add|list|passwd|remove> [flags] [EMAIL]

Manage the people who answer customers in the console (/console).

  add EMAIL --name NAME    add an agent; EMAIL is their login, the password is read from stdin
  list                     show the agents: login, name, role, queues (never the password)
  passwd EMAIL             set a new password for an agent (read from stdin)
  remove EMAIL             remove an agent: they are signed out, their conversations requeued

Passwords have at least 12 characters. On a terminal they are asked twice and not shown;
otherwise the first line of standard input is the password, for example:

  printf '%s\n' "$PASSWORD" | bot agent add ana@example.com --name "Ana Lopez" --role admin

These commands work on DATA-DIR/parley.db, or through the admin socket while "bot serve"
holds it. Run "bot agent <command> -h" for the flags.
`

func runAgent(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 {
		io.WriteString(m.Stderr, agentUsage)
		return errUsage
	}
	switch args[0] {
	case "add":
		return runAgentAdd(ctx, m, args[1:])
	case "list":
		return runAgentList(ctx, m, args[1:])
	case "passwd":
		return runAgentPasswd(ctx, m, args[1:])
	case "remove":
		return runAgentRemove(ctx, m, args[1:])
	case "-h", "--help", "help":
		io.WriteString(m.Stdout, agentUsage)
		return nil
	}
	fmt.Fprintf(m.Stderr, "unknown agent command %q\n\n%s", args[0], agentUsage)
	return errUsage
}

// parseFlagsAndArg parses flags around exactly one positional argument,
// named what in the error for a missing one.
func parseFlagsAndArg(fs *flag.FlagSet, args []string, what string) (string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", err
		}
		return "", errUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintf(fs.Output(), "missing %s\n", what)
		fs.Usage()
		return "", errUsage
	}
	arg := fs.Arg(0)
	if err := parseFlags(fs, fs.Args()[1:]); err != nil { // flags after the argument
		return "", err
	}
	return arg, nil
}

const passwordHelp = "The password (at least 12 characters) is read from standard input: asked twice\n" +
	"without echo on a terminal, else the first line."

func runAgentAdd(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("agent add", "EMAIL --name NAME [--role agent|admin] [--queues Q1,Q2] [--data-dir DIR]",
		"Add an agent who signs in to the console at /console with EMAIL and a password.\n"+
			passwordHelp+"\n"+
			"An agent sees and is assigned the conversations of their queues (all queues when\n"+
			"--queues is empty); an admin sees everything and edits the canned responses.\n"+
			"To change an existing agent's password use \"bot agent passwd\".")
	dir := dataDirFlag(fs)
	name := fs.String("name", "", "the agent's `NAME` as customers and colleagues see it (required)")
	role := fs.String("role", string(crm.RoleAgent), "`ROLE`: agent or admin")
	queues := fs.String("queues", "", "comma-separated `QUEUES` the agent serves, such as billing,returns (default: all)")
	email, err := parseFlagsAndArg(fs, args, "EMAIL")
	if err != nil {
		return err
	}
	a := agentPutArgs{Mode: agentModeAdd, Login: email, Name: strings.TrimSpace(*name), Role: crm.Role(*role), Teams: splitList(*queues)}
	if err := a.normalize(); err != nil {
		return err
	}
	store, err := openStoreOrServer(ctx, *dir)
	if err != nil {
		return err
	}
	defer store.Close()
	// Fail on a taken login before asking for a password.
	if _, err := store.findAgent(ctx, a.Login); err == nil {
		return errAgentExists(a.Login)
	} else if !errors.Is(err, crm.ErrNotFound) {
		return err
	}
	if a.Password, err = m.readPassword(ctx); err != nil {
		return err
	}
	got, err := store.putAgent(ctx, a)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "added %s %s (%s), queues: %s; they sign in at /console\n", got.Role, got.Login, got.Name, queueList(got.Teams))
	return nil
}

func runAgentList(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("agent list", "[--data-dir DIR]",
		"List the console's agents by login: name, role and the queues they serve. Password\n"+
			"hashes are never shown.")
	dir := dataDirFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	store, err := openStoreOrServer(ctx, *dir)
	if err != nil {
		return err
	}
	defer store.Close()
	as, err := store.agents(ctx)
	if err != nil {
		return err
	}
	if len(as) == 0 {
		fmt.Fprintln(m.Stdout, `no agents yet: add one with bot agent add EMAIL --name NAME`)
		return nil
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LOGIN\tNAME\tROLE\tQUEUES")
	for _, a := range as {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", oneLine(a.Login), oneLine(a.Name), a.Role, oneLine(queueList(a.Teams)))
	}
	return tw.Flush()
}

func runAgentPasswd(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("agent passwd", "EMAIL [--data-dir DIR]",
		"Set a new password for the agent EMAIL; name, role and queues stay.\n"+passwordHelp+"\n"+
			"The agent's open console sessions end: they sign in again with the new password.")
	dir := dataDirFlag(fs)
	email, err := parseFlagsAndArg(fs, args, "EMAIL")
	if err != nil {
		return err
	}
	a := agentPutArgs{Mode: agentModePasswd, Login: email}
	if err := a.normalize(); err != nil {
		return err
	}
	store, err := openStoreOrServer(ctx, *dir)
	if err != nil {
		return err
	}
	defer store.Close()
	if _, err := store.findAgent(ctx, a.Login); err != nil {
		return err
	}
	if a.Password, err = m.readPassword(ctx); err != nil {
		return err
	}
	if _, err := store.putAgent(ctx, a); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "changed the password of %s\n", a.Login)
	return nil
}

func runAgentRemove(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("agent remove", "EMAIL [--data-dir DIR]",
		"Remove the agent EMAIL: their open console sessions end and they can no longer sign in.\n"+
			"The conversations they hold go back to their queues, where other agents can claim them.")
	dir := dataDirFlag(fs)
	email, err := parseFlagsAndArg(fs, args, "EMAIL")
	if err != nil {
		return err
	}
	login, err := normalizeLogin(email)
	if err != nil {
		return err
	}
	store, err := openStoreOrServer(ctx, *dir)
	if err != nil {
		return err
	}
	defer store.Close()
	n, err := store.deleteAgent(ctx, login)
	if err != nil {
		return err
	}
	switch n {
	case 0:
		fmt.Fprintf(m.Stdout, "removed agent %s\n", login)
	case 1:
		fmt.Fprintf(m.Stdout, "removed agent %s and put the conversation they held back in its queue\n", login)
	default:
		fmt.Fprintf(m.Stdout, "removed agent %s and put the %d conversations they held back in their queues\n", login, n)
	}
	return nil
}

// readPassword reads a new password from m.Stdin: twice without echo when
// it is a terminal, else its first line. It fails for a password the
// rules refuse (checkPassword), for two that differ, and when ctx ends.
func (m *Main) readPassword(ctx context.Context) (string, error) {
	if f, ok := m.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p, err := readHidden(ctx, int(f.Fd()), m.Stderr, "Password (at least 12 characters): ")
		if err != nil {
			return "", err
		}
		if err := checkPassword(p); err != nil {
			return "", err
		}
		again, err := readHidden(ctx, int(f.Fd()), m.Stderr, "Same password again: ")
		if err != nil {
			return "", err
		}
		if again != p {
			return "", errors.New("the two passwords differ: nothing changed")
		}
		return p, nil
	}
	line, err := bufio.NewReader(m.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("no password on standard input: type it on a terminal, or pipe it in as one line")
	}
	return line, checkPassword(line)
}

// readHidden reads a line from the terminal fd without echo, after a
// prompt on w. Ctrl-C (ctx ending) restores the terminal and returns.
func readHidden(ctx context.Context, fd int, w io.Writer, prompt string) (string, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	fmt.Fprint(w, prompt)
	type result struct {
		b   []byte
		err error
	}
	// The read cannot be interrupted: on Ctrl-C it is left behind, and the
	// process ends soon after.
	ch := make(chan result, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		ch <- result{b, err}
	}()
	select {
	case r := <-ch:
		fmt.Fprintln(w)
		if r.err != nil {
			return "", fmt.Errorf("read the password: %w", r.err)
		}
		return string(r.b), nil
	case <-ctx.Done():
		term.Restore(fd, state)
		fmt.Fprintln(w)
		return "", ctx.Err()
	}
}

// usageError is an error for the person at the command line: its text is
// the message alone, and it matches kind (a crm sentinel) with errors.Is,
// so that the admin channel carries the kind as its code. The file and the
// server paths return the same ones, so both say the same.
type usageError struct {
	msg  string
	kind error
}

func (e *usageError) Error() string { return e.msg }
func (e *usageError) Unwrap() error { return e.kind }

func invalidf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), kind: crm.ErrInvalid}
}

// checkPassword applies the password rules; errors wrap crm.ErrInvalid.
func checkPassword(p string) error {
	switch {
	case !utf8.ValidString(p) || strings.ContainsFunc(p, unicode.IsControl):
		return invalidf("the password may hold only printable characters")
	case utf8.RuneCountInString(p) < minPasswordRunes:
		return invalidf("password too short: at least %d characters", minPasswordRunes)
	case len(p) > maxPasswordBytes:
		return invalidf("password longer than %d bytes (bcrypt reads no more)", maxPasswordBytes)
	}
	return nil
}

func errAgentExists(login string) error {
	return &usageError{msg: fmt.Sprintf("agent %s exists already (to set a new password: bot agent passwd %s)", login, login), kind: crm.ErrConflict}
}

func errNoAgent(login string) error {
	return &usageError{msg: fmt.Sprintf("no agent %s (bot agent list shows them)", login), kind: crm.ErrNotFound}
}

// normalizeLogin turns an e-mail address into an agent login
// (crm.NormalizeEmail) and checks that it looks like a plain address, such
// as ana@example.com; errors wrap crm.ErrInvalid.
func normalizeLogin(email string) (string, error) {
	login := crm.NormalizeEmail(email)
	bad := func() (string, error) {
		return "", invalidf("login %q: want an e-mail address such as ana@example.com", email)
	}
	if err := crm.CheckKeyPart("agent login", login); err != nil {
		return bad()
	}
	local, domain, ok := strings.Cut(login, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return bad()
	}
	// net/mail knows the grammar; the address must be all there is (no
	// display name, no comments).
	if addr, err := mail.ParseAddress(login); err != nil || addr.Name != "" || addr.Address != login {
		return bad()
	}
	return login, nil
}

// agentPutArgs are the arguments of agent.put: add a new agent (Mode add:
// Name and Role required, Teams optional) or set the password of one
// (Mode passwd: only Login and Password).
type agentPutArgs struct {
	Mode     string   `json:"mode"`
	Login    string   `json:"login"`
	Name     string   `json:"name,omitempty"`
	Role     crm.Role `json:"role,omitempty"`
	Teams    []string `json:"teams,omitempty"`
	Password string   `json:"password"`
}

// normalize checks a, but for the password, and puts the login and the
// queues in their normal forms; errors wrap crm.ErrInvalid.
func (a *agentPutArgs) normalize() error {
	login, err := normalizeLogin(a.Login)
	if err != nil {
		return err
	}
	a.Login = login
	switch a.Mode {
	case agentModeAdd:
		if strings.TrimSpace(a.Name) == "" {
			return invalidf("the agent's name is required (--name)")
		}
		if a.Role != crm.RoleAgent && a.Role != crm.RoleAdmin {
			return invalidf("role %q: want agent or admin", a.Role)
		}
		var teams []string
		for _, t := range a.Teams {
			if crm.CheckKeyPart("queue", t) != nil || strings.TrimSpace(t) != t || strings.Contains(t, ",") {
				return invalidf("queue %q: want a queue name such as billing", t)
			}
			if !slices.Contains(teams, t) {
				teams = append(teams, t)
			}
		}
		a.Teams = teams
	case agentModePasswd:
		if a.Name != "" || a.Role != "" || len(a.Teams) > 0 {
			return invalidf("passwd changes the password only")
		}
	default:
		return invalidf("mode %q: want add or passwd", a.Mode)
	}
	return nil
}

// Validate implements admin.Validator: what a command sends is checked
// again by the server.
func (a *agentPutArgs) Validate() error {
	if err := a.normalize(); err != nil {
		return err
	}
	return checkPassword(a.Password)
}

// agentLoginArgs are the arguments of agent.delete.
type agentLoginArgs struct {
	Login string `json:"login"`
}

// Validate implements admin.Validator.
func (a *agentLoginArgs) Validate() error {
	login, err := normalizeLogin(a.Login)
	a.Login = login
	return err
}

// agentView is an agent as the commands show it: never the hash.
type agentView struct {
	Login string   `json:"login"`
	Name  string   `json:"name,omitempty"`
	Role  crm.Role `json:"role"`
	Teams []string `json:"teams,omitempty"`
}

func viewOf(a crm.Agent) agentView {
	return agentView{Login: a.Login, Name: a.Name, Role: a.Role, Teams: a.Teams}
}

// agentMu makes the check and the write of an agent.put one step within a
// server (a store opened by a command is this process's alone).
var agentMu sync.Mutex

// putAgent adds an agent or sets the password of one (a.Validate must
// have passed). It fails wrapping crm.ErrConflict when add finds the login
// taken, crm.ErrNotFound when passwd does not find it, and crm.ErrInvalid
// for what the store refuses.
func putAgent(ctx context.Context, db crm.AgentStore, a agentPutArgs) (agentView, error) {
	agentMu.Lock()
	defer agentMu.Unlock()
	cur, err := db.Agent(ctx, a.Login)
	switch {
	case err == nil && a.Mode == agentModeAdd:
		return agentView{}, errAgentExists(a.Login)
	case errors.Is(err, crm.ErrNotFound) && a.Mode == agentModePasswd:
		return agentView{}, errNoAgent(a.Login)
	case err != nil && !errors.Is(err, crm.ErrNotFound):
		return agentView{}, err
	}
	if a.Mode == agentModeAdd {
		cur = crm.Agent{Login: a.Login, Name: strings.TrimSpace(a.Name), Role: a.Role, Teams: a.Teams}
	}
	got, err := db.PutAgent(ctx, cur, a.Password)
	if err != nil {
		return agentView{}, err
	}
	return viewOf(got), nil
}

func listAgents(ctx context.Context, db crm.AgentStore) ([]agentView, error) {
	as, err := db.Agents(ctx)
	if err != nil {
		return nil, err
	}
	vs := make([]agentView, len(as))
	for i, a := range as {
		vs[i] = viewOf(a)
	}
	return vs, nil
}

// A releaser puts a conversation the removed agent login holds back in its
// queue; it returns errStale when the conversation changed meanwhile.
type releaser func(ctx context.Context, c crm.Conversation, login string) error

// errStale means a conversation was no longer the removed agent's.
var errStale = errors.New("conversation changed meanwhile")

// deleteAgent removes the agent, then puts the conversations they held back
// in their queues with release, and returns how many. It fails wrapping
// crm.ErrNotFound for an unknown agent.
func deleteAgent(ctx context.Context, db crm.Store, release releaser, login string) (int, error) {
	if err := db.DeleteAgent(ctx, login); err != nil {
		if errors.Is(err, crm.ErrNotFound) {
			return 0, errNoAgent(login)
		}
		return 0, err
	}
	held, err := db.OpenConversations(ctx, crm.ConversationFilter{State: crm.StateAgent})
	if err != nil {
		return 0, fmt.Errorf("removed agent %s, but could not list the conversations they held: %w", login, err)
	}
	n := 0
	for _, c := range held {
		if c.AssignedAgent != login {
			continue
		}
		switch err := release(ctx, c, login); {
		case err == nil:
			n++
		case !errors.Is(err, errStale):
			return n, fmt.Errorf("removed agent %s, but could not put conversation %s back in its queue: %w", login, c.ID, err)
		}
	}
	return n, nil
}

// releaseInStore is the releaser of a store no server holds: no chat is
// open then, so the change and its event are stored, and nobody is told.
// A conversation without a queue waits without one (every agent sees it).
func releaseInStore(db crm.LifecycleStore) releaser {
	return func(ctx context.Context, c crm.Conversation, login string) error {
		ev := crm.Event{Type: crm.EventRelease, Actor: crm.ActorSystem, Queue: c.Queue, Text: "agent " + login + " removed"}
		_, _, err := db.Transition(ctx, c.ID, ev, func(c *crm.Conversation) error {
			if c.State != crm.StateAgent || c.AssignedAgent != login {
				return errStale
			}
			c.State, c.AssignedAgent = crm.StateWaiting, ""
			return nil
		})
		return err
	}
}

// releaseByEngine is the releaser of the serving engine: the consoles see
// the conversation come back to its queue (the domain's default queue
// when it had none).
func releaseByEngine(engine *dialog.Engine) releaser {
	return func(ctx context.Context, c crm.Conversation, _ string) error {
		_, err := engine.Release(ctx, c.ID, dialog.Actor{})
		if errors.Is(err, dialog.ErrState) || errors.Is(err, crm.ErrNotFound) {
			return errStale
		}
		return err
	}
}

// agentDeleted is the answer of agent.delete.
type agentDeleted struct {
	Released int `json:"released"` // conversations put back in their queues
}

// agentOps are the admin operations of "bot agent" on the serving store.
// agent.list also answers the existence checks made before a password is
// asked for. release puts a removed agent's conversations back in their
// queues.
func agentOps(db crm.Store, release releaser) []admin.Op {
	return []admin.Op{
		admin.NewOp(opAgentPut, func(ctx context.Context, a agentPutArgs, w io.Writer) error {
			v, err := putAgent(ctx, db, a)
			if err != nil {
				return err
			}
			return json.NewEncoder(w).Encode(v)
		}),
		admin.NewOp(opAgentList, func(ctx context.Context, _ struct{}, w io.Writer) error {
			vs, err := listAgents(ctx, db)
			if err != nil {
				return err
			}
			return json.NewEncoder(w).Encode(vs)
		}),
		admin.NewOp(opAgentDelete, func(ctx context.Context, a agentLoginArgs, w io.Writer) error {
			n, err := deleteAgent(ctx, db, release, a.Login)
			if err != nil {
				return err
			}
			return json.NewEncoder(w).Encode(agentDeleted{Released: n})
		}),
	}
}

func (a storeAccess) putAgent(ctx context.Context, args agentPutArgs) (agentView, error) {
	if err := args.Validate(); err != nil {
		return agentView{}, err
	}
	if a.db != nil {
		return putAgent(ctx, a.db, args)
	}
	var v agentView
	err := a.server.CallJSON(ctx, opAgentPut, args, &v)
	return v, olderServer(err)
}

func (a storeAccess) agents(ctx context.Context) ([]agentView, error) {
	if a.db != nil {
		return listAgents(ctx, a.db)
	}
	var vs []agentView
	err := a.server.CallJSON(ctx, opAgentList, nil, &vs)
	return vs, olderServer(err)
}

// findAgent returns the agent with the login, or an error wrapping
// crm.ErrNotFound that says so.
func (a storeAccess) findAgent(ctx context.Context, login string) (agentView, error) {
	vs, err := a.agents(ctx)
	if err != nil {
		return agentView{}, err
	}
	for _, v := range vs {
		if v.Login == login {
			return v, nil
		}
	}
	return agentView{}, errNoAgent(login)
}

func (a storeAccess) deleteAgent(ctx context.Context, login string) (int, error) {
	if a.db != nil {
		return deleteAgent(ctx, a.db, releaseInStore(a.db), login)
	}
	var d agentDeleted
	err := a.server.CallJSON(ctx, opAgentDelete, agentLoginArgs{Login: login}, &d)
	return d.Released, olderServer(err)
}

// olderServer explains admin.ErrUnknownOp: the server holding the store
// was started from a program without the agent commands.
func olderServer(err error) error {
	if errors.Is(err, admin.ErrUnknownOp) {
		return fmt.Errorf("%w: the running \"bot serve\" is older than this program; restart it with this one", err)
	}
	return err
}

// queueList is how the commands show an agent's queues.
func queueList(teams []string) string {
	if len(teams) == 0 {
		return "all"
	}
	return strings.Join(teams, ",")
}

// oneLine keeps a stored string on one table row.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
