package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/crm/boltdb"
	"github.com/parleyhq/parley/internal/shop"
	"github.com/parleyhq/parley/internal/shoptest"
)

// tinyReplies are train-replies flags that train in seconds.
var tinyReplies = []string{"--epochs", "25", "--hidden", "24", "--max-out", "28"}

// tinyRepliesData is the pairs the tiny replies model learns.
var tinyRepliesData = filepath.Join("testdata", "replies.csv")

// trainedReplies is one train-replies run: its model folder and output.
type trainedReplies struct {
	dir, out, errs string
	code           int
}

// tinyRepliesRun trains the tiny replies model once per test binary
// (train-replies is slow under the race detector), in a folder left in the
// system's temporary directory like shoptest.ModelDir. Tests must not
// change it.
var tinyRepliesRun = sync.OnceValue(func() trainedReplies {
	dir, err := os.MkdirTemp("", "parley-replies-")
	if err != nil {
		return trainedReplies{code: 1, errs: err.Error()}
	}
	r := trainedReplies{dir: filepath.Join(dir, "replies")}
	var out, errb bytes.Buffer
	r.code = NewMain(&out, &errb).Run(context.Background(), append([]string{"train-replies", "--data", tinyRepliesData, "--out", r.dir, "--seed", "3"}, tinyReplies...))
	r.out, r.errs = out.String(), errb.String()
	return r
})

// tinyRepliesModel returns the tiny replies model's folder, failing the
// test when its training failed.
func tinyRepliesModel(t *testing.T) string {
	t.Helper()
	if r := tinyRepliesRun(); r.code != 0 {
		t.Fatalf("train-replies exit %d\n%s\n%s", r.code, r.out, r.errs)
	}
	return tinyRepliesRun().dir
}

func TestTrainEvalReplies(t *testing.T) {
	t.Parallel()
	model, data := tinyRepliesModel(t), tinyRepliesData
	out, errs := tinyRepliesRun().out, tinyRepliesRun().errs
	for _, want := range []string{"read 180 pairs", "encoder epoch 1/", "seq2seq epoch 1/25", "hybrid weight", "nearest neighbour by", "wrote " + model, "peak memory:"} {
		if !strings.Contains(out+errs, want) {
			t.Errorf("train-replies output lacks %q:\n%s%s", want, out, errs)
		}
	}

	code, out, errs := run(t, "", "eval-replies", "--model", model, "--data", data, "--split", "test", "--json")
	if code != 0 {
		t.Fatalf("eval-replies exit %d\n%s", code, errs)
	}
	var rep struct {
		N         int `json:"n"`
		Retrieval map[string]struct {
			R1 *float64 `json:"r1"`
		} `json:"retrieval"`
		Generation map[string]struct {
			RougeL *float64 `json:"rouge_l"`
		} `json:"generation"`
		LatencyMS    map[string]float64 `json:"latency_ms"`
		TrainSeconds float64            `json:"train_seconds"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("eval-replies --json: %v\n%s", err, out)
	}
	if rep.N == 0 || len(rep.Retrieval) != 3 || len(rep.Generation) != 2 || rep.LatencyMS["generate_p95"] <= 0 || rep.TrainSeconds <= 0 {
		t.Errorf("eval-replies --json = %s", out)
	}

	code, out, _ = run(t, "", "eval-replies", "--model", model, "--data", data, "--split", "val", "--samples", "2")
	if code != 0 || !strings.Contains(out, "hybrid (w ") || !strings.Contains(out, "seq2seq (beam 1)") || !strings.Contains(out, "[2] customer:") {
		t.Errorf("eval-replies readable report (exit %d):\n%s", code, out)
	}
}

func TestTrainRepliesFromStore(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), storeFile)
	db, err := boltdb.Open(path, &boltdb.Options{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := shop.EnsureSeeded(context.Background(), db, time.Now()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	model := filepath.Join(t.TempDir(), "replies")
	code, out, errs := run(t, "", append([]string{"train-replies", "--data", path, "--format", "parley", "--out", model}, tinyReplies...)...)
	if code != 0 || !strings.Contains(errs, "(message, reply) pairs from "+path) || !strings.Contains(out, "wrote "+model) {
		t.Fatalf("train-replies --format parley: exit %d\n%s\n%s", code, out, errs)
	}
}

func TestRepliesBadInput(t *testing.T) {
	dir := t.TempDir()
	notBitext := filepath.Join(dir, "intents.csv")
	if err := os.WriteFile(notBitext, []byte("text,intent\nhi,greet\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"no data", []string{"train-replies"}, 2, "--data is required"},
		{"unknown format", []string{"train-replies", "--data", "testdata/replies.csv", "--format", "rasa"}, 1, `--format "rasa": want bitext or parley`},
		{"missing file", []string{"train-replies", "--data", filepath.Join(dir, "nope.csv")}, 1, "no such file"},
		{"not bitext", []string{"train-replies", "--data", notBitext}, 1, "instruction"},
		{"store missing", []string{"train-replies", "--data", filepath.Join(dir, "parley.db"), "--format", "parley"}, 1, "no such file; want the bbolt store"},
		{"store is a folder", []string{"train-replies", "--data", dir, "--format", "parley"}, 1, "is a folder"},
		{"no model", []string{"eval-replies", "--model", filepath.Join(dir, "m"), "--data", "testdata/replies.csv"}, 1, "no replies model"},
		{"bad split", []string{"eval-replies", "--data", "testdata/replies.csv", "--split", "dev"}, 1, `--split: unknown split "dev": want test, val or train`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := run(t, "", tt.args...)
			if code != tt.wantCode || !strings.Contains(out+errs, tt.want) {
				t.Errorf("exit %d, want %d with %q:\n%s%s", code, tt.wantCode, tt.want, out, errs)
			}
		})
	}
}

// TestServeReplyDrafts: "bot serve --replies DIR" adds the model's draft
// to the suggested replies (REST API), after the ranked ones; a folder
// without a model stops serve with a message naming the flag.
func TestServeReplyDrafts(t *testing.T) {
	t.Parallel()
	model := tinyRepliesModel(t)
	data := filepath.Join(t.TempDir(), "data")
	s := startServe(t, "--data-dir", data, "--model", shoptest.ModelDir(t), "--api-token", "s3cret-token", "--replies", model)
	conn, welcome := dialChat(t, s.base, "")
	defer conn.Close()
	send(t, conn, map[string]any{"v": 1, "type": "message", "client_id": "c1", "text": "can you help me track my parcel"})
	readUntil(t, conn, func(f wsFrame) bool { return f.Type == "message" && f.Sender == "bot" && f.ClientID == "" })

	got := suggestionsOf(t, s.base, "s3cret-token", welcome.ConversationID)
	if len(got) == 0 {
		t.Fatal("no suggestions")
	}
	last := got[len(got)-1]
	// The tiny model learnt the tracking reply; the visitor has no order,
	// so its number stays for the agent to fill.
	if last.Source != "draft" || last.Ref != "model" || !strings.HasPrefix(last.Text, "Your order {{Order Number}} is on its way.") || last.Score != 0 {
		t.Errorf("last suggestion %+v, want the model's tracking draft", last)
	}

	code, _, errs := run(t, "", "serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(t.TempDir(), "d2"), "--model", shoptest.ModelDir(t), "--replies", filepath.Join(t.TempDir(), "none"))
	if code != 1 || !strings.Contains(errs, "--replies: ") || !strings.Contains(errs, "no replies model") {
		t.Errorf("serve with a folder without a model: exit %d, %s", code, errs)
	}
}

// suggestion is one entry of GET /api/v1/conversations/{id}/suggestions.
type suggestion struct {
	Source, Ref, Text string
	Score             float64
}

// suggestionsOf reads a conversation's suggested replies through the REST
// API with the given token; anything but 200 and a decodable body fails.
func suggestionsOf(t *testing.T, base, token, convID string) []suggestion {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/conversations/"+convID+"/suggestions", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct{ Suggestions []suggestion }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("suggestions: %d, %v", resp.StatusCode, err)
	}
	return got.Suggestions
}
