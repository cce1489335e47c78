package jetstream_test

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley/dialog"
	"github.com/parleyhq/parley/dialog/jetstream"
)

// Each node opens one Bus on the shared server and gives it to its engine
// as dialog.Config.Events; sockets, consoles and the Slack adapter
// subscribe to it as to the in-process stream.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bus, err := jetstream.New(ctx, "nats://127.0.0.1:4222", jetstream.Options{MaxAge: 24 * time.Hour})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer bus.Close()
	cfg := dialog.Config{Events: bus /* Domain, Parser, Store, Locker... */}
	events, stop := cfg.Events.Subscribe("some-conversation", dialog.DefaultBuffer)
	defer stop()
	_ = events
}
