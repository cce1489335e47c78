package slack

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// parseTestdata reads a payload from testdata.
func parseTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseEvents(t *testing.T) {
	tests := []struct {
		file      string
		challenge string
		typ       string
		want      *event // nil: ignored
	}{
		{file: "url_verification.json", typ: "url_verification", challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"},
		{file: "dm.json", typ: "event_callback/message", want: &event{
			Key: "ev:Ev0PV52K21", Kind: kindMessage, Team: "T061EG9R6", Channel: "D0PNCRP9N", ChannelType: "im",
			User: "U061F7AUR", Text: "Hi, where is my order <#C123|general>? Café ☕", TS: "1700000123.000200",
		}},
		{file: "app_mention.json", typ: "event_callback/app_mention", want: &event{
			Key: "ev:Ev0LAN670R", Kind: kindMention, Team: "T061EG9R6", Channel: "C0LAN2Q65", User: "U061F7AUR",
			Text: "<@U0LAN0Z89> is it possible to return a pair of shoes?", TS: "1515449522.000016",
		}},
		{file: "mention_in_thread.json", typ: "event_callback/app_mention", want: &event{
			Key: "ev:Ev0LAN680S", Kind: kindMention, Team: "T061EG9R6", Channel: "C0LAN2Q65", User: "U061F7AUR",
			Text: "<@U0LAN0Z89> still waiting", TS: "1515449600.000100", ThreadTS: "1515449522.000016",
		}},
		{file: "thread_reply.json", typ: "event_callback/message", want: &event{
			Key: "ev:Ev0AG3NT01", Kind: kindMessage, Team: "T061EG9R6", Channel: "C0AGENTS1", ChannelType: "channel",
			User: "U024BE7LH", Text: "note: customer is a VIP", TS: "1700000200.000300", ThreadTS: "1700000100.000100",
		}},
		{file: "message_changed.json", typ: "event_callback/message", want: &event{
			Key: "ev:Ev0PV5EDIT", Kind: kindMessage, Team: "T061EG9R6", Channel: "D0PNCRP9N", ChannelType: "im",
			Subtype: "message_changed", TS: "1700000130.000300",
		}},
		{file: "bot_message.json", typ: "event_callback/message", want: &event{
			Key: "ev:Ev0PVB0T01", Kind: kindMessage, Team: "T061EG9R6", Channel: "D0PNCRP9N", ChannelType: "im",
			BotID: "B0PNCHHK3", Subtype: "bot_message", Text: "Your order shipped yesterday.", TS: "1700000140.000400",
		}},
		{file: "reaction_added.json", typ: "event_callback/reaction_added"},
		{file: "user_change.json", typ: "event_callback/user_change"}, // "user" is an object here
		{file: "app_rate_limited.json", typ: "app_rate_limited"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := parseEvents(parseTestdata(t, "events/"+tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got.Challenge != tt.challenge || got.Type != tt.typ {
				t.Errorf("challenge %q type %q, want %q %q", got.Challenge, got.Type, tt.challenge, tt.typ)
			}
			if !reflect.DeepEqual(got.Event, tt.want) {
				t.Errorf("event\n got %+v\nwant %+v", got.Event, tt.want)
			}
		})
	}
}

func TestParseEventsRejects(t *testing.T) {
	dm := string(parseTestdata(t, "events/dm.json"))
	tests := []struct {
		name string
		body string
	}{
		{"empty", ""},
		{"blank", " \n"},
		{"not json", "hello"},
		{"truncated", dm[:len(dm)/2]},
		{"invalid utf-8", `{"type":"url_verification","challenge":"a` + "\xff\xfe" + `"}`},
		{"array", `[1,2]`},
		{"wrong type of field", `{"type":"event_callback","event_id":"Ev1","event":{"type":"message","text":7}}`},
		{"event not an object", `{"type":"event_callback","event_id":"Ev1","event":"message"}`},
		{"no event", `{"type":"event_callback","event_id":"Ev1"}`},
		{"null event", `{"type":"event_callback","event_id":"Ev1","event":null}`},
		{"no event_id", strings.Replace(dm, `"event_id": "Ev0PV52K21",`, "", 1)},
		{"control character in an id", strings.Replace(dm, `"D0PNCRP9N"`, `"D0\nX"`, 1)},
		{"id too long", strings.Replace(dm, `"D0PNCRP9N"`, `"`+strings.Repeat("D", maxID+1)+`"`, 1)},
		{"challenge missing", `{"type":"url_verification"}`},
		{"too large", `{"type":"url_verification","challenge":"` + strings.Repeat("x", maxBody) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseEvents([]byte(tt.body))
			if !errors.Is(err, errBadPayload) {
				t.Fatalf("got %+v, %v; want an errBadPayload", got, err)
			}
		})
	}
}

func TestParseEventsIgnoresWhatItCannotAnswer(t *testing.T) {
	// A message event without a channel or a ts has nowhere to be
	// answered: ignored, not an error (an error would make Slack retry).
	for _, inner := range []string{
		`{"type":"message","user":"U1","text":"hi","ts":"1.2"}`,
		`{"type":"message","user":"U1","text":"hi","channel":"D1"}`,
	} {
		got, err := parseEvents([]byte(`{"type":"event_callback","event_id":"Ev1","team_id":"T1","event":` + inner + `}`))
		if err != nil || got.Event != nil {
			t.Errorf("%s: got %+v, %v; want ignored", inner, got.Event, err)
		}
	}
}

func TestParseInteraction(t *testing.T) {
	tests := []struct {
		file string
		want []event
	}{
		{"block_actions_dm.json", []event{{
			Key: "act:1700000161.61097.1b3f5e2a9c0d4e7f8a6b5c4d3e2f1a0b:parley_reply", Kind: kindAction,
			Team: "T061EG9R6", Channel: "D0PNCRP9N", User: "U061F7AUR", MessageTS: "1700000160.000500",
			ActionID: "parley_reply", Value: "Track my order",
		}}},
		{"block_actions_thread.json", []event{{ // no channel object: container.channel_id
			Key: "act:1700000170.61097.aa3f5e2a9c0d4e7f8a6b5c4d3e2f1a0b:parley_take", Kind: kindAction,
			Team: "T061EG9R6", Channel: "C0AGENTS1", User: "U024BE7LH", MessageTS: "1700000100.000100",
			ThreadTS: "1700000100.000100", ActionID: "parley_take", Value: "conv_0123456789abcdef",
		}}},
		{"block_actions_select.json", []event{{ // a menu: the selected option's value
			Key: "act:1700000181.61097.cc3f5e2a9c0d4e7f8a6b5c4d3e2f1a0b:parley_csat", Kind: kindAction,
			Team: "T061EG9R6", Channel: "C0LAN2Q65", User: "U061F7AUR", MessageTS: "1700000180.000100",
			ThreadTS: "1515449522.000016", ActionID: "parley_csat", Value: "slack_0123456789abcdef0123:5",
		}}},
		{"view_submission.json", nil},
		{"block_actions_home.json", nil}, // no channel: not a message of ours
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			payload := parseTestdata(t, "interactions/"+tt.file)
			got, err := parseInteraction(payload)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("\n got %+v\nwant %+v", got, tt.want)
			}
			// Over HTTP the same JSON comes as the form field "payload".
			form, err := parseInteractionForm([]byte("payload=" + url.QueryEscape(string(payload))))
			if err != nil || !reflect.DeepEqual(form, got) {
				t.Errorf("form: got %+v, %v; want %+v", form, err, got)
			}
		})
	}
}

func TestParseInteractionSeveralActions(t *testing.T) {
	payload := `{"type":"block_actions","trigger_id":"tr1","user":{"id":"U1"},"channel":{"id":"D1"},
		"container":{"message_ts":"1.1"},"actions":[{"action_id":"a","value":"1"},{"action_id":""},{"action_id":"b","value":"2"}]}`
	got, err := parseInteraction([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Key != "act:tr1:a" || got[1].Key != "act:tr1:b" || got[1].Value != "2" {
		t.Errorf("got %+v; want the two named actions", got)
	}
}

func TestParseInteractionRejects(t *testing.T) {
	click := string(parseTestdata(t, "interactions/block_actions_dm.json"))
	tests := []struct {
		name, form string // form: the whole body
	}{
		{"no payload field", "foo=bar"},
		{"empty payload", "payload="},
		{"bad form encoding", "payload=%zz"},
		{"payload not json", "payload=" + url.QueryEscape("{nope")},
		{"payload invalid utf-8", "payload=" + url.QueryEscape(`{"type":"block_actions","trigger_id":"`+"\xff"+`"}`)},
		{"no trigger_id", "payload=" + url.QueryEscape(strings.Replace(click, `"trigger_id": "1700000161.61097.1b3f5e2a9c0d4e7f8a6b5c4d3e2f1a0b",`, "", 1))},
		{"action_id too long", "payload=" + url.QueryEscape(strings.Replace(click, `"action_id": "parley_reply", "block_id"`, `"action_id": "`+strings.Repeat("a", maxID+1)+`", "block_id"`, 1))},
		{"too large", "payload=" + strings.Repeat("x", maxBody)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseInteractionForm([]byte(tt.form))
			if !errors.Is(err, errBadPayload) {
				t.Fatalf("got %+v, %v; want an errBadPayload", got, err)
			}
		})
	}
}
