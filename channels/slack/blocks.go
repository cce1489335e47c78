package slack

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// Slack's limits on what a message may carry, and the prefixes of the
// customer side's buttons' action ids.
const (
	maxTextRunes   = 3000 // a text object, and the text of a message
	maxButtonRunes = 75   // a button's label
	maxValueBytes  = 2000 // a button's value
	maxButtons     = 25   // elements of one actions block

	// A click on a quick reply: action id "parley_reply" and an index
	// (action ids must differ within a block), value the reply's text.
	actionReply = "parley_reply"
	// A click on a CSAT button: action id "parley_csat" and the score,
	// value "<conversation id>:<score>".
	actionCSAT = "parley_csat"
)

// isAction reports whether actionID is one of the buttons whose ids start
// with prefix: the prefix itself or the prefix, "_" and a suffix.
func isAction(actionID, prefix string) bool {
	rest, ok := strings.CutPrefix(actionID, prefix)
	return ok && (rest == "" || rest[0] == '_')
}

// clip cuts s to at most n runes; a cut text ends in "…".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	i, k := 0, 0
	for j := range s {
		if k == n-1 {
			i = j
			break
		}
		k++
	}
	return s[:i] + "…"
}

// clipBytes cuts s to at most n bytes, at a rune boundary; a cut text ends
// in "…".
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	end := max(n-len("…"), 0)
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + "…"
}

// escapeClip escapes untrusted text for mrkdwn (see escape) and cuts the
// result to at most n runes, never inside an entity; a cut text ends in
// "…". Cutting after escaping keeps a text full of "<" within Slack's
// limits.
func escapeClip(s string, n int) string {
	e := escape(s)
	if utf8.RuneCountInString(e) <= n {
		return e
	}
	var b strings.Builder
	k := 0
	for _, r := range s {
		piece := escape(string(r))
		if k+utf8.RuneCountInString(piece) > n-1 {
			break
		}
		b.WriteString(piece)
		k += utf8.RuneCountInString(piece)
	}
	return b.String() + "…"
}

// mrkdwnSection is a section block showing text, which must be escaped
// already.
func mrkdwnSection(text string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)
}

// button is a button labelled label (untrusted: escaped and clipped) that
// sends actionID and value (clipped to Slack's limit) when clicked.
func button(actionID, label, value string) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(actionID, clipBytes(value, maxValueBytes),
		slack.NewTextBlockObject(slack.PlainTextType, escapeClip(label, maxButtonRunes), false, false))
}

// quickReplyBlocks shows text (already escaped) with a button for each
// quick reply: a click sends the reply as the customer's message.
func quickReplyBlocks(text string, replies []string) []slack.Block {
	var buttons []slack.BlockElement
	for i, r := range replies {
		if strings.TrimSpace(r) == "" || len(buttons) == maxButtons {
			continue
		}
		buttons = append(buttons, button(actionReply+"_"+strconv.Itoa(i), r, r))
	}
	blocks := []slack.Block{mrkdwnSection(text)}
	if len(buttons) > 0 {
		blocks = append(blocks, slack.NewActionBlock("parley_replies", buttons...))
	}
	return blocks
}

// csatQuestion is the text of the rating request.
const csatQuestion = "How did we do? Rate this conversation from 1 (poor) to 5 (great):"

// csatBlocks asks the customer to rate conversation convID with buttons 1
// to 5.
func csatBlocks(convID string) []slack.Block {
	buttons := make([]slack.BlockElement, 0, 5)
	for score := 1; score <= 5; score++ {
		s := strconv.Itoa(score)
		buttons = append(buttons, button(actionCSAT+"_"+s, s, convID+":"+s))
	}
	return []slack.Block{mrkdwnSection(csatQuestion), slack.NewActionBlock("parley_csat", buttons...)}
}
