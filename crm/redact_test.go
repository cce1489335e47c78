package crm

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/datasets"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text", "where is my order?", "where is my order?"},
		{"order number stays", "order 1042 has not arrived", "order 1042 has not arrived"},
		{"visa with spaces", "my card is 4111 1111 1111 1111 thanks", "my card is [card redacted] thanks"},
		{"visa no separators", "4111111111111111", "[card redacted]"},
		{"mastercard dashes", "card: 5555-5555-5555-4444.", "card: [card redacted]."},
		{"amex 15 digits", "amex 3782 822463 10005 ok", "amex [card redacted] ok"},
		{"13 digits", "old visa 4222222222222", "old visa [card redacted]"},
		{"19 digits", "4000000000000000006 is long", "[card redacted] is long"},
		{"spaced dash", "4111 - 1111 - 1111 - 1111", "[card redacted]"},
		{"luhn invalid stays", "4111 1111 1111 1112", "4111 1111 1111 1112"},
		{"too long run is not a card", "41111111111111111111", "41111111111111111111"},
		{"12 digits is not a card", "411111111111", "411111111111"},
		{"card then expiry group", "4111 1111 1111 1111 1225", "[card redacted] 1225"},
		{"card after text digits", "id 77 4111111111111111", "id 77 [card redacted]"},
		{"two cards", "4111111111111111 or 5555555555554444", "[card redacted] or [card redacted]"},
		{"card glued to letters", "x4111111111111111y", "x[card redacted]y"},
		{"code is", "the code is 482913", "the code is [code redacted]"},
		{"otp colon", "OTP: 1234", "OTP: [code redacted]"},
		{"verification code", "verification code 123456", "verification code [code redacted]"},
		{"code first", "482913 is your verification code", "[code redacted] is your verification code"},
		{"pin", "my PIN is 4321.", "my PIN is [code redacted]."},
		{"passcode grouped", "passcode: 482 913", "passcode: [code redacted]"},
		{"glued to keyword", "code482913", "code[code redacted]"},
		{"eight digits", "code 12345678", "code [code redacted]"},
		{"nine digits not a code", "code 123456789", "code 123456789"},
		{"three digits not a code", "code 123", "code 123"},
		{"cvv three digits", "cvv 123", "cvv [code redacted]"},
		{"one-time password", "482913 is your one-time password", "[code redacted] is your one-time password"},
		{"zip code stays", "my zip code is 80331", "my zip code is 80331"},
		{"postal code stays", "postal code 8001", "postal code 8001"},
		{"discount code stays", "discount code 2024 did not work", "discount code 2024 did not work"},
		{"code far away", "I got a code for order 1042", "I got a code for order 1042"},
		{"sentence break", "I need a code. 1042 is my order", "I need a code. 1042 is my order"},
		{"two codes", "code 1234 and pin 5678", "code [code redacted] and pin [code redacted]"},
		{"code between numbers", "1234 code 5678", "[code redacted] code [code redacted]"},
		{"numbers then code", "1234, 5678 code", "1234, [code redacted] code"},
		{"card and code", "card 4111111111111111 code 1234", "card [card redacted] code [code redacted]"},
		{"unicode around", "Ihr Code lautet: Code 4821 – danke ✓", "Ihr Code lautet: Code [code redacted] – danke ✓"},
		{"curly apostrophe", "it’s code 4821", "it’s code [code redacted]"},
		{"placeholder kept", "[card redacted] and [code redacted]", "[card redacted] and [code redacted]"},
		{"phone stays", "call me at +41 79 123 45 67", "call me at +41 79 123 45 67"},
		{"invalid utf8 kept", "code 4821 \xff", "code [code redacted] \xff"},

		// Card numbers with dots or slashes between the groups.
		{"visa with dots", "4111.1111.1111.1111", "[card redacted]"},
		{"visa with slashes", "card 4111/1111/1111/1111 please", "card [card redacted] please"},
		{"dots then full stop", "my card is 4012.8888.8888.1881.", "my card is [card redacted]."},
		{"amex with dots", "amex 3782.822463.10005", "amex [card redacted]"},
		{"mixed separators", "4111.1111 1111-1111", "[card redacted]"},
		{"dotted luhn invalid stays", "4111.1111.1111.1112", "4111.1111.1111.1112"},
		{"slashed card then expiry", "6011/1111/1111/1117/1225", "[card redacted]/1225"},
		{"card after a date", "paid on 3/3/2026 with 5555 5555 5555 4444", "paid on 3/3/2026 with [card redacted]"},
		{"dotted short groups are not a card", "1.2.3.4.5.6.7.8.9.0.1.2.8", "1.2.3.4.5.6.7.8.9.0.1.2.8"},
		{"date with slashes stays", "delivered on 3/3/2026", "delivered on 3/3/2026"},
		{"two dates stay", "between 12/03/2026 15/04/2026 please", "between 12/03/2026 15/04/2026 please"},
		{"dotted dates stay", "from 10.03.2026 - 12.03.2026", "from 10.03.2026 - 12.03.2026"},
		{"dotted phone stays", "call 0041.79.123.45.15 or 415.555.2671", "call 0041.79.123.45.15 or 415.555.2671"},
		{"ip address stays", "server 192.168.100.200", "server 192.168.100.200"},
		{"prices stay", "it cost $1,299.99 and 4.111,11 EUR, 1.234.567.890 in total", "it cost $1,299.99 and 4.111,11 EUR, 1.234.567.890 in total"},

		// Spaced one-time codes.
		{"code spaced digits", "code is 4 8 2 9 1 3", "code is [code redacted]"},
		{"code in two groups", "my code is 482 913", "my code is [code redacted]"},
		{"code with dashes", "the OTP is 48-29-13", "the OTP is [code redacted]"},
		{"spaced code first", "4 8 2 9 1 3 is your verification code", "[code redacted] is your verification code"},
		{"code they sent me", "the code they sent me is 4 8 2 9 1 3", "the code they sent me is [code redacted]"},
		{"code for an order", "the code for order 1042 is 482913", "the code for order 1042 is [code redacted]"},
		{"code for my order number", "the code for my order number 1042 is 482 913", "the code for my order number 1042 is [code redacted]"},
		{"spaced pin", "my PIN: 4 3 2 1.", "my PIN: [code redacted]."},
		{"bank pin is a secret", "my bank pin is 4321", "my bank pin is [code redacted]"},
		{"verification spaced", "verification 731 604", "verification [code redacted]"},

		// What must survive.
		{"order then code", "order 1042 code 1234", "order 1042 code [code redacted]"},
		{"order number then pin", "order number 1042, my pin is 4321", "order number 1042, my pin is [code redacted]"},
		{"invoice then code", "invoice 2231 code 9876", "invoice 2231 code [code redacted]"},
		{"order alone", "1042", "1042"},
		{"order in a sentence", "my order 1042 hasn't arrived, it was due 3/3/2026", "my order 1042 hasn't arrived, it was due 3/3/2026"},
		{"phone near code word", "call 079 123 45 67 for the code", "call 079 123 45 67 for the code"},
		{"price near code word", "the promo code saved me 12.50 on 1299", "the promo code saved me 12.50 on 1299"},
		{"code for an order number", "I got a code for 1042", "I got a code for 1042"},
		{"date near code", "the code expired on 3/3/2026", "the code expired on 3/3/2026"},
		{"zip then pin", "zip 80331, pin 1234", "zip 80331, pin [code redacted]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Redact(tt.in)
			if got != tt.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if again := Redact(got); again != got {
				t.Errorf("Redact is not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestRedactJSON(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no digits unchanged", `{"intent": "greet" }`, `{"intent": "greet" }`},
		{"nothing to redact unchanged", `{"order": 1042, "text":"order 1042"}`, `{"order": 1042, "text":"order 1042"}`},
		{"string redacted", `{"text":"card 4111111111111111"}`, `{"text":"card [card redacted]"}`},
		{"nested", `{"entities":[{"value":"code 1234"}]}`, `{"entities":[{"value":"code [code redacted]"}]}`},
		{"number card", `{"n":4111111111111111,"m":12}`, `{"m":12,"n":"[card redacted]"}`},
		{"key redacted", `{"4111111111111111":true}`, `{"[card redacted]":true}`},
		{"big numbers kept", `{"x":1.5e300}`, `{"x":1.5e300}`},
		{"negative number card", `{"n":-4111111111111111}`, `{"n":"[card redacted]"}`},
		{"dotted card in text", `{"text":"card 4111.1111.1111.1111"}`, `{"text":"card [card redacted]"}`},
		{"entity text and value", `{"entities":[{"text":"4111 1111 1111 1111","value":"4111111111111111"}]}`,
			`{"entities":[{"text":"[card redacted]","value":"[card redacted]"}]}`},
		// A parse of the raw text split the card into order numbers and
		// took the code for one: the entities overlapping what Redact
		// replaces in the text go with it, the order number stays.
		{"entities split from a raw text",
			`{"text":"order 1042: card 4111 1111 1111 1111, code 482913","intent":"refund","entities":[` +
				`{"type":"order_id","text":"1042","value":"1042","start":6,"end":10},` +
				`{"type":"order_id","text":"4111","value":"4111","start":17,"end":21},` +
				`{"type":"order_id","text":"1111","value":"1111","start":32,"end":36},` +
				`{"type":"order_id","text":"482913","value":"482913","start":43,"end":49}]}`,
			`{"entities":[` +
				`{"end":10,"start":6,"text":"1042","type":"order_id","value":"1042"},` +
				`{"end":21,"start":17,"text":"[card redacted]","type":"order_id","value":"[card redacted]"},` +
				`{"end":36,"start":32,"text":"[card redacted]","type":"order_id","value":"[card redacted]"},` +
				`{"end":49,"start":43,"text":"[code redacted]","type":"order_id","value":"[code redacted]"}],` +
				`"intent":"refund","text":"order 1042: card [card redacted], code [code redacted]"}`},
		{"rune offsets", `{"text":"café ✓ code 4821","entities":[{"text":"4821","value":"4821","start":12,"end":16}]}`,
			`{"entities":[{"end":16,"start":12,"text":"[code redacted]","value":"[code redacted]"}],"text":"café ✓ code [code redacted]"}`},
		{"colliding keys keep the first", `{"code 1234":"a","code 5678":"b"}`, `{"code [code redacted]":"a"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RedactParse(json.RawMessage(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	for _, bad := range []string{``, `{`, `{} {}`, `nul`} {
		if _, err := RedactParse(json.RawMessage(bad)); err == nil {
			t.Errorf("RedactParse(%q) accepted", bad)
		}
	}
}

// TestValidateRedacts: what a store keeps of conversations, tickets and
// feedback has its card numbers and codes redacted, and the caller's maps
// are not changed.
func TestValidateRedacts(t *testing.T) {
	const (
		raw  = "refund it to card 4111 1111 1111 1111, code is 482913"
		want = "refund it to card [card redacted], code is [code redacted]"
	)
	t.Run("conversation slots", func(t *testing.T) {
		slots := map[string]string{"reason": raw, "order_id": "1042", "card 4111.1111.1111.1111": "x"}
		c := Conversation{ID: "conv_1", Channel: ChannelWeb, State: StateBot, Priority: PriorityNormal, Slots: slots}
		if err := ValidateConversation(&c); err != nil {
			t.Fatal(err)
		}
		wantSlots := map[string]string{"reason": want, "order_id": "1042", "card [card redacted]": "x"}
		if !maps.Equal(c.Slots, wantSlots) {
			t.Errorf("slots %q, want %q", c.Slots, wantSlots)
		}
		if slots["reason"] != raw || len(slots) != 3 {
			t.Errorf("the caller's map changed: %q", slots)
		}
		again := c
		if err := ValidateConversation(&again); err != nil || !maps.Equal(again.Slots, wantSlots) {
			t.Errorf("validated again: %q, %v", again.Slots, err)
		}
	})
	t.Run("slots without secrets keep their map", func(t *testing.T) {
		slots := map[string]string{"order_id": "1042", "reason": "wrong size"}
		c := Conversation{ID: "conv_1", Channel: ChannelWeb, State: StateBot, Priority: PriorityNormal, Slots: slots}
		if err := ValidateConversation(&c); err != nil {
			t.Fatal(err)
		}
		slots["reason"] = "changed"
		if c.Slots["reason"] != "changed" {
			t.Error("a map with nothing to redact was copied")
		}
	})
	t.Run("redacted slot over the limit", func(t *testing.T) {
		// Redaction happens before the size check, so what is stored is
		// within the limit and validates again on every update.
		long := strings.Repeat("a", maxField-len(" code 4821")) + " code 4821"
		c := Conversation{ID: "conv_1", Channel: ChannelWeb, State: StateBot, Priority: PriorityNormal,
			Slots: map[string]string{"reason": long}}
		if err := ValidateConversation(&c); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateConversation = %v, want ErrInvalid", err)
		}
	})
	t.Run("ticket", func(t *testing.T) {
		tk := Ticket{ID: "tkt_1", CustomerID: "cus_1", Status: TicketOpen, Priority: PriorityNormal, Subject: "Return (reason: " + raw + ")",
			History: []TicketEvent{{Actor: "bot", Note: "opened: " + raw}}}
		if err := ValidateTicket(&tk); err != nil {
			t.Fatal(err)
		}
		if tk.Subject != "Return (reason: "+want+")" || tk.History[0].Note != "opened: "+want {
			t.Errorf("ticket %q / %q", tk.Subject, tk.History[0].Note)
		}
	})
	t.Run("feedback", func(t *testing.T) {
		f := Feedback{ID: "fb_1", CustomerID: "cus_1", Score: 2, Comment: raw}
		if err := ValidateFeedback(&f); err != nil {
			t.Fatal(err)
		}
		if f.Comment != want {
			t.Errorf("comment %q", f.Comment)
		}
	})
}

// cardLeft reports a Luhn-valid span of 13-19 digits, grouped as Redact
// groups them, that is still in s: one piece of digits, or groups joined by
// spaces and dashes, or by dots and slashes between groups of three digits
// or more.
func cardLeft(s string) (string, bool) {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) || (i > 0 && isDigit(s[i-1])) {
			continue
		}
		r := scanRun(s, i, true)
		for g := range r.groups {
			var digits []byte
			dotted := false
			for h := g; h < len(r.groups); h++ {
				if h > g && r.joins[h-1] != 0 {
					dotted = true
				}
				digits = append(digits, s[r.groups[h][0]:r.groups[h][1]]...)
				if len(digits) > 19 {
					break
				}
				if dotted && slices.ContainsFunc(r.groups[g:h+1], func(gr [2]int) bool { return gr[1]-gr[0] < minDottedGroup }) {
					break
				}
				if len(digits) >= 13 && len(digits) <= 19 && luhn(digits) {
					return s[r.groups[g][0]:r.groups[h][1]], true
				}
			}
		}
		i = r.end() - 1
	}
	return "", false
}

// plainCardLeft reports a run of 13-19 digits, with no digit on either
// side, that passes the Luhn check: a card number written in one piece.
func plainCardLeft(s string) (string, bool) {
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if n := j - i; n >= 13 && n <= 19 && luhn([]byte(s[i:j])) {
			return s[i:j], true
		}
		i = j
	}
	return "", false
}

func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"my card is 4111 1111 1111 1111 thanks",
		"5555-5555-5555-4444",
		"amex 3782 822463 10005",
		"the code is 482913",
		"OTP: 1234",
		"482913 is your verification code",
		"1234 code 5678 9012 3456 7890",
		"code 4111 1111 1111 1111 1234",
		"[card redacted] 12 [code redacted] code 1",
		"zip code 80331, pin 1234",
		"it’s code 4821 \xff",
		"1-2-3-4-5-6-7-8-9-0-1-2-3-4-5-6",
		"refund it to card 4111 1111 1111 1111, code is 482913",
		"my card 4012.8888.8888.1881 was charged twice",
		"card 6011/1111/1111/1117 exp 12/27",
		"the code they sent me is 4 8 2 9 1 3",
		"OTP 48-29-13, order 1042",
		"the code for order 1042 is 482 913",
		"order 1042 code 1234",
		"delivered on 3/3/2026, call 415.555.2671",
		"it cost $1,299.99 (4.111,11 EUR)",
		"1.2.3.4.5.6.7.8.9.0.1.2.8",
		"my order 1042 hasn't arrived",
		"I was charged twice on 3 March",
	} {
		f.Add(s)
	}
	addDatasetSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		out := Redact(s)
		if got := replace(s, redactions(s)); got != out {
			t.Fatalf("redactions disagree with Redact:\n in  %q\n got %q\n want %q", s, got, out)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("valid input %q gave invalid output %q", s, out)
		}
		if again := Redact(out); again != out {
			t.Fatalf("not idempotent:\n in  %q\n out %q\n 2nd %q", s, out, again)
		}
		if c, ok := cardLeft(out); ok {
			t.Fatalf("card %q left in %q (from %q)", c, out, s)
		}
		if c, ok := plainCardLeft(out); ok {
			t.Fatalf("card %q left in %q (from %q)", c, out, s)
		}
		if strings.IndexAny(s, "0123456789") < 0 && out != s {
			t.Fatalf("text without digits changed: %q -> %q", s, out)
		}
		checkSlots(t, s)
		checkEntities(t, s)
	})
}

// A card number and a code that the fuzz targets plant after the fuzzed
// text, and what must be left of them.
const (
	plant    = " card 4111 1111 1111 1111, code is 482913"
	planted  = " card [card redacted], code is [code redacted]"
	maxFuzzy = 1000 // longest fuzzed text put in a slot (its redaction stays within maxField)
)

// secretLeft fails t when v holds a card number or a code.
func secretLeft(t *testing.T, what, v, from string) {
	t.Helper()
	if c, ok := cardLeft(v); ok {
		t.Fatalf("%s: card %q left in %q (from %q)", what, c, v, from)
	}
	if c, ok := plainCardLeft(v); ok {
		t.Fatalf("%s: card %q left in %q (from %q)", what, c, v, from)
	}
	if r := Redact(v); r != v {
		t.Fatalf("%s: %q still holds what Redact replaces (%q; from %q)", what, v, r, from)
	}
}

// checkSlots puts s in conversation slots, as a value and as a name, and
// passes the conversation through what a store does before it writes it
// (ValidateConversation).
func checkSlots(t *testing.T, s string) {
	if len(s) > maxFuzzy {
		return
	}
	slots := map[string]string{"reason": s, "planted": s + plant}
	if s != "" && len(s) <= MaxKeyPart/4 && s != "reason" && s != "planted" {
		slots[s] = "x"
	}
	c := Conversation{ID: "conv_1", Channel: ChannelWeb, State: StateBot, Priority: PriorityNormal, Slots: slots}
	err := ValidateConversation(&c)
	if !utf8.ValidString(s) {
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("slot %q not valid UTF-8: ValidateConversation = %v, want ErrInvalid", s, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("slot %q: %v", s, err)
	}
	for k, v := range c.Slots {
		secretLeft(t, "slot name", k, s)
		secretLeft(t, "slot "+k, v, s)
	}
	if c.Slots["reason"] != Redact(s) {
		t.Fatalf("slot %q stored as %q, want %q", s, c.Slots["reason"], Redact(s))
	}
	if !strings.HasSuffix(c.Slots["planted"], planted) {
		t.Fatalf("planted secrets left in slot %q", c.Slots["planted"])
	}
	if slots["reason"] != s {
		t.Fatalf("the caller's slots changed: %q", slots)
	}
}

// checkEntities puts s in an NLU result, as its text and an entity, after
// which a card number and a code were split into entities (as a parse of a
// text that was not redacted does), and passes it through RedactParse.
func checkEntities(t *testing.T, s string) {
	if !utf8.ValidString(s) {
		return // JSON would carry U+FFFD instead
	}
	type entity struct {
		Type  string `json:"type"`
		Text  string `json:"text"`
		Value string `json:"value"`
		Start int    `json:"start"`
		End   int    `json:"end"`
	}
	type result struct {
		Text     string   `json:"text"`
		Intent   string   `json:"intent"`
		Entities []entity `json:"entities"`
	}
	text := s + plant
	base := utf8.RuneCountInString(s)
	in := result{Text: text, Intent: "return_item", Entities: []entity{{"order_id", s, s, 0, base}}}
	pieces := []struct{ piece, want string }{
		{"4111", CardPlaceholder}, {"1111", CardPlaceholder}, {"1111 1111", CardPlaceholder}, {"482913", CodePlaceholder},
	}
	for _, p := range pieces {
		at := base + strings.Index(plant, p.piece) // plant is ASCII: bytes are runes
		in.Entities = append(in.Entities, entity{"order_id", p.piece, p.piece, at, at + len(p.piece)})
	}
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := RedactParse(raw)
	if err != nil {
		t.Fatalf("RedactParse(%s): %v", raw, err)
	}
	var got result
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got.Text != Redact(text) || !strings.HasSuffix(got.Text, planted) {
		t.Fatalf("parse text %q, want %q ending in %q", got.Text, Redact(text), planted)
	}
	if len(got.Entities) != len(in.Entities) {
		t.Fatalf("entities %+v", got.Entities)
	}
	for i, p := range pieces {
		if e := got.Entities[i+1]; e.Text != p.want || e.Value != p.want {
			t.Fatalf("entity %q of %q left as %+v", p.piece, text, e)
		}
	}
	if e := got.Entities[0]; e.Text != e.Value || e.Text != Redact(s) && e.Text != CardPlaceholder && e.Text != CodePlaceholder {
		t.Fatalf("entity %q stored as %+v", s, e)
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			secretLeft(t, "parse", x, s)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for k, e := range x {
				secretLeft(t, "parse key", k, s)
				walk(e)
			}
		}
	}
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	walk(v)
}

func FuzzRedactJSON(f *testing.F) {
	for _, s := range []string{
		`{"intent":"greet","text":"my pin is 1234"}`,
		`{"n":4111111111111111,"entities":[{"value":"4111 1111 1111 1111","start":3}]}`,
		`[1, "code 12345", {"4111111111111111": null}]`,
		`"plain"`, `12`, `{"x":1.5e300}`, `{"a":{"b":[true,false,null]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, err := RedactParse(raw)
		if err != nil {
			if json.Valid(raw) {
				t.Fatalf("valid JSON %q refused: %v", raw, err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("%q gave invalid JSON %q", raw, out)
		}
		again, err := RedactParse(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", raw, out, again, err)
		}
	})
}

// addDatasetSeeds adds a few customer utterances from the shared datasets,
// when present, as fuzz seeds (never stored in the repository).
func addDatasetSeeds(f *testing.F) {
	dir, _ := datasets.Dir()
	matches, _ := filepath.Glob(filepath.Join(dir, "*", "*.csv"))
	for _, m := range matches {
		data, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		lines := bytes.Split(data, []byte("\n"))
		for i := 1; i < len(lines) && i < 50; i++ {
			f.Add(string(lines[i]))
		}
	}
}

func BenchmarkRedact(b *testing.B) {
	texts := []string{
		"Hi, I ordered a pair of shoes last week (order 1042) and they still have not arrived. Can you check?",
		"my card 4111 1111 1111 1111 was charged twice, the code they sent is 482913",
	}
	for _, s := range texts {
		b.Run(s[:10], func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				Redact(s)
			}
		})
	}
}
