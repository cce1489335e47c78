// Package servicetest gives tests the PostgreSQL database and the NATS
// JetStream server of the machine (or of PARLEY_TEST_POSTGRES and
// PARLEY_TEST_NATS), each test a schema and a stream of its own, removed
// when it ends. Without a server a test skips, except under CI=true, where
// it fails: .ci/run starts both, and a missing one is a broken build.
package servicetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// PostgresURL is the test database: PARLEY_TEST_POSTGRES, or the
// machine's own (trust auth on 127.0.0.1, database test).
func PostgresURL() string {
	if u := os.Getenv("PARLEY_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://root@127.0.0.1:5432/test?sslmode=disable"
}

// Postgres returns the URL of a new schema of the test database (by its
// search_path), dropped when the test ends.
func Postgres(tb testing.TB) string {
	tb.Helper()
	base := PostgresURL()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		unavailable(tb, "no PostgreSQL at "+redact(base)+" (set PARLEY_TEST_POSTGRES; .ci/run starts it): "+err.Error())
	}
	defer conn.Close(ctx)
	schema := "t_" + randomHex(6)
	if _, err := conn.Exec(ctx, "create schema "+schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "drop schema "+schema+" cascade"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// NATS returns the URL of the test NATS server: PARLEY_TEST_NATS, or
// nats://127.0.0.1:4222.
func NATS(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("PARLEY_TEST_NATS")
	if u == "" {
		u = "nats://127.0.0.1:4222"
	}
	host := u
	if p, err := url.Parse(strings.Split(u, ",")[0]); err == nil && p.Host != "" {
		host = p.Host
	}
	c, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		unavailable(tb, "no NATS server with JetStream at "+u+" (set PARLEY_TEST_NATS, or start nats-server -js): "+err.Error())
	}
	c.Close()
	return u
}

// Stream returns a JetStream stream name and subject prefix of the test's
// own on the server at natsURL; the stream, once made, is deleted when the
// test ends.
func Stream(tb testing.TB, natsURL string) (stream, prefix string) {
	tb.Helper()
	id := randomHex(6)
	stream, prefix = "PARLEY_TEST_"+strings.ToUpper(id), "parleytest."+id+".events"
	tb.Cleanup(func() {
		nc, err := nats.Connect(natsURL)
		if err != nil {
			tb.Errorf("delete stream %s: %v", stream, err)
			return
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			tb.Errorf("delete stream %s: %v", stream, err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := js.DeleteStream(ctx, stream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			tb.Errorf("delete stream %s: %v", stream, err)
		}
	})
	return stream, prefix
}

func unavailable(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// redact hides a password in a database URL.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}
