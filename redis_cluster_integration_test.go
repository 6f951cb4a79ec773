package ginauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/redistest"
	"github.com/ginauth/ginauth/store"
)

// clusterStore is a Redis store on cluster c under prefix, with the app's
// clock and the client options docs/stores.md recommends.
func clusterStore(t *testing.T, c *redistest.Cluster, prefix string, now func() time.Time) *store.Redis {
	t.Helper()
	s, err := store.NewRedis(c.NewClient(nil), store.RedisOptions{KeyPrefix: prefix, Timeout: storeTimeout, Now: now, WaitReplicas: 1})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// clusterTwin is a second instance of app a (as twin), with st as its store.
func (a *testApp) clusterTwin(st store.Store) *testApp {
	return a.twinWith(func(c *ginauth.Config) { c.Store = st })
}

// TestRedisClusterRefreshSingleFlight: two instances on one Redis Cluster
// refresh an expired access token for 50 concurrent requests with one call
// to the provider (the refresh lock), and sign-out on one ends the session
// on the other.
func TestRedisClusterRefreshSingleFlight(t *testing.T) {
	c := redistest.StartCluster(t)
	prefix := randomPrefix()
	a := newTestApp(t, withOP(func(o *ginauthtest.Options) { o.TokenTTL = 5 * time.Minute }),
		withConfig(func(cfg *ginauth.Config) { cfg.Store = clusterStore(t, c, prefix, cfg.Now) }))
	b2 := a.clusterTwin(clusterStore(t, c, prefix, a.clock.Now))
	cookie := refreshOnceAcross(t, a, b2)
	if r := b2.anonGet(t, "/api/me", cookie); r.status != http.StatusOK {
		t.Fatalf("/api/me on B: %d", r.status)
	}
	onB := b2.browser()
	onB.setCookie(sessionCookieName, strings.TrimPrefix(cookie, sessionCookieName+"="))
	if r := onB.post("/auth/signout", url.Values{"csrfToken": {onB.csrf()}}); r.status != http.StatusSeeOther {
		t.Fatalf("sign-out on B: %d %s", r.status, r.body)
	}
	if r := a.anonGet(t, "/api/me", cookie); r.status != http.StatusUnauthorized {
		t.Errorf("/api/me on A after sign-out on B: %d; want 401", r.status)
	}
}

// TestRedisClusterFailover503: the app on a real Redis Cluster (three
// masters, three replicas). The master holding a signed-in user's session
// is killed: every request answers the signed-in page or 503, never a
// sign-in redirect or another user, and the app serves the user again
// within seconds of the replica's promotion. SignOutUser then works on the
// promoted master.
func TestRedisClusterFailover503(t *testing.T) {
	c := redistest.StartCluster(t)
	ctx := context.Background()
	a := newTestApp(t, withConfig(func(cfg *ginauth.Config) { cfg.Store = clusterStore(t, c, randomPrefix(), cfg.Now) }))
	b := a.browser()
	b.mustSignIn()
	r := b.get("/app/me")
	subject, ok := strings.CutPrefix(r.body, "hello ")
	if r.status != http.StatusOK || !ok {
		t.Fatalf("/app/me: %d %q", r.status, r.body)
	}
	sum := sha256.Sum256([]byte("test\x00" + subject))
	slot := int(c.NewClient(nil).ClusterKeySlot(ctx, "{"+hex.EncodeToString(sum[:8])+"}").Val())
	victim := c.MasterOf(t, slot)
	time.Sleep(200 * time.Millisecond) // the sign-in's writes reach the replica

	c.Kill(t, victim.Addr)
	killedAt := time.Now()
	promoted := make(chan time.Time, 1)
	go func() {
		c.WaitPromoted(t, slot, victim.Addr, 30*time.Second)
		promoted <- time.Now()
	}()
	var (
		unavailable int
		promotedAt  time.Time
	)
	for {
		r := b.get("/app/me")
		switch {
		case r.status == http.StatusServiceUnavailable:
			unavailable++
		case r.status == http.StatusOK && r.body == "hello "+subject:
		default:
			t.Fatalf("during the failover /app/me answered %d %q %q; want the user's page or 503", r.status, r.location(), r.body)
		}
		select {
		case promotedAt = <-promoted:
		default:
		}
		if r.status == http.StatusOK && !promotedAt.IsZero() {
			break
		}
		if time.Since(killedAt) > 30*time.Second {
			t.Fatal("the app did not serve the user again within 30 s of the kill")
		}
		time.Sleep(25 * time.Millisecond)
	}
	recovered := time.Since(promotedAt)
	t.Logf("promoted %v after the kill; served again %v after the promotion; %d answers were 503",
		promotedAt.Sub(killedAt).Round(time.Millisecond), recovered.Round(time.Millisecond), unavailable)
	if unavailable == 0 {
		t.Error("no 503 while the user's master was down: the request cannot have been checked against the store")
	}
	if recovered > 5*time.Second {
		t.Errorf("served again %v after the promotion; want within 5 s", recovered)
	}
	// With WaitReplicas, a sign-out on a shard left without a replica
	// reports a failure (the master applied it, but another failover could
	// lose it), until a replica is back; retrying is safe.
	if err := a.auth.SignOutUser(ctx, "test", subject); err == nil {
		t.Fatal("SignOutUser on a master without a replica succeeded despite WaitReplicas 1")
	}
	c.Restart(t, victim.Addr) // the old master rejoins as a replica
	if err := a.auth.SignOutUser(ctx, "test", subject); err != nil {
		t.Fatalf("SignOutUser once a replica is back: %v", err)
	}
	if r := b.get("/app/me"); r.status != http.StatusFound {
		t.Errorf("/app/me after SignOutUser: %d; want the sign-in redirect", r.status)
	}
}
