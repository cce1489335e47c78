package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/dialog/triage"
)

// triageFlags are the flags train-routing and train-satisfaction share.
type triageFlags struct {
	dataDir, modelDir, domain *string
	store                     storeFlags
	folds                     *int
	seed                      *uint64
}

func addTriageFlags(fs *flag.FlagSet) triageFlags {
	return triageFlags{
		dataDir:  dataDirFlag(fs),
		store:    addStoreFlag(fs),
		modelDir: fs.String("model-dir", "", "model `directory`: its NLU model parses stored messages that lack a parse, and the new model is written there (default: DATA-DIR/model)"),
		domain:   fs.String("domain", os.Getenv("PARLEY_DOMAIN"), "domain `file` whose frustration cues the models count, as \"bot serve\" uses it (env PARLEY_DOMAIN; default: the embedded demo shop)"),
		folds:    fs.Int("folds", 5, "cross-validation folds"),
		seed:     fs.Uint64("seed", 1, "random seed: the same store and seed give the same model"),
	}
}

const triageAbout = "The store is DATA-DIR/parley.db or --store (a new one is seeded with the demo shop\n" +
	"and its SYNTHETIC history of past conversations). Messages stored without an NLU\n" +
	"parse (imported history) are parsed with the NLU model in MODEL-DIR, which is\n" +
	"trained from the embedded demo data first when MODEL-DIR is the default and has none.\n" +
	"A bbolt store allows one process: stop \"bot serve\" first. A PostgreSQL store is read\n" +
	"while the nodes serve. Restart the server (every node) to load the new model."

func runTrainRouting(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("train-routing", "[--data-dir DIR] [--store PATH|URL] [--model-dir DIR] [--domain FILE] [--model tree|logreg|svm|auto] [--folds 5] [--seed N]",
		"Learns the queue and priority agents gave handed-off conversations, from the CRM's\n"+
			"resolved conversations, prints k-fold cross-validated accuracy and macro-F1 next\n"+
			"to the majority-class baseline, and writes MODEL-DIR/"+triage.RoutingFile+". \"bot serve\"\n"+
			"then routes handoffs with it and stores why (the tree's path).\n"+triageAbout)
	f := addTriageFlags(fs)
	kind := fs.String("model", "tree", "learner: tree (explainable), logreg, svm, or auto (the best of all by cross-validation)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	k, err := triage.ParseKind(*kind)
	if err != nil {
		fmt.Fprintln(fs.Output(), err)
		fs.Usage()
		return errUsage
	}
	ds, dir, domain, err := readTriageData(ctx, m, f)
	if err != nil {
		return err
	}
	model, rep, err := triage.TrainRouting(ctx, ds, triage.Options{Domain: domain, Model: k, Folds: *f.folds, Seed: *f.seed})
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "routing: %d handed-off conversations, %d-fold cross-validation, seed %d\n", rep.Conversations, rep.Folds, *f.seed)
	printTarget(m.Stdout, "queue", rep.Queue)
	printTarget(m.Stdout, "priority", rep.Priority)
	if err := model.Save(dir); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "wrote %s\n", filepath.Join(dir, triage.RoutingFile))
	return nil
}

func printTarget(w io.Writer, what string, r triage.TargetReport) {
	var classes []string
	for i, c := range r.Classes {
		classes = append(classes, fmt.Sprintf("%s %d", c, r.Counts[i]))
	}
	fmt.Fprintf(w, "\n%s (%s)\n", what, strings.Join(classes, ", "))
	fmt.Fprintf(w, "  %-18s %9s %9s\n", "learner", "accuracy", "macro-F1")
	fmt.Fprintf(w, "  %-18s %8.1f%% %8.1f%%\n", "majority class", 100*r.Baseline.Accuracy, 100*r.Baseline.MacroF1)
	for i, l := range r.Tried {
		mark := ""
		if l == r.Chosen {
			mark = "  <- saved"
		}
		fmt.Fprintf(w, "  %-18s %8.1f%% %8.1f%%%s\n", l, 100*r.Scores[i].Accuracy, 100*r.Scores[i].MacroF1, mark)
	}
}

func runTrainSatisfaction(ctx context.Context, m *Main, args []string) error {
	fs := m.flagSet("train-satisfaction", "[--data-dir DIR] [--store PATH|URL] [--model-dir DIR] [--domain FILE] [--folds 5] [--seed N]",
		"Learns the chance that a conversation ends with a rating of 1 or 2, from every\n"+
			"customer message of the CRM's rated conversations, prints k-fold cross-validated\n"+
			"AUC and Brier score next to the base rate, chooses the risk at which the bot hands\n"+
			"over early, and writes MODEL-DIR/"+triage.SatisfactionFile+". \"bot serve\" then scores\n"+
			"every conversation after each message and escalates above that risk.\n"+triageAbout)
	f := addTriageFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ds, dir, domain, err := readTriageData(ctx, m, f)
	if err != nil {
		return err
	}
	model, rep, err := triage.TrainSatisfaction(ctx, ds, triage.Options{Domain: domain, Folds: *f.folds, Seed: *f.seed})
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "satisfaction: %d rated conversations (%d rated 1-2), %d scored messages, %d-fold cross-validation, seed %d\n",
		rep.Conversations, rep.Low, rep.Samples, rep.Folds, *f.seed)
	fmt.Fprintf(m.Stdout, "  %-18s %7s %7s\n", "", "AUC", "Brier")
	fmt.Fprintf(m.Stdout, "  %-18s %7.3f %7.4f\n", "base rate", rep.BaseAUC, rep.BaseBrier)
	for i, l := range rep.Tried {
		mark := ""
		if l == rep.Learner {
			mark = "  <- saved"
		}
		fmt.Fprintf(m.Stdout, "  %-18s %7.3f %7.4f%s\n", l, rep.AUCs[i], rep.Briers[i], mark)
	}
	fmt.Fprintf(m.Stdout, "escalate at risk >= %.2f (out of fold: precision %.0f%%, recall %.0f%%)\n",
		rep.Threshold, 100*rep.Precision, 100*rep.Recall)
	if err := model.Save(dir); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "wrote %s\n", filepath.Join(dir, triage.SatisfactionFile))
	return nil
}

// readTriageData loads the NLU model and the domain, opens the store and
// reads the training data. It returns the model directory to write to.
func readTriageData(ctx context.Context, m *Main, f triageFlags) (*triage.Dataset, string, *dialog.Domain, error) {
	if *f.folds < 2 {
		return nil, "", nil, fmt.Errorf("--folds %d: want 2 or more", *f.folds)
	}
	sp, err := f.store.spec(*f.dataDir)
	if err != nil {
		return nil, "", nil, err
	}
	nlu, dir, db, err := openServeModelAndStore(ctx, m, *f.dataDir, *f.modelDir, sp)
	if err != nil {
		return nil, "", nil, err
	}
	defer db.Close()
	domain, err := loadDomain(*f.domain, nlu.Labels())
	if err != nil {
		return nil, "", nil, err
	}
	ds, err := triageDataset(ctx, db, nlu)
	if err != nil {
		return nil, "", nil, err
	}
	fmt.Fprintf(m.Stdout, "read %d resolved conversations from %s; parsed %d stored messages with the NLU model in %s\n",
		len(ds.Conversations), db.name, ds.Parsed, dir)
	return ds, dir, domain, nil
}

// triageDataset reads every customer's history from the store.
func triageDataset(ctx context.Context, db triage.Source, nlu dialog.Parser) (*triage.Dataset, error) {
	return triage.ReadDataset(ctx, db, nlu)
}

// ensureTriageModels trains the routing and satisfaction models into dir
// with the defaults and the domain's frustration cues when it has none, so
// that a new "bot serve" routes with the demo history from the start. A
// store without enough history to train on is not an error: the engine then
// routes by the domain's rules.
func ensureTriageModels(ctx context.Context, m *Main, db triage.Source, nlu dialog.Parser, domain *dialog.Domain, dir string) error {
	_, errR := os.Stat(filepath.Join(dir, triage.RoutingFile))
	_, errS := os.Stat(filepath.Join(dir, triage.SatisfactionFile))
	if !errors.Is(errR, fs.ErrNotExist) && !errors.Is(errS, fs.ErrNotExist) {
		return nil
	}
	fmt.Fprintf(m.Stderr, "no routing or satisfaction model in %s: training them from the store's history\n", dir)
	err := trainTriageModels(ctx, m, db, nlu, domain, dir, errors.Is(errR, fs.ErrNotExist), errors.Is(errS, fs.ErrNotExist))
	// The dataset and the cross-validation are garbage now: give their
	// memory back to the OS at once (see releaseTrainingMemory).
	releaseTrainingMemory()
	return err
}

// trainTriageModels trains and saves the routing model (when routing) and
// the satisfaction model (when satisfaction) from the store's history.
func trainTriageModels(ctx context.Context, m *Main, db triage.Source, nlu dialog.Parser, domain *dialog.Domain, dir string, routing, satisfaction bool) error {
	ds, err := triageDataset(ctx, db, nlu)
	if err != nil {
		return err
	}
	opts := triage.Options{Domain: domain, Folds: 5, Seed: 1}
	if routing {
		model, rep, err := triage.TrainRouting(ctx, ds, opts)
		switch {
		case errors.Is(err, triage.ErrNoData), errors.Is(err, triage.ErrOneClass):
			fmt.Fprintf(m.Stderr, "  routing: %v; handoffs follow the domain's rules\n", err)
		case err != nil:
			return err
		default:
			if err := model.Save(dir); err != nil {
				return err
			}
			fmt.Fprintf(m.Stderr, "  routing: queue %.1f%% accurate in cross-validation (majority class %.1f%%), priority %.1f%% (%.1f%%)\n",
				100*rep.Queue.ChosenScore().Accuracy, 100*rep.Queue.Baseline.Accuracy, 100*rep.Priority.ChosenScore().Accuracy, 100*rep.Priority.Baseline.Accuracy)
		}
	}
	if satisfaction {
		model, rep, err := triage.TrainSatisfaction(ctx, ds, opts)
		switch {
		case errors.Is(err, triage.ErrNoData), errors.Is(err, triage.ErrOneClass):
			fmt.Fprintf(m.Stderr, "  satisfaction: %v; no scoring\n", err)
		case err != nil:
			return err
		default:
			if err := model.Save(dir); err != nil {
				return err
			}
			fmt.Fprintf(m.Stderr, "  satisfaction: AUC %.3f in cross-validation (base rate %.3f)\n", rep.AUC, rep.BaseAUC)
		}
	}
	return nil
}
