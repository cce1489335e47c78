package dialog_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps dialog pure logic: neither it nor anything it
// links (ours or a library's) is an HTTP, websocket, Slack, storage engine
// or Gorgonia package. It reads the store through the crm contract and NLU
// results through nlp/nlu, which link none of them.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	banned := []string{"net/http", "github.com/gorilla/websocket", "github.com/slack-go/slack", "go.etcd.io/bbolt",
		"gorgonia.org/gorgonia", "gorgonia.org/tensor", "github.com/sugarme/tokenizer", "github.com/jackc/pgx", "github.com/nats-io"}
	var sawDialog bool
	for _, pkg := range strings.Fields(string(out)) {
		sawDialog = sawDialog || pkg == "github.com/parleyhq/parley/dialog"
		for _, b := range banned {
			if pkg == b || strings.HasPrefix(pkg, b+"/") {
				t.Errorf("dialog links %s", pkg)
			}
		}
	}
	if !sawDialog {
		t.Fatalf("go list did not list dialog:\n%s", out)
	}
}
