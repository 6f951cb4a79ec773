package redistest_test

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/ginauth/ginauth/internal/redistest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStartStopRestart(t *testing.T) {
	s := redistest.Start(t)
	ctx := context.Background()
	c := s.Client()
	if c != s.Client() {
		t.Error("Client returned two different clients")
	}
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	// Persistence is off.
	if got := c.ConfigGet(ctx, "save").Val()["save"]; got != "" {
		t.Errorf("save = %q; want persistence off", got)
	}
	if got := c.ConfigGet(ctx, "appendonly").Val()["appendonly"]; got != "no" {
		t.Errorf("appendonly = %q", got)
	}
	if got := c.ConfigGet(ctx, "bind").Val()["bind"]; got != "127.0.0.1" {
		t.Errorf("bind = %q", got)
	}

	addr := s.Addr()
	if s.URL() != "redis://"+addr+"/0" {
		t.Errorf("URL = %q", s.URL())
	}
	s.Stop(t)
	if s.Running() {
		t.Error("Running after Stop")
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatal("the port still accepts connections after Stop")
	}
	if err := s.Ping(time.Second); err == nil {
		t.Fatal("PING answered while stopped")
	}
	s.Stop(t) // idempotent

	s.Start(t)
	if s.Addr() != addr {
		t.Fatalf("restarted on %s; want the same address %s", s.Addr(), addr)
	}
	if err := s.Ping(2 * time.Second); err != nil {
		t.Fatalf("PING after restart: %v", err)
	}
	if n := c.Exists(ctx, "k").Val(); n != 0 {
		t.Errorf("key survived a restart without persistence")
	}
}

func TestTwoServers(t *testing.T) {
	a, b := redistest.Start(t), redistest.Start(t)
	if a.Addr() == b.Addr() {
		t.Fatal("two servers on one address")
	}
	ctx := context.Background()
	a.Client().Set(ctx, "only-a", "1", 0)
	if b.Client().Exists(ctx, "only-a").Val() != 0 {
		t.Error("servers share data")
	}
}

func TestCounter(t *testing.T) {
	s := redistest.Start(t)
	count := &redistest.Counter{}
	c := s.NewClient(t, count)
	ctx := context.Background()
	c.Ping(ctx) // opens the connection: its set-up is a handshake, not a round trip
	if count.Handshakes() == 0 {
		t.Log("note: no handshake seen (the client may not send HELLO)")
	}
	count.Reset()
	c.Set(ctx, "a", "1", 0)
	_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, "a")
		p.Incr(ctx, "n")
		return nil
	})
	if got, want := count.Trips(), []string{"set", "pipeline(get incr)"}; !slices.Equal(got, want) || count.RoundTrips() != 2 {
		t.Errorf("trips %q; want %q", got, want)
	}
	count.Reset()
	if count.RoundTrips() != 0 || count.Handshakes() != 0 {
		t.Error("Reset did not reset")
	}
}
