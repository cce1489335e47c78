// Command bot is Parley: a self-hosted customer-support assistant.
//
// Run "bot help" for the list of sub-commands and "bot <command> -h" for the
// flags of one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	// --business-hours names IANA time zones: embedded, so that hosts
	// without a zoneinfo database (scratch containers) find them too.
	_ "time/tzdata"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain(os.Stdout, os.Stderr)
	m.Stdin = os.Stdin
	code := m.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// Main is the program: tests run it in-process with their own streams.
type Main struct {
	Stdin  io.Reader // answers to questions such as "erase? [y/N]"
	Stdout io.Writer
	Stderr io.Writer
}

// NewMain returns a Main writing to the given streams, with no input.
func NewMain(stdout, stderr io.Writer) *Main {
	return &Main{Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr}
}

// command is one sub-command. run gets the arguments after the command name.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, m *Main, args []string) error
}

// commands lists every sub-command, in the order "bot help" shows them.
var commands = []command{
	{"serve", "serve the web chat, the demo shop page and the REST API", runServe},
	{"train", "train an NLU model from a data file", runTrain},
	{"eval", "evaluate a trained NLU model on a data file", runEval},
	{"train-routing", "learn queue and priority of handoffs from the store's history", runTrainRouting},
	{"train-satisfaction", "learn the risk of a low rating from the store's history", runTrainSatisfaction},
	{"insight", "group the messages the bot did not understand into candidate new intents", runInsight},
	{"train-replies", "train the reply models (retrieval encoder, seq2seq drafts) from reply pairs", runTrainReplies},
	{"eval-replies", "evaluate a reply model: retrieval and generation against baselines", runEvalReplies},
	{"kb", "check help-centre articles, or ask them a question (knowledge-base search)", runKB},
	{"parse", "show what the NLU understands of messages typed in", runParse},
	{"chat", "chat with the bot in the terminal (engine, store and model)", runChat},
	{"customer", "export or erase a customer's data", runCustomer},
	{"agent", "add, list or remove the console's agents, or set their passwords", runAgent},
	{"backup", "write a consistent copy of the store", runBackup},
	{"check", "check the store file and its records, and print what was found", runCheck},
	{"migrate", "copy a bbolt store into a PostgreSQL database, resumable, verified by counts", runMigrate},
}

// errUsage means the command line was wrong and the usage has been printed.
var errUsage = errors.New("usage")

// Run runs the command line args (without the program name) and returns the
// process exit code: 0 on success, 2 on a usage error, 1 on any other error.
func (m *Main) Run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return m.Run(ctx, []string{args[1], "-h"})
		}
		m.usage(m.Stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, m, args[1:])
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(m.Stderr, "bot %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(m.Stderr, "bot: unknown command %q\n\n", args[0])
	m.usage(m.Stderr)
	return 2
}

func (m *Main) usage(w io.Writer) {
	fmt.Fprintln(w, "Parley: a self-hosted customer-support assistant.")
	fmt.Fprintln(w, "\nUsage: bot <command> [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-18s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun \"bot <command> -h\" for the flags of a command.")
}

// flagSet returns a FlagSet for a sub-command whose -h output starts with
// usage line and description.
func (m *Main) flagSet(name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: bot %s %s\n\n%s\n\nFlags:\n", name, synopsis, description)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and turns a bad command line into errUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}

// required fails with the usage when the flag name was left empty.
func required(fs *flag.FlagSet, name, value string) error {
	if value != "" {
		return nil
	}
	fmt.Fprintf(fs.Output(), "--%s is required\n", name)
	fs.Usage()
	return errUsage
}
