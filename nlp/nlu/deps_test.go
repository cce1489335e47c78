package nlu_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps nlu light: the dialog engine imports it for the
// result types, so anything nlu links, dialog links too. It may import the
// standard library only, and of that not net/http; Gorgonia, the tokenizer
// and bbolt stay out.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", ".").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	const self = "github.com/parleyhq/parley/nlp/nlu"
	var sawSelf bool
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, std, _ := strings.Cut(line, " ")
		switch {
		case pkg == self:
			sawSelf = true
		case std != "true":
			t.Errorf("nlu links %s: it may import the standard library only", pkg)
		case pkg == "net/http" || strings.HasPrefix(pkg, "net/http/"):
			t.Errorf("nlu links %s: it must not depend on HTTP", pkg)
		}
	}
	if !sawSelf {
		t.Fatalf("go list did not list nlu:\n%s", out)
	}
}
