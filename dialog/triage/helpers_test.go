package triage

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/internal/shoptest"
	nludata "github.com/parleyhq/parley/nlp/dataset"
	"github.com/parleyhq/parley/nlp/nlu"
)

// now is the tests' clock.
var now = time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)

// keywordNLU is a stand-in for the NLU model: the first rule whose words
// all occur in the lower-cased text gives the intent; nothing matching is
// out of scope. Order numbers (4 to 6 digits) are entities.
type keywordNLU struct{}

var keywordRules = []struct {
	intent string
	words  []string
}{
	{"human_agent", []string{"human"}}, {"human_agent", []string{"agent"}}, {"human_agent", []string{"speak to someone"}},
	{"refund_status", []string{"refund", "where"}}, {"refund_status", []string{"still no refund"}}, {"refund_status", []string{"refund", "when"}},
	{"request_refund", []string{"refund"}}, {"request_refund", []string{"money back"}},
	{"delivery_problem", []string{"never arrived"}}, {"delivery_problem", []string{"damaged"}}, {"delivery_problem", []string{"lost"}},
	{"delivery_problem", []string{"missing"}}, {"delivery_problem", []string{"says delivered"}},
	{"change_address", []string{"address"}}, {"cancel_order", []string{"cancel"}},
	{"change_order", []string{"change the size"}}, {"change_order", []string{"swap"}}, {"change_order", []string{"add a second"}},
	{"return_item", []string{"return"}}, {"return_item", []string{"send back"}},
	{"warranty", []string{"warranty"}}, {"warranty", []string{"stopped working"}}, {"warranty", []string{"faulty"}},
	{"payment_problem", []string{"charged"}}, {"payment_problem", []string{"payment"}}, {"payment_problem", []string{"declined"}},
	{"get_invoice", []string{"invoice"}}, {"get_invoice", []string{"receipt"}},
	{"login_problem", []string{"log in"}}, {"login_problem", []string{"password"}},
	{"delete_account", []string{"delete"}}, {"delete_account", []string{"data removed"}}, {"delete_account", []string{"close my account"}},
	{"delivery_time", []string{"arrive"}}, {"delivery_time", []string{"expect"}}, {"delivery_time", []string{"how long"}},
	{"order_status", []string{"order"}}, {"order_status", []string{"shipped"}},
	{"complaint", []string{"not happy"}}, {"complaint", []string{"rude"}}, {"complaint", []string{"disappointed"}},
	{"complaint", []string{"poor"}}, {"complaint", []string{"ridiculous"}}, {"complaint", []string{"unacceptable"}},
	{"complaint", []string{"worst"}},
	{"product_info", []string{"waterproof"}}, {"product_info", []string{"sizes"}}, {"product_info", []string{"battery"}},
	{"product_info", []string{"dimmer"}},
	{"thanks", []string{"thank"}}, {"greet", []string{"hi"}}, {"greet", []string{"hello"}},
}

var orderNumber = regexp.MustCompile(`\b\d{4,6}\b`)

func (keywordNLU) Parse(_ context.Context, text string) (*nlu.Result, error) {
	lower := strings.ToLower(text)
	r := &nlu.Result{Text: text}
	for _, rule := range keywordRules {
		all := true
		for _, w := range rule.words {
			if !strings.Contains(lower, w) {
				all = false
				break
			}
		}
		if all {
			r.Intent, r.Confidence, r.InScope = rule.intent, 0.9, true
			break
		}
	}
	if !r.InScope {
		r.Intent, r.Confidence = "greet", 0.2
	}
	for _, loc := range orderNumber.FindAllStringIndex(text, -1) {
		r.Entities = append(r.Entities, nlu.Entity{Type: "order_id", Text: text[loc[0]:loc[1]], Value: text[loc[0]:loc[1]], Start: loc[0], End: loc[1]})
	}
	return r, nil
}

// seededStore is a store in t.TempDir() with the demo shop's seed and
// history.
func seededStore(t testing.TB) *boltdb.DB { return shoptest.Store(t, now) }

func seedCustomerIDs(t testing.TB) []string {
	t.Helper()
	s, err := shop.Seed(now)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range s.Customers {
		ids = append(ids, c.ID)
	}
	return ids
}

// historyData is the demo history read through keywordNLU, once per test
// binary; tests only read it.
var historyData = sync.OnceValues(func() (*Dataset, error) {
	dir, err := os.MkdirTemp("", "parley-triage-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	db, err := boltdb.Open(filepath.Join(dir, "parley.db"), &boltdb.Options{Now: func() time.Time { return now }})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := shop.EnsureSeeded(ctx, db, now); err != nil {
		return nil, err
	}
	return ReadDataset(ctx, db, keywordNLU{})
})

// shopDomain is the demo shop's dialog domain (shoptest.Domain, without a
// test to fail), parsed once per test binary: its frustration cues are the
// ones training counts.
var shopDomain = sync.OnceValues(func() (*dialog.Domain, error) {
	ds, err := nludata.Parse("shop/nlu.yml", shop.NLU(), nludata.FormatParley)
	if err != nil {
		return nil, err
	}
	return dialog.ParseDomain("shop/domain.yml", shop.Domain(), ds.Intents())
})

// opts returns o with the demo shop's domain.
func opts(t testing.TB, o Options) Options {
	t.Helper()
	d, err := shopDomain()
	if err != nil {
		t.Fatal(err)
	}
	o.Domain = d
	return o
}

// dataset returns the demo history read through keywordNLU.
func dataset(t testing.TB) *Dataset {
	t.Helper()
	ds, err := historyData()
	if err != nil {
		t.Fatal(err)
	}
	return ds
}
