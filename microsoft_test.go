package ginauth_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

// Microsoft Entra ID preset, whole sign-ins through the root package against
// a fake Entra: ginauthtest's OP served over TLS at <authority>/<tenant>/v2.0,
// whose discovery names the templated issuer <authority>/{tenantid}/v2.0 for
// a multi-tenant tenant, which sends no RFC 9207 iss (as Entra) and whose ID
// tokens carry tid and the per-tenant iss (SECURITY.md MS-1 to MS-4).

const (
	msTenantA = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	msTenantB = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
)

// fakeEntra is the fake Entra ID.
type fakeEntra struct {
	op        *ginauthtest.Provider
	srv       *httptest.Server
	authority string

	mu     sync.Mutex
	tid    string                      // tid of the tokens issued next
	mutate func(claims map[string]any) // applied after tid and iss
}

func newFakeEntra(t *testing.T, tenant string, now func() time.Time) *fakeEntra {
	t.Helper()
	f := &fakeEntra{tid: msTenantA}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.op.ServeHTTP(w, r) }))
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	f.authority = f.srv.URL
	op, err := ginauthtest.New(f.authority+"/"+tenant+"/v2.0", ginauthtest.Options{Now: now, TokenTTL: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(op.Close)
	f.op = op
	b := ginauthtest.Behavior{
		OmitIssParameterSupported: true,
		OmitAuthorizeIss:          true,
		IDTokenClaims: func(c map[string]any) {
			f.mu.Lock()
			defer f.mu.Unlock()
			c["tid"] = f.tid
			c["iss"] = f.authority + "/" + f.tid + "/v2.0"
			if f.mutate != nil {
				f.mutate(c)
			}
		},
	}
	if !providers.IsMicrosoftTenantID(tenant) {
		b.DiscoveryIssuer = f.authority + "/{tenantid}/v2.0"
	}
	op.SetBehavior(b)
	return f
}

func (f *fakeEntra) issue(tid string, mutate func(map[string]any)) {
	f.mu.Lock()
	f.tid, f.mutate = tid, mutate
	f.mu.Unlock()
}

// msApp is a test app whose only provider is the Microsoft preset.
type msApp struct {
	*testApp
	entra *fakeEntra
	prov  *providers.OIDCProvider

	mu      sync.Mutex
	lastErr error // of /api/token
}

func newMicrosoftApp(t *testing.T, tenant string, mc providers.MicrosoftConfig) *msApp {
	t.Helper()
	a := &testApp{t: t, clock: newClock(), logs: &syncBuffer{}, failures: &signInFailures{}}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.router.ServeHTTP(w, r) }))
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	a.base = a.srv.URL
	f := newFakeEntra(t, tenant, a.clock.Now)
	a.op = f.op

	mc.ClientID, mc.ClientSecret = f.op.ClientID(), f.op.ClientSecret()
	mc.Tenant, mc.Authority = tenant, f.authority
	mc.HTTPClient, mc.Now = f.srv.Client(), a.clock.Now
	p, err := providers.Microsoft(mc)
	if err != nil {
		t.Fatal(err)
	}
	a.auth, err = ginauth.New(ginauth.Config{
		BaseURL:   a.base,
		Secrets:   [][]byte{testSecret},
		Logger:    newCaptureLogger(a.logs, a.failures),
		Now:       a.clock.Now,
		Providers: []providers.Provider{p},
	})
	if err != nil {
		t.Fatal(err)
	}
	a.router = a.routes()
	m := &msApp{testApp: a, entra: f, prov: p}
	a.router.GET("/api/token", a.auth.RequireAuth(ginauth.API), func(c *gin.Context) {
		tok, err := a.auth.AccessToken(c)
		m.mu.Lock()
		m.lastErr = err
		m.mu.Unlock()
		if err != nil {
			c.JSON(http.StatusUnauthorized, gin.H{"error": "unauthenticated"})
			return
		}
		c.JSON(http.StatusOK, gin.H{"accessToken": tok})
	})
	return m
}

// signIn runs a whole sign-in at the Microsoft provider.
func (m *msApp) signIn(b *browser) result {
	m.t.Helper()
	r := b.get("/auth/signin/microsoft?callbackUrl=/dashboard")
	if r.status != http.StatusFound {
		m.t.Fatalf("signin: %d %s", r.status, r.body)
	}
	return b.get(b.authorize(r.location()))
}

func (m *msApp) mustSignIn(b *browser) ginauth.User {
	m.t.Helper()
	r := m.signIn(b)
	if r.status != http.StatusFound || r.location() != m.base+"/dashboard" {
		m.t.Fatalf("sign-in: %d %q %s\nlogs: %s", r.status, r.location(), r.body, m.logs.String())
	}
	return m.me(b)
}

func (m *msApp) me(b *browser) ginauth.User {
	m.t.Helper()
	r := b.get("/api/me")
	if r.status != http.StatusOK {
		m.t.Fatalf("/api/me: %d %s", r.status, r.body)
	}
	var u struct {
		Issuer        string   `json:"iss"`
		Subject       string   `json:"sub"`
		Email         string   `json:"email"`
		EmailVerified bool     `json:"email_verified"`
		Groups        []string `json:"groups"`
	}
	if err := json.Unmarshal([]byte(r.body), &u); err != nil {
		m.t.Fatal(err)
	}
	return ginauth.User{Issuer: u.Issuer, Subject: u.Subject, Email: u.Email, EmailVerified: u.EmailVerified, Groups: u.Groups}
}

func TestMicrosoft_SingleTenantSignIn(t *testing.T) {
	m := newMicrosoftApp(t, msTenantA, providers.MicrosoftConfig{})
	if got, want := m.prov.Issuer(), m.entra.authority+"/"+msTenantA+"/v2.0"; got != want {
		t.Fatalf("Issuer() = %q, want %q", got, want)
	}
	b := m.browser()
	u := m.mustSignIn(b)
	if u.Issuer != m.prov.Issuer() || u.Subject != "alice" {
		t.Fatalf("user = %+v", u)
	}

	// Another tenant's token at a single-tenant config: refused.
	m.entra.issue(msTenantB, nil)
	m.failedWith(m.signIn(m.browser()), "invalid_id_token")
}

// SECURITY.md MS-1: the multi-tenant issuer rule.
func TestMS1_MultiTenantSignInAndIssuerRule(t *testing.T) {
	m := newMicrosoftApp(t, "common", providers.MicrosoftConfig{})
	if got, want := m.prov.Issuer(), m.entra.authority+"/common/v2.0"; got != want {
		t.Fatalf("Issuer() = %q, want %q", got, want)
	}
	for _, tid := range []string{msTenantA, msTenantB} {
		m.entra.issue(tid, nil)
		b := m.browser()
		u := m.mustSignIn(b)
		if want := m.entra.authority + "/" + tid + "/v2.0"; u.Issuer != want {
			t.Fatalf("user issuer = %q, want %q", u.Issuer, want)
		}
		// The session survives later requests (IssuerMatcher).
		for range 3 {
			if !b.signedIn() {
				t.Fatal("multi-tenant session refused on a later request")
			}
		}
	}

	refused := map[string]func(c map[string]any){
		"literal template":  func(c map[string]any) { c["iss"] = m.entra.authority + "/{tenantid}/v2.0" },
		"another host":      func(c map[string]any) { c["iss"] = "https://login.microsoftonline.com/" + msTenantA + "/v2.0" },
		"another authority": func(c map[string]any) { c["iss"] = "https://evil.example/" + msTenantA + "/v2.0" },
		"iss/tid mismatch":  func(c map[string]any) { c["iss"] = m.entra.authority + "/" + msTenantB + "/v2.0" },
		"tid missing":       func(c map[string]any) { delete(c, "tid") },
		"tid not a GUID":    func(c map[string]any) { c["tid"] = "{tenantid}"; c["iss"] = m.entra.authority + "/{tenantid}/v2.0" },
		"tid not a string":  func(c map[string]any) { c["tid"] = 7 },
		"trailing slash":    func(c map[string]any) { c["iss"] = m.entra.authority + "/" + msTenantA + "/v2.0/" },
		"tid case differs":  func(c map[string]any) { c["iss"] = m.entra.authority + "/" + strings.ToUpper(msTenantA) + "/v2.0" },
		"config identifier": func(c map[string]any) { c["iss"] = m.entra.authority + "/common/v2.0" },
	}
	for name, mutate := range refused {
		m.entra.issue(msTenantA, mutate)
		r := m.signIn(m.browser())
		if want := m.base + "/auth/signin?error=invalid_id_token"; r.status != http.StatusFound || r.location() != want {
			t.Errorf("%s: %d %q, want a 302 to %s", name, r.status, r.location(), want)
		}
		if err := lastFailure(m.failures); !errors.Is(err, providers.ErrTokenIssuer) {
			t.Errorf("%s: error %v, want ErrTokenIssuer", name, err)
		}
	}
}

// SECURITY.md MS-2: AllowedTenants.
func TestMS2_AllowedTenants(t *testing.T) {
	m := newMicrosoftApp(t, "organizations", providers.MicrosoftConfig{AllowedTenants: []string{strings.ToUpper(msTenantA)}})
	m.entra.issue(msTenantA, nil)
	m.mustSignIn(m.browser())

	m.entra.issue(msTenantB, nil)
	m.deniedWith(m.signIn(m.browser()), "") // 403 since issue 9
	if err := lastFailure(m.failures); !errors.Is(err, providers.ErrClaimRejected) {
		t.Errorf("error %v, want ErrClaimRejected", err)
	}
	// organizations never serves personal accounts.
	m.entra.issue(providers.MicrosoftConsumersTenant, nil)
	m.failedWith(m.signIn(m.browser()), "invalid_id_token")

	if !m.prov.AcceptsIssuer(m.entra.authority+"/"+msTenantA+"/v2.0") ||
		m.prov.AcceptsIssuer(m.entra.authority+"/"+msTenantB+"/v2.0") ||
		m.prov.AcceptsIssuer(m.entra.authority+"/{tenantid}/v2.0") ||
		m.prov.AcceptsIssuer(m.prov.Issuer()) {
		t.Error("AcceptsIssuer disagrees with AllowedTenants")
	}
}

// SECURITY.md MS-3: a session whose issuer the provider does not accept is
// refused; the provider's refresh keeps a multi-tenant session.
func TestMS3_SessionIssuerAndRefresh(t *testing.T) {
	m := newMicrosoftApp(t, "common", providers.MicrosoftConfig{})
	m.entra.issue(msTenantB, nil)
	b := m.browser()
	m.mustSignIn(b)

	// Refresh: the token expires within the margin; the refreshed ID token
	// names the same tenant issuer and subject.
	m.clock.Advance(90 * time.Second)
	before := m.op.Counts().Token
	if r := b.get("/api/token"); r.status != http.StatusOK {
		t.Fatalf("/api/token after expiry: %d %s (%v)", r.status, r.body, m.lastErr)
	}
	if m.op.Counts().Token != before+1 {
		t.Fatal("no refresh happened")
	}
	if !b.signedIn() {
		t.Fatal("session lost after refresh")
	}

	// A refreshed ID token of another tenant is another identity: the
	// session ends.
	m.clock.Advance(90 * time.Second)
	m.entra.issue(msTenantA, nil)
	if r := b.get("/api/token"); r.status != http.StatusUnauthorized || !errors.Is(m.lastErr, ginauth.ErrSessionEnded) {
		t.Fatalf("/api/token with another tenant: %d (%v)", r.status, m.lastErr)
	}
	if b.signedIn() {
		t.Fatal("session kept after a refresh named another tenant")
	}

	// The same session cookie at an app whose provider no longer accepts
	// the tenant is refused (same secrets, same provider name).
	m.entra.issue(msTenantB, nil)
	b2 := m.browser()
	m.mustSignIn(b2)
	strict, err := providers.Microsoft(providers.MicrosoftConfig{
		ClientID: m.entra.op.ClientID(), Tenant: "common", Authority: m.entra.authority,
		AllowedTenants: []string{msTenantA}, HTTPClient: m.entra.srv.Client(), Now: m.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	other, err := ginauth.New(ginauth.Config{BaseURL: m.base, Secrets: [][]byte{testSecret}, Now: m.clock.Now, Providers: []providers.Provider{strict}})
	if err != nil {
		t.Fatal(err)
	}
	prev := m.router
	m.auth = other
	m.router = m.routes()
	defer func() { m.router = prev }()
	if b2.signedIn() {
		t.Fatal("a session of a tenant the provider no longer accepts was honoured")
	}
}

// SECURITY.md MS-4: Entra's email is verified only through xms_edov.
func TestMS4_EmailVerifiedOnlyFromXmsEdov(t *testing.T) {
	m := newMicrosoftApp(t, "common", providers.MicrosoftConfig{})
	cases := []struct {
		name   string
		mutate func(map[string]any)
		want   bool
	}{
		{"bare email, email_verified true", func(c map[string]any) { c["email_verified"] = true }, false},
		{"email_verified string", func(c map[string]any) { c["email_verified"] = "true" }, false},
		{"xms_edov true", func(c map[string]any) { c["xms_edov"] = true }, true},
		{"xms_edov string", func(c map[string]any) { c["xms_edov"] = "true" }, true},
		{"xms_edov 1", func(c map[string]any) { c["xms_edov"] = 1 }, true},
		{"xms_edov false", func(c map[string]any) { c["xms_edov"] = false; c["email_verified"] = true }, false},
		{"xms_edov 0", func(c map[string]any) { c["xms_edov"] = 0 }, false},
		{"xms_edov but no email", func(c map[string]any) { c["xms_edov"] = true; delete(c, "email") }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m.entra.issue(msTenantA, tc.mutate)
			if u := m.mustSignIn(m.browser()); u.EmailVerified != tc.want {
				t.Errorf("email_verified = %v, want %v", u.EmailVerified, tc.want)
			}
		})
	}
}

// Group overage: never read as "no groups".
func TestMicrosoft_GroupOverage(t *testing.T) {
	overage := func(c map[string]any) {
		delete(c, "groups")
		c["_claim_names"] = map[string]any{"groups": "src1"}
		c["_claim_sources"] = map[string]any{"src1": map[string]any{"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}}
	}
	m := newMicrosoftApp(t, msTenantA, providers.MicrosoftConfig{})
	m.entra.issue(msTenantA, overage)
	b := m.browser()
	u := m.mustSignIn(b)
	if u.Groups != nil {
		t.Errorf("groups = %v, want none", u.Groups)
	}
	var seen bool
	m.router.GET("/test/overage", m.auth.RequireAuth(ginauth.API), func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		v, ok := u.Claim("groups_overage")
		seen = ok && v == true
	})
	b.get("/test/overage")
	if !seen {
		t.Error("groups_overage claim not set")
	}
	if r := b.get("/api/admin"); r.status != http.StatusForbidden {
		t.Errorf("RequireClaim(groups) with overage: %d", r.status)
	}

	// Groups and an overage marker together: the groups are not trusted.
	m.entra.issue(msTenantA, func(c map[string]any) { c["hasgroups"] = true })
	if u := m.mustSignIn(m.browser()); u.Groups != nil {
		t.Errorf("groups with hasgroups = %v, want none", u.Groups)
	}

	strict := newMicrosoftApp(t, msTenantA, providers.MicrosoftConfig{RejectGroupOverage: true})
	strict.entra.issue(msTenantA, overage)
	strict.deniedWith(strict.signIn(strict.browser()), "") // 403 since issue 9
	strict.entra.issue(msTenantA, nil)
	if u := strict.mustSignIn(strict.browser()); len(u.Groups) == 0 {
		t.Error("groups lost without overage")
	}
}

// lastFailure is the error of the last refused callback.
func lastFailure(f *signInFailures) error {
	errs := f.since(0)
	if len(errs) == 0 {
		return nil
	}
	return errs[len(errs)-1]
}

// Discovery: the templated issuer only for multi-tenant configs, and only
// for the configured authority.
func TestMicrosoft_DiscoveryIssuer(t *testing.T) {
	cases := []struct {
		tenant, issuer string // issuer: path after the authority, or a full URL
		ok             bool
	}{
		{msTenantA, "/{tenantid}/v2.0", false},
		{msTenantA, "/" + msTenantB + "/v2.0", false},
		{"common", "/{tenantid}/v2.0", true},
		{"common", "/common/v2.0", false},
		{"common", "https://login.microsoftonline.com/{tenantid}/v2.0", false},
		{"organizations", "/" + msTenantA + "/v2.0", false},
		{"consumers", "/" + providers.MicrosoftConsumersTenant + "/v2.0", true},
		{"consumers", "/{tenantid}/v2.0", true},
	}
	for _, tc := range cases {
		t.Run(tc.tenant+" "+tc.issuer, func(t *testing.T) {
			m := newMicrosoftApp(t, tc.tenant, providers.MicrosoftConfig{})
			iss := tc.issuer
			if strings.HasPrefix(iss, "/") {
				iss = m.entra.authority + iss
			}
			bh := m.entra.op.Behavior()
			bh.DiscoveryIssuer = iss
			m.entra.op.SetBehavior(bh)
			if tc.tenant == "consumers" {
				m.entra.issue(providers.MicrosoftConsumersTenant, nil)
			}
			r := m.browser().get("/auth/signin/microsoft")
			if got := r.status == http.StatusFound; got != tc.ok {
				t.Fatalf("sign-in start: %d, want ok=%v\nlogs: %s", r.status, tc.ok, m.logs.String())
			}
			if tc.ok {
				m.mustSignIn(m.browser())
			}
		})
	}
}

// RFC 9207 with a multi-tenant config: a present iss must be an accepted
// tenant issuer; the metadata's flag still makes it required.
func TestMicrosoft_AuthorizationResponseIss(t *testing.T) {
	m := newMicrosoftApp(t, "common", providers.MicrosoftConfig{AllowedTenants: []string{msTenantA}})
	set := func(f func(*ginauthtest.Behavior)) {
		bh := m.entra.op.Behavior()
		f(&bh)
		m.entra.op.SetBehavior(bh)
	}
	for _, tc := range []struct {
		iss string
		ok  bool
	}{
		{m.entra.authority + "/" + msTenantA + "/v2.0", true},
		{m.entra.authority + "/" + msTenantB + "/v2.0", false},
		{m.entra.authority + "/{tenantid}/v2.0", false},
		{m.entra.authority + "/common/v2.0", false},
	} {
		set(func(b *ginauthtest.Behavior) { b.OmitAuthorizeIss, b.AuthorizeIss = false, tc.iss })
		r := m.signIn(m.browser())
		if tc.ok {
			if r.status != http.StatusFound || r.location() != m.base+"/dashboard" {
				t.Errorf("iss %s: %d %q", tc.iss, r.status, r.location())
			}
			continue
		}
		m.failedWith(r, "issuer_mismatch")
	}
	// Advertised but missing: refused.
	set(func(b *ginauthtest.Behavior) {
		b.OmitAuthorizeIss, b.AuthorizeIss, b.OmitIssParameterSupported = true, "", false
	})
	m.clock.Advance(2 * providers.DiscoveryMinCacheAge) // discovery is fetched again
	m.failedWith(m.signIn(m.browser()), "issuer_mismatch")
}
