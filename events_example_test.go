package ginauth_test

import (
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

// Events feed an audit log: here every event is a slog line (each event
// type is a slog.LogValuer). A user signs in with the in-process provider
// and signs out.
func ExampleEvents() {
	// The audit log. This example leaves out what changes at each run
	// (times, session IDs, the provider's URL).
	audit := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, slog.LevelKey, "session_id", "sid", "iss":
				return slog.Attr{}
			}
			return a
		},
	}))
	events := ginauth.Events{
		SignedIn: func(ctx context.Context, e ginauth.SignedInEvent) {
			audit.InfoContext(ctx, "signed in", "event", e)
		},
		SignInRefused: func(ctx context.Context, e ginauth.SignInRefusedEvent) {
			audit.WarnContext(ctx, "sign-in refused", "event", e)
		},
		SignedOut: func(ctx context.Context, e ginauth.SignedOutEvent) {
			audit.InfoContext(ctx, "signed out", "event", e)
		},
	}

	op, err := ginauthtest.Start(ginauthtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer op.Close()
	dev, err := providers.OIDC(providers.OIDCConfig{
		Name: "dev", Issuer: op.Issuer(), ClientID: op.ClientID(), ClientSecret: op.ClientSecret(),
	})
	if err != nil {
		log.Fatal(err)
	}
	r := gin.New()
	srv := httptest.NewServer(r)
	defer srv.Close()
	auth, err := ginauth.New(ginauth.Config{
		BaseURL:   srv.URL,
		Secrets:   [][]byte{exampleKey()},
		Providers: []providers.Provider{dev},
		Events:    events,
		// The application says which sign-in is a user's first.
		SignInHook: func(context.Context, ginauth.SignInAttempt) (ginauth.SignInDecision, error) {
			return ginauth.Allow().FirstSignIn(), nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	auth.Register(r.Group("/auth"))
	r.GET("/", func(c *gin.Context) { c.String(http.StatusOK, "home") })

	// A browser signs in (to the provider and back) and signs out.
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	browser := &http.Client{Jar: jar, Transport: tr}
	resp, err := browser.Get(srv.URL + "/auth/signin/dev?callbackUrl=/")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	if resp, err = browser.Get(srv.URL + "/auth/csrf"); err != nil {
		log.Fatal(err)
	}
	var csrf struct {
		Token string `json:"csrfToken"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&csrf)
	resp.Body.Close()
	if resp, err = browser.PostForm(srv.URL+"/auth/signout", url.Values{"csrfToken": {csrf.Token}}); err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()

	// Output:
	// msg="signed in" event.provider=dev event.sub=alice event.first_sign_in=true
	// msg="signed out" event.reason=user event.provider=dev event.sub=alice
}
