package triage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/atomicfile"
)

// Files in the model directory, beside the NLU model's.
const (
	RoutingFile      = "routing.json"
	SatisfactionFile = "satisfaction.json"
)

// Format names and the version this build writes and reads.
const (
	routingFormat      = "parley-routing"
	satisfactionFormat = "parley-satisfaction"
	formatVersion      = 1
	maxFileBytes       = 64 << 20
)

// RoutingModel chooses the queue and priority of a handoff and says why. It
// implements dialog.Router; it is read-only after training or loading and
// safe for concurrent use.
type RoutingModel struct {
	spec            Spec
	names           []string
	queue, priority *head
	trainedAt       time.Time
	seed            uint64
	report          RoutingReport
}

var _ dialog.Router = (*RoutingModel)(nil)

// Route predicts the queue and priority of the conversation in s. The
// reason names the features that decided: the tree's path ("intent=complaint
// + tier=gold -> urgent") or a linear model's strongest features. Errors
// come from the learners (none for a situation built by the engine).
func (m *RoutingModel) Route(_ context.Context, s dialog.Situation) (dialog.Routing, error) {
	x := m.spec.Vector(s)
	q, err := m.queue.predict(x)
	if err != nil {
		return dialog.Routing{}, fmt.Errorf("route: %w", err)
	}
	p, err := m.priority.predict(x)
	if err != nil {
		return dialog.Routing{}, fmt.Errorf("route: %w", err)
	}
	qwhy, err := m.queue.explain(x, m.names, q)
	if err != nil {
		return dialog.Routing{}, fmt.Errorf("route: %w", err)
	}
	pwhy, err := m.priority.explain(x, m.names, p)
	if err != nil {
		return dialog.Routing{}, fmt.Errorf("route: %w", err)
	}
	return dialog.Routing{
		Queue: q, Priority: crm.Priority(p),
		Reason: fmt.Sprintf("routed by model: queue %s; priority %s", qwhy, pwhy),
	}, nil
}

// FeatureNames returns the names of the model's features, in vector order.
func (m *RoutingModel) FeatureNames() []string { return slices.Clone(m.names) }

// Report returns what training measured (zero for a model loaded from a
// file written without it).
func (m *RoutingModel) Report() RoutingReport { return m.report }

// SatisfactionModel scores the chance that a conversation ends with a low
// rating. It implements dialog.Scorer; read-only and safe for concurrent
// use.
type SatisfactionModel struct {
	spec      Spec
	names     []string
	head      *head
	threshold float64
	trainedAt time.Time
	seed      uint64
	report    SatisfactionReport
}

var _ dialog.Scorer = (*SatisfactionModel)(nil)

// Score returns the risk of a rating of 1 or 2 and whether it reached the
// model's escalation threshold; when it did, Reason names the (at most
// three) features of the conversation that raise the risk most.
func (m *SatisfactionModel) Score(_ context.Context, s dialog.Situation) (dialog.Risk, error) {
	x := m.spec.Vector(s)
	p, err := m.head.proba(x)
	if err != nil {
		return dialog.Risk{}, fmt.Errorf("score satisfaction: %w", err)
	}
	r := dialog.Risk{P: p[1], Escalate: p[1] >= m.threshold}
	if r.Escalate {
		cs, err := m.head.pushes(x, m.names, "low")
		if err != nil {
			return dialog.Risk{}, fmt.Errorf("score satisfaction: %w", err)
		}
		var names []string
		for _, c := range cs[:min(3, len(cs))] {
			names = append(names, c.name)
		}
		r.Reason = strings.Join(names, ", ")
	}
	return r, nil
}

// Explain names the features that raise the risk of s most.
func (m *SatisfactionModel) Explain(s dialog.Situation) (string, error) {
	return m.head.explain(m.spec.Vector(s), m.names, "low")
}

// Threshold returns the risk at which Score says to escalate.
func (m *SatisfactionModel) Threshold() float64 { return m.threshold }

// Report returns what training measured.
func (m *SatisfactionModel) Report() SatisfactionReport { return m.report }

// routingFile is routing.json.
type routingFile struct {
	Format    string        `json:"format"`
	Version   int           `json:"version"`
	TrainedAt time.Time     `json:"trained_at"`
	Seed      uint64        `json:"seed"`
	Features  Spec          `json:"features"`
	Queue     savedHead     `json:"queue"`
	Priority  savedHead     `json:"priority"`
	Report    RoutingReport `json:"report"`
}

// satisfactionFile is satisfaction.json.
type satisfactionFile struct {
	Format    string             `json:"format"`
	Version   int                `json:"version"`
	TrainedAt time.Time          `json:"trained_at"`
	Seed      uint64             `json:"seed"`
	Features  Spec               `json:"features"`
	Threshold float64            `json:"threshold"`
	Model     savedHead          `json:"model"`
	Report    SatisfactionReport `json:"report"`
}

// Save writes the model to dir/routing.json (atomically: a reader sees the
// old file or the new one). Errors come from the file system.
func (m *RoutingModel) Save(dir string) error {
	q, err := m.queue.save()
	if err != nil {
		return fmt.Errorf("save routing: %w", err)
	}
	p, err := m.priority.save()
	if err != nil {
		return fmt.Errorf("save routing: %w", err)
	}
	f := routingFile{Format: routingFormat, Version: formatVersion, TrainedAt: m.trainedAt, Seed: m.seed,
		Features: m.spec, Queue: q, Priority: p, Report: m.report}
	return writeJSON(filepath.Join(dir, RoutingFile), f, "save routing")
}

// Save writes the model to dir/satisfaction.json, atomically.
func (m *SatisfactionModel) Save(dir string) error {
	h, err := m.head.save()
	if err != nil {
		return fmt.Errorf("save satisfaction: %w", err)
	}
	f := satisfactionFile{Format: satisfactionFormat, Version: formatVersion, TrainedAt: m.trainedAt, Seed: m.seed,
		Features: m.spec, Threshold: m.threshold, Model: h, Report: m.report}
	return writeJSON(filepath.Join(dir, SatisfactionFile), f, "save satisfaction")
}

func writeJSON(path string, v any, op string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	err := atomicfile.Write(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(v)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// header is the common start of both files.
type header struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
}

// decode reads a model file: its format and version are checked before the
// rest is decoded into v.
func decode(r io.Reader, format string, v any) error {
	data, err := io.ReadAll(io.LimitReader(r, maxFileBytes+1))
	if err != nil {
		return err
	}
	if len(data) > maxFileBytes {
		return fmt.Errorf("%w: over %d bytes", ErrFormat, maxFileBytes)
	}
	var h header
	if err := json.Unmarshal(data, &h); err != nil {
		return fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if h.Format != format {
		return fmt.Errorf("%w: format %q, want %q", ErrFormat, h.Format, format)
	}
	if h.Version != formatVersion {
		return fmt.Errorf("%w: version %d, this build reads %d", ErrVersion, h.Version, formatVersion)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return nil
}

// ReadRouting reads a routing model saved by Save. Errors: ErrFormat for
// something that is not a consistent routing model (models.ErrDimension
// when its learners do not fit its features), ErrVersion, or r's error.
func ReadRouting(r io.Reader) (*RoutingModel, error) {
	var f routingFile
	if err := decode(r, routingFormat, &f); err != nil {
		return nil, fmt.Errorf("read routing: %w", err)
	}
	if err := f.Features.check(); err != nil {
		return nil, fmt.Errorf("read routing: %w", err)
	}
	d := f.Features.Len()
	q, err := f.Queue.load(d)
	if err != nil {
		return nil, fmt.Errorf("read routing: queue: %w", err)
	}
	p, err := f.Priority.load(d)
	if err != nil {
		return nil, fmt.Errorf("read routing: priority: %w", err)
	}
	for _, c := range p.classes {
		if !slices.Contains(priorities, crm.Priority(c)) {
			return nil, fmt.Errorf("read routing: %w: unknown priority %q", ErrFormat, c)
		}
	}
	for _, c := range q.classes {
		if c == "" {
			return nil, fmt.Errorf("read routing: %w: empty queue name", ErrFormat)
		}
	}
	return &RoutingModel{spec: f.Features, names: f.Features.Names(), queue: q, priority: p,
		trainedAt: f.TrainedAt, seed: f.Seed, report: f.Report}, nil
}

// ReadSatisfaction reads a satisfaction model saved by Save. Errors as for
// ReadRouting, and ErrFormat for a threshold outside 0..1 or a model that
// is not a two-class logistic regression.
func ReadSatisfaction(r io.Reader) (*SatisfactionModel, error) {
	var f satisfactionFile
	if err := decode(r, satisfactionFormat, &f); err != nil {
		return nil, fmt.Errorf("read satisfaction: %w", err)
	}
	if err := f.Features.check(); err != nil {
		return nil, fmt.Errorf("read satisfaction: %w", err)
	}
	if !(f.Threshold >= 0 && f.Threshold <= 1) {
		return nil, fmt.Errorf("read satisfaction: %w: threshold %v", ErrFormat, f.Threshold)
	}
	if f.Model.Learner.Kind != LogReg || len(f.Model.Classes) != 2 {
		return nil, fmt.Errorf("read satisfaction: %w: want a two-class logreg, got %s with %d classes", ErrFormat, f.Model.Learner.Kind, len(f.Model.Classes))
	}
	h, err := f.Model.load(f.Features.Len())
	if err != nil {
		return nil, fmt.Errorf("read satisfaction: %w", err)
	}
	return &SatisfactionModel{spec: f.Features, names: f.Features.Names(), head: h, threshold: f.Threshold,
		trainedAt: f.TrainedAt, seed: f.Seed, report: f.Report}, nil
}

// Load reads dir/routing.json and dir/satisfaction.json for "bot serve". A
// missing file gives a nil Router or Scorer (the engine then routes by its
// rules, or does not score) and no error; a file that cannot be read or is
// not a valid model is an error naming it (see ReadRouting and
// ReadSatisfaction). The returned interfaces are untyped nil when missing.
func Load(dir string) (dialog.Router, dialog.Scorer, error) {
	var router dialog.Router
	var scorer dialog.Scorer
	rm, err := loadFile(filepath.Join(dir, RoutingFile), ReadRouting)
	if err != nil {
		return nil, nil, err
	}
	if rm != nil {
		router = rm
	}
	sm, err := loadFile(filepath.Join(dir, SatisfactionFile), ReadSatisfaction)
	if err != nil {
		return nil, nil, err
	}
	if sm != nil {
		scorer = sm
	}
	return router, scorer, nil
}

func loadFile[T any](path string, read func(io.Reader) (*T, error)) (*T, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	defer f.Close()
	m, err := read(f)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return m, nil
}
