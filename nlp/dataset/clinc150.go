package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// clincParser reads CLINC150 JSON with a streaming decoder, so that an error
// can name the line of the item it concerns.
type clincParser struct {
	file  string
	data  []byte
	dec   *json.Decoder
	lines lineCounter
	item  []string // reused decode target
}

// parseCLINC150 reads {"train": [[text, label], ...], "val": ..., "test":
// ..., "oos_train": ..., "oos_val": ..., "oos_test": ...}. The oos_ splits
// are appended to the matching split and must be labelled "oos". Other keys,
// as some CLINC150 variants have, are checked for the same shape and ignored.
func parseCLINC150(name string, data []byte) (*Dataset, error) {
	p := &clincParser{
		file:  name,
		data:  data,
		dec:   json.NewDecoder(bytes.NewReader(data)),
		lines: lineCounter{data: data},
	}
	ds := &Dataset{Format: FormatCLINC150}
	if err := p.expectDelim('{', "the file must be a JSON object"); err != nil {
		return nil, err
	}
	seen := map[string]int{}
	for p.dec.More() {
		off := p.offset()
		tok, err := p.dec.Token()
		if err != nil {
			return nil, p.jsonError(err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, p.errAt(off, "want an object key, found %v", tok)
		}
		line := p.lines.at(off)
		if prev, dup := seen[key]; dup {
			return nil, errorAt(name, line, "key %q appears twice (first on line %d)", key, prev)
		}
		seen[key] = line
		var dst *[]Example
		oos := strings.HasPrefix(key, "oos_")
		switch key {
		case "train", "oos_train":
			dst = &ds.Train
		case "val", "oos_val":
			dst = &ds.Val
		case "test", "oos_test":
			dst = &ds.Test
		default:
			oos = false
		}
		if err := p.split(key, dst, oos); err != nil {
			return nil, err
		}
	}
	if err := p.expectDelim('}', "the JSON object is not closed"); err != nil {
		return nil, err
	}
	if off := p.offset(); len(bytes.TrimSpace(p.data[off:])) != 0 {
		return nil, p.errAt(off, "data after the end of the JSON object")
	}
	return ds, nil
}

// split reads one [[text, label], ...] list into dst; dst nil checks the list
// and drops it. oos demands the label "oos".
func (p *clincParser) split(key string, dst *[]Example, oos bool) error {
	if err := p.expectDelim('[', fmt.Sprintf("%q must be a list of [text, label] pairs", key)); err != nil {
		return err
	}
	for p.dec.More() {
		off := p.offset()
		line := p.lines.at(off)
		p.item = p.item[:0]
		if err := p.dec.Decode(&p.item); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return errorAt(p.file, line, "%q item must be a [text, label] pair of strings, found a %s", key, te.Value)
			}
			return p.jsonError(err)
		}
		if len(p.item) != 2 {
			return errorAt(p.file, line, "%q item must be a [text, label] pair, found %d elements", key, len(p.item))
		}
		text, label := strings.TrimSpace(p.item[0]), strings.TrimSpace(p.item[1])
		if text == "" {
			return errorAt(p.file, line, "%q item has an empty text", key)
		}
		if err := checkName(label, "label"); err != nil {
			return errorAt(p.file, line, "%q item: %s", key, err)
		}
		if oos && label != OutOfScope {
			return errorAt(p.file, line, "%q item has label %q; every item there must be %q", key, label, OutOfScope)
		}
		if dst != nil {
			*dst = append(*dst, Example{Text: text, Intent: label, Line: line})
		}
	}
	return p.expectDelim(']', fmt.Sprintf("%q list is not closed", key))
}

func (p *clincParser) expectDelim(want json.Delim, reason string) error {
	off := p.offset()
	tok, err := p.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return p.errAt(len(p.data), "%s (unexpected end of file)", reason)
		}
		return p.jsonError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return p.errAt(off, "%s", reason)
	}
	return nil
}

// offset returns the offset of the next token: past the spaces and the comma
// or colon that follow the decoder's position.
func (p *clincParser) offset() int {
	off := int(p.dec.InputOffset())
	for off < len(p.data) {
		switch p.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}

func (p *clincParser) errAt(off int, format string, args ...any) *ParseError {
	return errorAt(p.file, p.lines.at(off), format, args...)
}

func (p *clincParser) jsonError(err error) *ParseError {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return p.errAt(int(se.Offset), "JSON syntax: %s", se.Error())
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return p.errAt(len(p.data), "unexpected end of file")
	}
	return p.errAt(p.offset(), "JSON: %s", err.Error())
}

// lineCounter turns byte offsets into 1-based lines; offsets that only grow,
// as a streaming parser produces, cost O(n) in all.
type lineCounter struct {
	data []byte
	off  int // bytes counted so far
	line int // lines before off, minus one
}

func (c *lineCounter) at(off int) int {
	off = min(max(off, 0), len(c.data))
	if off < c.off {
		c.off, c.line = 0, 0
	}
	c.line += bytes.Count(c.data[c.off:off], []byte("\n"))
	c.off = off
	return c.line + 1
}
