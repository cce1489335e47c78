package dialog

import (
	"context"
	"sync/atomic"

	"github.com/parleyhq/parley/nlp/nlu"
)

// Parser turns a customer's text into meaning. *nlp.Model implements it.
type Parser interface {
	Parse(ctx context.Context, text string) (*nlu.Result, error)
}

// SwapParser is the one parser a server shares between its engine and its
// API: Swap replaces the model while serving (a retrained model, say), and
// every Parse after it uses the new one; a parse under way finishes with
// the old. Safe for concurrent use.
type SwapParser struct {
	p atomic.Pointer[parserBox]
}

type parserBox struct{ p Parser }

// NewSwapParser returns a SwapParser that parses with p (nil: none yet).
func NewSwapParser(p Parser) *SwapParser {
	s := &SwapParser{}
	s.Swap(p)
	return s
}

// Swap makes p the parser; nil leaves none (Parse fails with ErrNoParser).
func (s *SwapParser) Swap(p Parser) {
	if p == nil {
		s.p.Store(nil)
		return
	}
	s.p.Store(&parserBox{p})
}

// Loaded reports whether a parser is set.
func (s *SwapParser) Loaded() bool { return s.p.Load() != nil }

// Parse implements Parser with the current parser, or fails with
// ErrNoParser when there is none.
func (s *SwapParser) Parse(ctx context.Context, text string) (*nlu.Result, error) {
	b := s.p.Load()
	if b == nil {
		return nil, ErrNoParser
	}
	return b.p.Parse(ctx, text)
}
