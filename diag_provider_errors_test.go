package ginauth_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

// TestDiag_AuthorizationErrorLogged: the provider's error code and its
// error_description (escaped, capped) reach the log; the page shows only the
// fixed text of the code ginauth picks, and a configuration error
// (invalid_scope, unauthorized_client) is called a misconfiguration.
func TestDiag_AuthorizationErrorLogged(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, errCode, desc, wantCode, wantText string
	}{
		{"invalid_scope", "invalid_scope", "scope groups is not allowed\r\nlevel=ERROR msg=forged", "provider_misconfigured", "This sign-in provider is misconfigured"},
		{"unauthorized_client", "unauthorized_client", "", "provider_misconfigured", "This sign-in provider is misconfigured"},
		{"invalid_request", "invalid_request", "missing prompt", "provider_error", "The identity provider could not sign you in."},
		{"access_denied", "access_denied", "The user said no", "access_denied", "Sign-in was cancelled or refused."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t)
			a.op.SetBehavior(ginauthtest.Behavior{AuthorizeError: tc.errCode, AuthorizeErrorDescription: tc.desc})
			b := a.browserT(t)
			mark := a.failures.mark()
			r := b.signIn()
			a.failedWith(r, tc.wantCode)
			errs := a.failures.since(mark)
			if len(errs) != 1 || !errors.Is(errs[0], ginauth.ErrProviderDenied) {
				t.Fatalf("logged errors %v, want one ErrProviderDenied", errs)
			}
			logged := errs[0].Error()
			if !strings.Contains(logged, `error "`+tc.errCode+`"`) {
				t.Errorf("log %q lacks the provider's error code", logged)
			}
			if tc.desc != "" {
				want := strings.ReplaceAll(tc.desc, "\r\n", "??")
				if !strings.Contains(logged, want) {
					t.Errorf("log %q lacks the description %q", logged, want)
				}
			}
			if strings.ContainsAny(logged, "\r\n") {
				t.Errorf("log %q carries a line break from the response", logged)
			}
			if strings.Count(logged, "ginauth:") != 1 {
				t.Errorf("log %q repeats the ginauth: prefix", logged)
			}
			page := b.get(r.location())
			if page.status != http.StatusOK || !strings.Contains(page.body, tc.wantText) {
				t.Fatalf("sign-in page %d: %s", page.status, page.body)
			}
			if tc.desc != "" && strings.Contains(page.body, tc.desc[:10]) {
				t.Fatal("the provider's description is shown on the page")
			}
		})
	}
}

// TestDiag_WrongClientSecretIsMisconfigured: a token endpoint answering
// invalid_client (a wrong client secret) ends the sign-in on the
// "misconfigured" page, with the provider's code in the log.
func TestDiag_WrongClientSecretIsMisconfigured(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	p, err := providers.OIDC(providers.OIDCConfig{Name: "test", Issuer: a.op.Issuer(), ClientID: a.op.ClientID(),
		ClientSecret: "not-the-secret", Now: a.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if a.auth, err = ginauth.New(ginauth.Config{BaseURL: a.base, Secrets: [][]byte{testSecret}, Providers: []providers.Provider{p},
		Logger: newCaptureLogger(a.logs, a.failures), Now: a.clock.Now}); err != nil {
		t.Fatal(err)
	}
	a.router = a.routes()
	b := a.browserT(t)
	mark := a.failures.mark()
	r := b.signIn()
	a.failedWith(r, "provider_misconfigured")
	errs := a.failures.since(mark)
	if len(errs) != 1 || !errors.Is(errs[0], providers.ErrMisconfigured) || !errors.Is(errs[0], providers.ErrTokenExchange) ||
		!strings.Contains(errs[0].Error(), "invalid_client") {
		t.Fatalf("logged %v, want ErrMisconfigured and ErrTokenExchange naming invalid_client", errs)
	}
	if page := b.get(r.location()); !strings.Contains(page.body, "The site&#39;s administrators need to fix it") {
		t.Fatalf("sign-in page: %s", page.body)
	}
}

// TestDiag_DiscoveryIssuerMismatchIsMisconfigured: an issuer that discovery
// contradicts (the trailing slash mistake) makes starting a sign-in answer
// the "misconfigured" page, not "try again later".
func TestDiag_DiscoveryIssuerMismatchIsMisconfigured(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.op.SetBehavior(ginauthtest.Behavior{DiscoveryIssuer: a.op.Issuer() + "/"})
	b := a.browserT(t)
	r := b.get("/auth/signin/test")
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "This sign-in provider is misconfigured") {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	if !strings.Contains(a.logs.String(), "provider is misconfigured") {
		t.Fatalf("log: %s", a.logs.String())
	}
}
