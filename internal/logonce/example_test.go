package logonce_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/parleyhq/parley/internal/logonce"
)

func Example() {
	text := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		// Drop the time so the output is stable.
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	// A fixed clock, for the same reason; a server passes nil options.
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	h := logonce.New(text, &logonce.Options{Now: func() time.Time { return at }})
	log := slog.New(h)
	full := errors.New("no space left on device")
	for range 3 {
		log.Error("store commit failed", "err", full)
	}
	_ = h.Flush(context.Background())
	// Output:
	// level=ERROR msg="store commit failed" err="no space left on device"
	// level=ERROR msg="store commit failed" err="no space left on device" repeated=2 within=0s
}
