package slack

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/parleyhq/parley/crm"
)

// userTTL is how long a Slack user's profile is kept before users.info is
// asked again.
const userTTL = 10 * time.Minute

// userCache remembers Slack users' profile e-mail addresses, so that a busy
// conversation asks users.info once per user and ten minutes.
type userCache struct {
	api *slack.Client
	now func() time.Time

	mu    sync.Mutex
	users map[string]cachedUser // by Slack user id; guarded by mu
}

type cachedUser struct {
	email, name string
	at          time.Time
}

func newUserCache(api *slack.Client, now func() time.Time) *userCache {
	return &userCache{api: api, now: now, users: make(map[string]cachedUser)}
}

// lookup returns the user's profile e-mail (normalized with
// crm.NormalizeEmail; empty when the profile has none) and display name.
func (c *userCache) lookup(ctx context.Context, userID string) (email, name string, err error) {
	now := c.now()
	c.mu.Lock()
	u, ok := c.users[userID]
	c.mu.Unlock()
	if ok && now.Sub(u.at) < userTTL {
		return u.email, u.name, nil
	}
	info, err := c.api.GetUserInfoContext(ctx, userID)
	if err != nil {
		return "", "", fmt.Errorf("slack users.info %s: %w", userID, err)
	}
	u = cachedUser{email: crm.NormalizeEmail(info.Profile.Email), name: info.RealName, at: now}
	if u.name == "" {
		u.name = info.Name
	}
	c.mu.Lock()
	if len(c.users) > 10000 {
		clear(c.users)
	}
	c.users[userID] = u
	c.mu.Unlock()
	return u.email, u.name, nil
}
