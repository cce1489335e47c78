package dialog_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps dialog pure logic. Neither dialog nor any Parley
// package it pulls in imports HTTP or bbolt (except crm, which owns bbolt),
// and no websocket or Slack library is linked at all. (The tokenizer inside
// nlp links net/http for downloads Parley never calls; that edge belongs to
// the library, not to us.)
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}: {{join .Imports \" \"}}", ".").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	const self = "github.com/parleyhq/parley"
	var sawDialog bool
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ": ")
		ours := pkg == self || strings.HasPrefix(pkg, self+"/")
		sawDialog = sawDialog || pkg == self+"/dialog"
		for _, imp := range strings.Fields(imports) {
			switch {
			case under(imp, "github.com/gorilla/websocket"), under(imp, "github.com/slack-go/slack"):
				t.Errorf("%s imports %s: dialog must not link it", pkg, imp)
			case ours && under(imp, "net/http"):
				t.Errorf("%s imports %s: dialog must not depend on HTTP", pkg, imp)
			case ours && under(imp, "go.etcd.io/bbolt") && pkg != self+"/crm":
				t.Errorf("%s imports %s: only crm may use bbolt", pkg, imp)
			}
		}
	}
	if !sawDialog {
		t.Fatalf("go list did not list dialog:\n%s", out)
	}
}

func under(imp, pkg string) bool { return imp == pkg || strings.HasPrefix(imp, pkg+"/") }
