package slack

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"unicode/utf8"
)

// fuzzSeeds adds every testdata payload under dir to f's corpus.
func fuzzSeeds(f *testing.F, dir string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/%s: %v", dir, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// fuzzCheckEvent fails t unless ev is one the adapter can take: a key,
// a known kind, UTF-8 text and ids that fit the state store.
func fuzzCheckEvent(t *testing.T, ev event) {
	t.Helper()
	if ev.Key == "" || checkKey(ev.Key) != nil {
		t.Fatalf("bad key %q", ev.Key)
	}
	if ev.Kind < kindMessage || ev.Kind > kindAction {
		t.Fatalf("bad kind %d", ev.Kind)
	}
	for _, s := range []string{ev.Team, ev.Channel, ev.ChannelType, ev.User, ev.BotID, ev.Subtype, ev.TS, ev.ThreadTS, ev.ActionID, ev.MessageTS} {
		if len(s) > maxID || !utf8.ValidString(s) {
			t.Fatalf("bad id %q in %+v", s, ev)
		}
	}
	if !utf8.ValidString(ev.Text) || !utf8.ValidString(ev.Value) {
		t.Fatalf("text or value not UTF-8: %+v", ev)
	}
	if ev.Channel == "" {
		t.Fatalf("no channel: %+v", ev)
	}
}

func FuzzParseEvent(f *testing.F) {
	fuzzSeeds(f, "events")
	f.Add([]byte(`{"type":"event_callback","event_id":"E","event":{"type":"message","channel":"D","ts":"1","text":"\ud800"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := parseEvents(body)
		if err != nil {
			if !errors.Is(err, errBadPayload) {
				t.Fatalf("error %v does not wrap errBadPayload", err)
			}
			return
		}
		if got.Challenge != "" && got.Event != nil {
			t.Fatal("both a challenge and an event")
		}
		if got.Event != nil {
			if got.Event.Kind == kindAction {
				t.Fatal("an Events API body gave a click")
			}
			fuzzCheckEvent(t, *got.Event)
		}
	})
}

func FuzzParseInteraction(f *testing.F) {
	fuzzSeeds(f, "interactions")
	f.Add([]byte(`{"type":"block_actions","trigger_id":"t","channel":{"id":"C"},"actions":[{"action_id":"a"},{"action_id":"a"}]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		got, err := parseInteraction(payload)
		if err != nil {
			if !errors.Is(err, errBadPayload) {
				t.Fatalf("error %v does not wrap errBadPayload", err)
			}
		}
		for _, ev := range got {
			if ev.Kind != kindAction {
				t.Fatalf("kind %d, want a click", ev.Kind)
			}
			fuzzCheckEvent(t, ev)
		}
		// The form the HTTP endpoint gets parses to the same events.
		if !utf8.Valid(payload) || len(payload) == 0 || 3*len(payload)+8 > maxBody {
			return // bad bytes, none or too many make another error; covered above
		}
		form, ferr := parseInteractionForm([]byte("payload=" + url.QueryEscape(string(payload))))
		if (ferr == nil) != (err == nil) || !reflect.DeepEqual(form, got) {
			t.Fatalf("form gave %+v, %v; payload gave %+v, %v", form, ferr, got, err)
		}
	})
}
