package vectors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

const (
	bufSize    = 64 << 10
	maxLine    = 1 << 20 // longest text line (10,000 values of up to 100 bytes)
	textWindow = 4096    // bytes looked at to tell text from binary
)

// parser reads one vectors file. size is the file's length in bytes, or -1.
type parser struct {
	name   string
	br     *bufio.Reader
	size   int64
	line   int // text lines read so far
	set    *Set
	fields []string // scratch for splitFields
	long   []byte   // scratch for a line longer than the buffer
	vec    []byte   // scratch for one binary vector
}

func parse(name string, r io.Reader, size int64) (*Set, error) {
	p := &parser{name: name, br: bufio.NewReaderSize(r, bufSize), size: size}
	first, err := p.readLine()
	if err == io.EOF {
		return nil, p.fail(0, 0, "empty file")
	}
	if err != nil {
		return nil, err
	}
	if n, d, ok := parseHeader(first); ok {
		if err := p.checkHeader(n, d, len(first)); err != nil {
			return nil, err
		}
		p.newSet(n, d)
		if p.looksText() {
			err = p.readText(n)
		} else {
			err = p.readBinary(n)
		}
	} else {
		err = p.readGloVe(first)
	}
	if err != nil {
		return nil, err
	}
	return p.set, nil
}

// fail returns a *ParseError for this file.
func (p *parser) fail(line, word int, format string, args ...any) error {
	return &ParseError{File: p.name, Line: line, Word: word, Reason: fmt.Sprintf(format, args...)}
}

// readLine returns the next line without its line ending. It returns io.EOF
// only when nothing is left.
func (p *parser) readLine() (string, error) {
	b, err := p.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) { // a long line: gather it
		p.long = append(p.long[:0], b...)
		for errors.Is(err, bufio.ErrBufferFull) && len(p.long) <= maxLine {
			b, err = p.br.ReadSlice('\n')
			p.long = append(p.long, b...)
		}
		if len(p.long) > maxLine {
			return "", p.fail(p.line+1, 0, "line longer than %d bytes", maxLine)
		}
		b = p.long
	}
	switch {
	case err == io.EOF && len(b) == 0:
		return "", io.EOF
	case err != nil && err != io.EOF:
		return "", fmt.Errorf("read vectors %s: %w", p.name, err)
	}
	p.line++
	b = bytes.TrimRight(b, "\r\n")
	return string(b), nil
}

// parseHeader recognises a word2vec header line "N D".
func parseHeader(line string) (n, d int, ok bool) {
	var f []string
	f = splitFields(line, f)
	if len(f) != 2 {
		return 0, 0, false
	}
	n, err1 := strconv.Atoi(f[0])
	d, err2 := strconv.Atoi(f[1])
	return n, d, err1 == nil && err2 == nil
}

// checkHeader refuses absurd or impossible sizes before anything is allocated.
func (p *parser) checkHeader(n, d, headerLen int) error {
	switch {
	case n < 1 || d < 1:
		return p.fail(1, 0, "header declares %d words of dimension %d", n, d)
	case d > MaxDim:
		return p.fail(1, 0, "header declares dimension %d (limit %d)", d, MaxDim)
	case n > MaxValues/d:
		return p.fail(1, 0, "header declares %d words of dimension %d, over the limit of %d values", n, d, MaxValues)
	}
	// Each record takes at least a one-byte word and two bytes per value
	// (" 0" in text, four in binary).
	if p.size >= 0 && int64(n)*int64(1+2*d) > p.size-int64(headerLen) {
		return p.fail(1, 0, "header declares %d words of dimension %d, more than the file's %d bytes can hold", n, d, p.size)
	}
	return nil
}

func (p *parser) newSet(words, d int) {
	capWords := words
	if p.size < 0 {
		capWords = min(words, maxLine/d+1) // unknown size: grow with the data
	}
	p.set = &Set{
		dim:   d,
		index: make(map[string]int32, capWords),
		data:  make([]float32, 0, capWords*d),
	}
}

// add stores one vector unless the word was seen before.
func (p *parser) add(word string, values func(dst []float32) error) error {
	if _, dup := p.set.index[word]; dup {
		var scratch [64]float32
		tmp := scratch[:0]
		if p.set.dim > len(scratch) {
			tmp = make([]float32, 0, p.set.dim)
		}
		return values(tmp[:p.set.dim]) // still validated
	}
	if len(p.set.data)+p.set.dim > MaxValues {
		return fmt.Errorf("more than %d values in all", MaxValues)
	}
	start := len(p.set.data)
	p.set.data = slices.Grow(p.set.data, p.set.dim)[:start+p.set.dim]
	if err := values(p.set.data[start:]); err != nil {
		return err
	}
	p.set.index[word] = int32(start / p.set.dim)
	return nil
}

// looksText reports whether what follows the header is text (word2vec text)
// rather than binary: no control bytes other than tab, CR and LF in the first
// textWindow bytes. Binary float32 data nearly always holds some (1.0 is
// 00 00 80 3F); a text file that is malformed, even one with non-UTF-8 words,
// then still gets line-numbered errors.
func (p *parser) looksText() bool {
	b, _ := p.br.Peek(textWindow)
	for _, c := range b {
		if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// readText reads n word2vec text lines after the header.
func (p *parser) readText(n int) error {
	for words := 0; words < n; {
		line, err := p.readLine()
		if err == io.EOF {
			return p.fail(0, 0, "header declares %d words, the file ends after %d", n, words)
		}
		if err != nil {
			return err
		}
		if isBlank(line) {
			continue
		}
		if err := p.textRecord(line); err != nil {
			return err
		}
		words++
	}
	return p.expectEnd(n)
}

// readGloVe reads headerless lines; the first one sets the dimension.
func (p *parser) readGloVe(first string) error {
	f := splitFields(first, nil)
	d := len(f) - 1
	if d < 1 {
		return p.fail(1, 0, "neither a header \"N D\" nor a line \"word v1 ... vD\"")
	}
	if d > MaxDim {
		return p.fail(1, 0, "%d values (limit %d)", d, MaxDim)
	}
	p.newSet(0, d)
	line := first
	for {
		if !isBlank(line) {
			if err := p.textRecord(line); err != nil {
				return err
			}
		}
		var err error
		line, err = p.readLine()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// textRecord parses "word v1 ... vD" (line p.line) into the set.
func (p *parser) textRecord(line string) error {
	p.fields = splitFields(line, p.fields)
	f := p.fields
	if len(f)-1 != p.set.dim {
		return p.fail(p.line, 0, "%d values, want %d", len(f)-1, p.set.dim)
	}
	word := f[0]
	if err := checkWord(word); err != nil {
		return p.fail(p.line, 0, "word %q: %v", word, err)
	}
	err := p.add(word, func(dst []float32) error {
		for i, s := range f[1:] {
			v, err := strconv.ParseFloat(s, 32)
			if err != nil {
				return fmt.Errorf("value %d (%q) is not a float32", i+1, s)
			}
			if err := checkValue(v); err != nil {
				return fmt.Errorf("value %d %v", i+1, err)
			}
			dst[i] = float32(v)
		}
		return nil
	})
	if err != nil {
		return p.fail(p.line, 0, "word %q: %v", word, err)
	}
	return nil
}

// readBinary reads n binary records after the header.
func (p *parser) readBinary(n int) error {
	d := p.set.dim
	p.vec = make([]byte, 4*d)
	for w := 1; w <= n; w++ {
		if err := p.skipNewlines(); err == io.EOF {
			return p.fail(0, 0, "header declares %d words, the file ends after %d", n, w-1)
		} else if err != nil {
			return err
		}
		raw, err := p.br.ReadSlice(' ')
		switch {
		case errors.Is(err, bufio.ErrBufferFull) || len(raw) > maxWord+1:
			return p.fail(0, w, "no space after the word within %d bytes", maxWord)
		case err == io.EOF:
			return p.fail(0, w, "truncated: the file ends inside the word")
		case err != nil:
			return fmt.Errorf("read vectors %s: %w", p.name, err)
		}
		word := string(raw[:len(raw)-1])
		if err := checkWord(word); err != nil {
			return p.fail(0, w, "word %q: %v", word, err)
		}
		if got, err := io.ReadFull(p.br, p.vec); err == io.EOF || err == io.ErrUnexpectedEOF {
			return p.fail(0, w, "word %q: truncated: %d of %d vector bytes", word, got, len(p.vec))
		} else if err != nil {
			return fmt.Errorf("read vectors %s: %w", p.name, err)
		}
		err = p.add(word, func(dst []float32) error {
			for i := range dst {
				v := math.Float32frombits(binary.LittleEndian.Uint32(p.vec[4*i:]))
				if err := checkValue(float64(v)); err != nil {
					return fmt.Errorf("value %d %v", i+1, err)
				}
				dst[i] = v
			}
			return nil
		})
		if err != nil {
			return p.fail(0, w, "word %q: %v", word, err)
		}
	}
	return p.expectEnd(n)
}

func (p *parser) skipNewlines() error {
	for {
		c, err := p.br.ReadByte()
		if err != nil {
			return err
		}
		if c != '\n' && c != '\r' {
			return p.br.UnreadByte()
		}
	}
}

// expectEnd accepts only white space after the n declared words.
func (p *parser) expectEnd(n int) error {
	for {
		c, err := p.br.ReadByte()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read vectors %s: %w", p.name, err)
		}
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return p.fail(0, 0, "data after the %d words the header declares", n)
		}
	}
}

// splitFields splits line on runs of spaces and tabs, reusing dst.
func splitFields(line string, dst []string) []string {
	dst = dst[:0]
	start := -1
	for i := 0; i < len(line); i++ {
		if line[i] == ' ' || line[i] == '\t' {
			if start >= 0 {
				dst = append(dst, line[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		dst = append(dst, line[start:])
	}
	return dst
}

func isBlank(line string) bool {
	for i := 0; i < len(line); i++ {
		if line[i] != ' ' && line[i] != '\t' {
			return false
		}
	}
	return true
}

func checkWord(w string) error {
	switch {
	case w == "":
		return errors.New("empty word")
	case len(w) > maxWord:
		return fmt.Errorf("longer than %d bytes", maxWord)
	case !utf8.ValidString(w):
		return errors.New("not valid UTF-8")
	}
	for i := 0; i < len(w); i++ {
		if w[i] < 0x20 || w[i] == 0x7f {
			return errors.New("contains a control character")
		}
	}
	return nil
}

func checkValue(v float64) error {
	switch {
	case math.IsNaN(v):
		return errors.New("is NaN")
	case math.IsInf(v, 0):
		return errors.New("is infinite")
	}
	return nil
}
