package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/dialog/triage"
	"github.com/parleyhq/parley/internal/shoptest"
)

// TestTrainTriage trains both models end to end on a fresh store (seeded
// with the demo shop and its history) with the tiny NLU model and a domain
// for it with the demo shop's frustration cues, then loads them as "bot
// serve" does.
func TestTrainTriage(t *testing.T) {
	dir := t.TempDir()
	model := trainTiny(t, dir)
	store := filepath.Join(dir, "data")
	cues := shoptest.Domain(t).Policy.FrustrationCues
	domain := writeTinyDomain(t, dir, cues)

	code, out, errOut := run(t, "", "train-routing", "--data-dir", store, "--model-dir", model, "--domain", domain, "--folds", "3", "--seed", "2")
	if code != 0 {
		t.Fatalf("train-routing exit %d:\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"new store", "loaded the demo shop"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	for _, want := range []string{"read ", "handed-off conversations, 3-fold cross-validation, seed 2",
		"queue (", "priority (", "majority class", "macro-F1", "tree(depth", "<- saved", "wrote " + filepath.Join(model, triage.RoutingFile)} {
		if !strings.Contains(out, want) {
			t.Errorf("train-routing output lacks %q:\n%s", want, out)
		}
	}
	// The saved learner beats the majority class on the queue's macro-F1
	// (with the tiny NLU model, which knows only three intents, mostly by
	// tier, history and frustration cues alone).
	rows := regexp.MustCompile(`(?m)^  (majority class|\S+\(.*?\))\s+([\d.]+)%\s+([\d.]+)%(  <- saved)?$`).FindAllStringSubmatch(out, -1)
	if len(rows) < 4 {
		t.Fatalf("no table rows in:\n%s", out)
	}
	base, _ := strconv.ParseFloat(rows[0][3], 64)
	var saved float64
	for _, r := range rows[1:] {
		if r[1] == "majority class" {
			break
		}
		if r[4] != "" {
			saved, _ = strconv.ParseFloat(r[3], 64)
		}
	}
	if saved <= base {
		t.Errorf("queue: saved learner's macro-F1 %.1f%% does not beat the majority's %.1f%%:\n%s", saved, base, out)
	}

	code, out, errOut = run(t, "", "train-satisfaction", "--data-dir", store, "--model-dir", model, "--domain", domain, "--folds", "3")
	if code != 0 {
		t.Fatalf("train-satisfaction exit %d:\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"rated conversations", "AUC", "Brier", "base rate", "logreg(C=", "escalate at risk >=", "wrote " + filepath.Join(model, triage.SatisfactionFile)} {
		if !strings.Contains(out, want) {
			t.Errorf("train-satisfaction output lacks %q:\n%s", want, out)
		}
	}
	router, scorer, err := triage.Load(model)
	if err != nil || router == nil || scorer == nil {
		t.Fatalf("Load = %v, %v, %v", router, scorer, err)
	}
	// Both count the domain's frustration cues, the list the policy uses.
	for _, file := range []string{triage.RoutingFile, triage.SatisfactionFile} {
		var saved struct {
			Features struct{ Cues []string } `json:"features"`
		}
		b, err := os.ReadFile(filepath.Join(model, file))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &saved); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(saved.Features.Cues, cues) {
			t.Errorf("%s counts the cues %q, want the domain's %q", file, saved.Features.Cues, cues)
		}
	}
}

// writeTinyDomain writes tinyDomain with the frustration cues to
// dir/domain.yml and returns its path.
func writeTinyDomain(t *testing.T, dir string, cues []string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("  frustration_cues:\n")
	for _, c := range cues {
		b.WriteString("    - " + strconv.Quote(c) + "\n")
	}
	text := strings.Replace(tinyDomain, "policy:\n", "policy:\n"+b.String(), 1)
	path := filepath.Join(dir, "domain.yml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTrainTriageErrors(t *testing.T) {
	dir, _ := seedStore(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown learner", []string{"train-routing", "--data-dir", dir, "--model", "forest"}, 2, "unknown model \"forest\""},
		{"stray argument", []string{"train-satisfaction", "--data-dir", dir, "now"}, 2, "unexpected argument"},
		{"one fold", []string{"train-routing", "--data-dir", dir, "--folds", "1", "--model-dir", t.TempDir()}, 1, "--folds 1"},
		{"no NLU model", []string{"train-satisfaction", "--data-dir", dir, "--model-dir", t.TempDir()}, 1, "bot train-satisfaction:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, "", tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}

// TestTrainTriageStoreInUse holds the store the way "bot serve" does.
func TestTrainTriageStoreInUse(t *testing.T) {
	dir := t.TempDir()
	model := trainTiny(t, dir)
	store, _ := seedStore(t)
	held, err := boltdb.Open(filepath.Join(store, storeFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	for _, cmd := range []string{"train-routing", "train-satisfaction"} {
		code, _, stderr := run(t, "", cmd, "--data-dir", store, "--model-dir", model)
		if code != 1 || !strings.Contains(stderr, "bot serve") || !strings.Contains(stderr, "one process per file") {
			t.Errorf("%s: exit %d, stderr %q", cmd, code, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(model, triage.RoutingFile)); !os.IsNotExist(err) {
		t.Errorf("a model was written: %v", err)
	}
}

// TestTrainTriagePostgres: the routing model of a cluster is trained from
// its PostgreSQL store (seeded with the demo shop's history on first use),
// with the store named in the output.
func TestTrainTriagePostgres(t *testing.T) {
	pg := clusterPostgres(t)
	dir := t.TempDir()
	model := trainTiny(t, dir)
	domain := writeTinyDomain(t, dir, shoptest.Domain(t).Policy.FrustrationCues)
	code, out, errOut := run(t, "", "train-routing", "--data-dir", filepath.Join(dir, "data"), "--store", pg,
		"--model-dir", model, "--domain", domain, "--folds", "3")
	if code != 0 {
		t.Fatalf("train-routing exit %d:\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "resolved conversations from PostgreSQL") || !strings.Contains(out, "wrote "+filepath.Join(model, triage.RoutingFile)) {
		t.Errorf("train-routing on PostgreSQL:\n%s", out)
	}
	if strings.Contains(out+errOut, "password") {
		t.Errorf("the output shows a password:\n%s\n%s", out, errOut)
	}
}
