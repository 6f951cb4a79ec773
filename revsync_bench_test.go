package ginauth_test

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

// localSync is a RevocationSync without a network: Run fills the list with
// n revocations of other users and reports in step.
type localSync struct{ n int }

func (localSync) Publish(context.Context, []ginauth.Revocation) error { return nil }

func (l localSync) Run(ctx context.Context, sink ginauth.RevocationSink) error {
	now := time.Now()
	for i := range l.n {
		sink.Revoke(ginauth.Revocation{Kind: ginauth.RevokeUser, Provider: "test", Subject: "u" + strconv.Itoa(i), Before: now, Expires: now.Add(time.Hour)})
	}
	sink.Synced(true)
	<-ctx.Done()
	return ctx.Err()
}

// BenchmarkRequireAuthRevocations: RequireAuth with the cookie store, with
// and without Config.Revocations (in step; the list empty, or holding
// 10 000 revocations of other users). The request path reads one more
// atomic value and no network.
//
//	go test -run='^$' -bench=BenchmarkRequireAuthRevocations -count=3 .
func BenchmarkRequireAuthRevocations(b *testing.B) {
	op, err := ginauthtest.Start(ginauthtest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer op.Close()
	for _, bc := range []struct {
		name string
		sync ginauth.RevocationSync
	}{
		{"no-sync", nil},
		{"sync-empty", localSync{}},
		{"sync-10000", localSync{n: 10_000}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			prov, err := providers.OIDC(providers.OIDCConfig{Name: "test", Issuer: op.Issuer(), ClientID: op.ClientID(), ClientSecret: op.ClientSecret()})
			if err != nil {
				b.Fatal(err)
			}
			auth, err := ginauth.New(ginauth.Config{
				BaseURL: hotpathOrigin, Secrets: [][]byte{hotpathSecret}, Providers: []providers.Provider{prov},
				Logger: slog.New(slog.DiscardHandler), Revocations: bc.sync,
			})
			if err != nil {
				b.Fatal(err)
			}
			if bc.sync != nil {
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() { defer close(done); _ = auth.SyncRevocations(ctx) }()
				defer func() { cancel(); <-done }()
				for !auth.RevocationsSynced() {
					time.Sleep(time.Millisecond)
				}
			}
			e := gin.New()
			auth.Register(e.Group("/auth"))
			e.GET("/api/me", auth.RequireAuth(ginauth.API), func(c *gin.Context) { c.Status(http.StatusOK) })
			cookie := hotpathSignIn(b, e, op)
			if rec := hotpathServe(e, hotpathOrigin+"/api/me", cookie); rec.Code != http.StatusOK {
				b.Fatalf("/api/me: %d", rec.Code)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				hotpathServe(e, hotpathOrigin+"/api/me", cookie)
			}
		})
	}
}
