package slack

import "testing"

func TestAgentPlainFromSlack(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a &lt;b&gt; &amp;amp; c", "a <b> &amp; c"},
		{"see <https://x.example/a?b=1&amp;c=2>", "see https://x.example/a?b=1&c=2"},
		{"see <https://x.example|x.example>", "see https://x.example"},
		{"see <https://x.example/faq|the FAQ>", "see the FAQ (https://x.example/faq)"},
		{"mail <mailto:a@b.example|a@b.example>", "mail a@b.example"},
		{"hi <@U123> in <#C1|general> <!here>", "hi @U123 in #general @here"},
		{"<!subteam^S1|@support> ping", "@support ping"},
		{"unclosed < tag", "unclosed < tag"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := plainFromSlack(tt.in); got != tt.want {
			t.Errorf("plainFromSlack(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestAgentHelpers(t *testing.T) {
	for _, tt := range []struct {
		in, note string
		ok       bool
	}{{"note: x", "x", true}, {"NOTE:  check refund ", "check refund", true}, {"Note:", "", true}, {"notes: x", "", false}, {"no", "", false}, {"a note: x", "", false}} {
		if note, ok := cutNote(tt.in); note != tt.note || ok != tt.ok {
			t.Errorf("cutNote(%q) = %q, %v; want %q, %v", tt.in, note, ok, tt.note, tt.ok)
		}
	}
	for id, want := range map[string]bool{actionTake: true, actionReturn: true, actionResolve: true, "parley_reply": false, "parley_csat_1": false, "": false} {
		if got := isAgentAction(id); got != want {
			t.Errorf("isAgentAction(%q) = %v", id, got)
		}
	}
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{{"abc", 5, "abc"}, {"a &amp; b", 4, "a …"}, {"ab&lt;cd", 5, "ab…"}, {"abc&amp;", 8, "abc&amp;"}, {"äöüäöü", 4, "äöü…"}} {
		if got := agentClipMrkdwn(tt.in, tt.n); got != tt.want {
			t.Errorf("agentClipMrkdwn(%q, %d) = %q; want %q", tt.in, tt.n, got, tt.want)
		}
	}
	if got := riskWords(0.62); got != "high (62%)" {
		t.Errorf("riskWords = %q", got)
	}
}
