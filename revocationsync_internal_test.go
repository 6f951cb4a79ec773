package ginauth

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ginauth/ginauth/providers"
)

// fakeSync is a RevocationSync in memory: Publish fails while failing is
// set, and Run reports in step until ctx ends.
type fakeSync struct {
	mu        sync.Mutex
	failing   bool
	published []Revocation
	tries     int
	sink      chan RevocationSink
}

func newFakeSync() *fakeSync { return &fakeSync{sink: make(chan RevocationSink, 1)} }

func (f *fakeSync) Publish(_ context.Context, revs []Revocation) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tries++
	if f.failing {
		return errors.New("down")
	}
	f.published = append(f.published, revs...)
	return nil
}

func (f *fakeSync) Run(ctx context.Context, sink RevocationSink) error {
	sink.Synced(true)
	f.sink <- sink
	<-ctx.Done()
	return ctx.Err()
}

func (f *fakeSync) state() (published []Revocation, tries int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Revocation(nil), f.published...), f.tries
}

func (f *fakeSync) setFailing(v bool) {
	f.mu.Lock()
	f.failing = v
	f.mu.Unlock()
}

func newSyncAuth(t *testing.T, rs RevocationSync, now func() time.Time) *Auth {
	t.Helper()
	a, err := New(Config{
		BaseURL:     "https://app.example",
		Secrets:     [][]byte{[]byte("0123456789abcdef0123456789abcdef-unit")},
		Providers:   []providers.Provider{stubProvider{name: "p"}},
		Now:         now,
		Logger:      slog.New(slog.DiscardHandler),
		Revocations: rs,
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestRevocationsConfig(t *testing.T) {
	base := Config{
		BaseURL:   "https://app.example",
		Secrets:   [][]byte{[]byte("0123456789abcdef0123456789abcdef-unit")},
		Providers: []providers.Provider{stubProvider{name: "p"}},
	}
	cfg := base
	cfg.RevocationsFailOpen = true
	if _, err := New(cfg); !errors.Is(err, ErrInvalidStore) {
		t.Errorf("RevocationsFailOpen without Revocations: %v; want ErrInvalidStore", err)
	}
	var nilSync *fakeSync
	cfg = base
	cfg.Revocations = nilSync
	if _, err := New(cfg); !errors.Is(err, ErrInvalidStore) {
		t.Errorf("nil pointer Revocations: %v; want ErrInvalidStore", err)
	}
	a := newUnitAuth(t, time.Now, stubProvider{name: "p"})
	if err := a.SyncRevocations(context.Background()); err == nil {
		t.Error("SyncRevocations without Revocations succeeded")
	}
	if a.RevocationsSynced() || a.RevocationsPending() != 0 {
		t.Error("RevocationsSynced or RevocationsPending without Revocations")
	}
}

// TestRevocationsPublishedAndRetried: a revocation made here is published
// in the background; while publishing fails it stays pending and is
// retried, and it is published once the sync works again.
func TestRevocationsPublishedAndRetried(t *testing.T) {
	f := newFakeSync()
	a := newSyncAuth(t, f, time.Now)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.SyncRevocations(ctx) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("SyncRevocations = %v", err)
		}
		if a.RevocationsSynced() {
			t.Error("RevocationsSynced after SyncRevocations returned")
		}
	}()
	sink := <-f.sink
	if err := a.SyncRevocations(ctx); err == nil {
		t.Error("a second SyncRevocations succeeded")
	}
	if !a.RevocationsSynced() {
		t.Error("not in step after Synced(true)")
	}
	f.setFailing(true)
	if err := a.SignOutUser(context.Background(), "p", "alice"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, tries := f.state(); tries < 3; _, tries = f.state() {
		if time.Now().After(deadline) {
			t.Fatalf("%d tries; want retries", tries)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := a.RevocationsPending(); n != 1 {
		t.Errorf("RevocationsPending while failing = %d; want 1", n)
	}
	f.setFailing(false)
	sink.Synced(true) // back in step: retried at once
	for pub, _ := f.state(); len(pub) == 0; pub, _ = f.state() {
		if time.Now().After(deadline) {
			t.Fatal("never published")
		}
		time.Sleep(5 * time.Millisecond)
	}
	pub, _ := f.state()
	if len(pub) != 1 || pub[0].Kind != RevokeUser || pub[0].Provider != "p" || pub[0].Subject != "alice" {
		t.Errorf("published %+v", pub)
	}
	if n := a.RevocationsPending(); n != 0 {
		t.Errorf("RevocationsPending after publishing = %d", n)
	}
}

// TestRevocationSinkChecks: revocations from other instances are bounded
// by this instance's SessionMaxAge and clock, and malformed ones ignored.
func TestRevocationSinkChecks(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	a := newSyncAuth(t, newFakeSync(), func() time.Time { return now })
	k := revocationSink{s: a.sessions}
	s := func(sub string, created time.Time) *Session {
		return &Session{ID: "id-" + sub, Provider: "p", User: User{Subject: sub}, CreatedAt: created}
	}
	// Expiry capped at now + SessionMaxAge.
	k.Revoke(Revocation{Kind: RevokeUser, Provider: "p", Subject: "alice", Before: now, Expires: now.Add(1000 * time.Hour)})
	if v, ok := a.revoked.set.Get(revKey{kind: revUser, a: "p", b: "alice"}, now); !ok || !v.expires.Equal(now.Add(DefaultSessionMaxAge)) {
		t.Errorf("entry %+v %v; want expiry now + SessionMaxAge", v, ok)
	}
	// Expired, incomplete or unknown: ignored.
	for _, r := range []Revocation{
		{Kind: RevokeUser, Provider: "p", Subject: "bob", Before: now, Expires: now},
		{Kind: RevokeUser, Provider: "p", Before: now, Expires: now.Add(time.Hour)},
		{Kind: RevokeSession, Before: now, Expires: now.Add(time.Hour)},
		{Kind: 99, SessionID: "x", Before: now, Expires: now.Add(time.Hour)},
	} {
		k.Revoke(r)
	}
	if n := a.revoked.set.Len(); n != 1 {
		t.Errorf("%d entries; want 1", n)
	}
	// A RevokeAll from the future raises the floor to now only.
	k.Revoke(Revocation{Kind: RevokeAll, Before: now.Add(time.Hour), Expires: now.Add(2 * time.Hour)})
	if !a.revoked.refused(s("carol", now), now) || a.revoked.refused(s("carol", now.Add(time.Millisecond)), now) {
		t.Error("RevokeAll from the future: floor not at now")
	}
}

// TestSessionRevocationIgnoresCreatorClock: a session created by an
// instance whose clock runs ahead is still refused when signed out.
func TestSessionRevocationIgnoresCreatorClock(t *testing.T) {
	r := newRevocations()
	now := time.Unix(1_800_000_000, 0)
	ahead := &Session{ID: "s1", CreatedAt: now.Add(2 * time.Second)}
	r.add(revKey{kind: revSession, a: "s1"}, now, ahead.CreatedAt.Add(time.Hour), now)
	if !r.refused(ahead, now) {
		t.Error("a signed-out session created on a clock ahead is not refused")
	}
}

// TestOutboxBounded: the outbox drops what expired and, when full,
// replaces its content with one RevokeAll.
func TestOutboxBounded(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	o := newOutbox(3, time.Hour)
	o.push(Revocation{Kind: RevokeSession, SessionID: "old", Expires: now.Add(time.Second)}, now)
	o.push(Revocation{Kind: RevokeSession, SessionID: "a", Expires: now.Add(time.Hour)}, now)
	got := o.take(10, now.Add(2*time.Second))
	if len(got) != 1 || got[0].SessionID != "a" {
		t.Fatalf("take = %+v; want a only", got)
	}
	o.putBack(got)
	o.push(Revocation{Kind: RevokeSession, SessionID: "b", Expires: now.Add(time.Hour)}, now)
	o.push(Revocation{Kind: RevokeSession, SessionID: "c", Expires: now.Add(time.Hour)}, now)
	if o.len() != 3 {
		t.Fatalf("len %d", o.len())
	}
	o.push(Revocation{Kind: RevokeSession, SessionID: "d", Expires: now.Add(time.Hour)}, now)
	got = o.take(10, now)
	if len(got) != 1 || got[0].Kind != RevokeAll || !got[0].Before.Equal(now) || !got[0].Expires.Equal(now.Add(time.Hour)) {
		t.Errorf("full outbox: %+v; want one RevokeAll up to now", got)
	}
}
