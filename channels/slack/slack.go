package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/dialog"
)

// Engine is the part of the dialog engine the adapter uses.
type Engine interface {
	Receive(ctx context.Context, in dialog.Inbound) (dialog.Received, error)
	Answer(ctx context.Context, r dialog.Received) (dialog.Outcome, error)
	Post(ctx context.Context, o dialog.Outbound) (crm.Message, bool, error)
	Rate(ctx context.Context, conversationID string, score int, comment string) (crm.Feedback, error)
	Rated(ctx context.Context, conversationID string) (bool, error)
	Claim(ctx context.Context, id string, by dialog.Actor) (crm.Conversation, error)
	Return(ctx context.Context, id string, by dialog.Actor) (crm.Conversation, error)
	Resolve(ctx context.Context, id string, by dialog.Actor) (crm.Conversation, error)
	Note(ctx context.Context, id string, by dialog.Actor, text string) (crm.Event, error)
	Subscribe(conversationID string, buffer int) (<-chan dialog.Event, func())
}

// Store is the part of the CRM the adapter reads and writes.
type Store interface {
	crm.ChannelStateStore
	Conversation(ctx context.Context, id string) (crm.Conversation, error)
	UpdateConversation(ctx context.Context, id string, fn func(*crm.Conversation) error) (crm.Conversation, error)
	OpenConversations(ctx context.Context, f crm.ConversationFilter) ([]crm.Conversation, error)
	MessagesAfter(ctx context.Context, conversationID string, afterSeq uint64, limit int) ([]crm.Message, error)
	RecentMessages(ctx context.Context, conversationID string, n int) ([]crm.Message, error)
	Events(ctx context.Context, conversationID string, afterSeq uint64, limit int) ([]crm.Event, error)
	Customer(ctx context.Context, id string) (crm.Customer, error)
	CustomerByEmail(ctx context.Context, email string) (crm.Customer, error)
	CustomerByIdentity(ctx context.Context, id crm.Identity) (crm.Customer, error)
	UpdateCustomer(ctx context.Context, id string, fn func(*crm.Customer) error) (crm.Customer, error)
	Agent(ctx context.Context, login string) (crm.Agent, error)
}

var (
	_ Engine = (*dialog.Engine)(nil)
	_ Store  = crm.Store(nil)
)

// ErrConfig means a Config lacks what the adapter needs.
var ErrConfig = errors.New("incomplete slack config")

// Config is what an Adapter needs. Engine, Store and BotToken are required,
// and AppToken or SigningSecret (or both).
type Config struct {
	Engine Engine
	Store  Store
	// BotToken (xoxb-...) calls the Web API.
	BotToken string
	// AppToken (xapp-...) turns on Socket Mode: Run connects to Slack and
	// reads events from it; no public URL is needed.
	AppToken string
	// SigningSecret turns on the Events API over HTTP: Handler serves
	// POST /slack/events and POST /slack/interactions and checks every
	// request's signature with it.
	SigningSecret string
	// AgentChannel is the id of the channel handed-off conversations are
	// posted to (C...); empty: the agent side is off.
	AgentChannel string
	// APIURL is the Web API's base URL ending in "/"; empty: Slack's own.
	APIURL string
	// TrustEmail links a Slack user to the CRM customer with their Slack
	// profile e-mail: only for a workspace whose e-mail addresses the
	// company verifies (its own staff, an internal help desk). Off: Slack
	// customers stay unverified until they prove who they are in the chat.
	TrustEmail bool
	// Rate and Burst bound the messages posted to one Slack channel: Rate
	// per second, Burst at once. Zero: 1 and 3.
	Rate  float64
	Burst int
	// Now is the clock (nil: time.Now); HTTPClient calls the Web API (nil:
	// a client with a 30 s timeout); Logger gets the adapter's logs (nil:
	// discard).
	Now        func() time.Time
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// Adapter is Parley's Slack channel. It is safe for concurrent use.
type Adapter struct {
	cfg    Config
	engine Engine
	store  Store
	api    *slack.Client
	log    *slog.Logger
	now    func() time.Time
	users  *userCache
	work   *dispatcher
	out    *outbox
	cust   customerState // the customer side's delivery cursors (customer.go); zero value ready
	agents agentState    // the agent side's per-conversation state (agent.go)

	self struct { // the bot's own identity (auth.test), for the echo guard
		sync.Mutex
		userID, botID string
	}
}

// New checks cfg and returns an adapter. It calls nothing yet: Run
// connects.
func New(cfg Config) (*Adapter, error) {
	switch {
	case cfg.Engine == nil || cfg.Store == nil:
		return nil, fmt.Errorf("new slack adapter: no engine or store: %w", ErrConfig)
	case cfg.BotToken == "":
		return nil, fmt.Errorf("new slack adapter: no bot token: %w", ErrConfig)
	case !strings.HasPrefix(cfg.BotToken, "xoxb-"):
		return nil, fmt.Errorf("new slack adapter: the bot token must start with xoxb-: %w", ErrConfig)
	case cfg.AppToken == "" && cfg.SigningSecret == "":
		return nil, fmt.Errorf("new slack adapter: give an app token (Socket Mode) or a signing secret (Events API): %w", ErrConfig)
	case cfg.AppToken != "" && !strings.HasPrefix(cfg.AppToken, "xapp-"):
		return nil, fmt.Errorf("new slack adapter: the app token must start with xapp-: %w", ErrConfig)
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 1
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 3
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	opts := []slack.Option{slack.OptionHTTPClient(cfg.HTTPClient)}
	if cfg.APIURL != "" {
		u := cfg.APIURL
		if !strings.HasSuffix(u, "/") {
			u += "/"
		}
		opts = append(opts, slack.OptionAPIURL(u))
	}
	if cfg.AppToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(cfg.AppToken))
	}
	a := &Adapter{cfg: cfg, engine: cfg.Engine, store: cfg.Store, log: cfg.Logger, now: cfg.Now}
	a.api = slack.New(cfg.BotToken, opts...)
	a.users = newUserCache(a.api, cfg.Now)
	a.work = newDispatcher()
	a.out = newOutbox(a.api, cfg.Rate, cfg.Burst, cfg.Now, a.log)
	return a, nil
}

// escape makes untrusted text safe for Slack's mrkdwn: "&", "<" and ">"
// become entities, so that "<!channel>", "<@U123>" and "<https://x|y>" in
// a customer's text are shown as typed and cannot ping or unfurl.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// tellOnly shows text to the user of ev only (chat.postEphemeral), in ev's
// thread when it has one: why a click or a reply was refused.
func (a *Adapter) tellOnly(ctx context.Context, ev event, text string) error {
	opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
	if ev.ThreadTS != "" {
		opts = append(opts, slack.MsgOptionTS(ev.ThreadTS))
	}
	if _, err := a.api.PostEphemeralContext(ctx, ev.Channel, ev.User, opts...); err != nil {
		return fmt.Errorf("chat.postEphemeral to %s: %w", ev.User, err)
	}
	return nil
}
