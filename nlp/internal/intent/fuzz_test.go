package intent

import (
	"bytes"
	"slices"
	"testing"
)

// FuzzLoad feeds Load damaged weights files, seeded with a real one: it must
// refuse them with an error, never panic, and what it accepts must save
// back to a file it reads the same.
func FuzzLoad(f *testing.F) {
	feat, n := tinyNet(f, 4, 1)
	var buf bytes.Buffer
	if err := Save(&buf, feat, &Ensemble{Nets: []*Net{n}}); err != nil {
		f.Fatal(err)
	}
	saved := buf.Bytes()
	f.Add(saved)
	f.Add(saved[:len(saved)/3])
	f.Add([]byte(weightsMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, e, err := Load(data)
		if err != nil {
			return
		}
		var again bytes.Buffer
		if err := Save(&again, g, e); err != nil {
			t.Fatal(err)
		}
		g2, _, err := Load(again.Bytes())
		if err != nil {
			t.Fatalf("a file Load accepted does not load once saved again: %v", err)
		}
		if !slices.Equal(g.Words, g2.Words) || !slices.Equal(g.Hashes, g2.Hashes) {
			t.Fatal("the features changed on a second save and load")
		}
	})
}
