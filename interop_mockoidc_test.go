package ginauth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
	"go.uber.org/goleak"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/oidcjwt"
	"github.com/ginauth/ginauth/providers"
)

// Interoperability with an OpenID Provider we did not write:
// github.com/oauth2-proxy/mockoidc. What it does, and what ginauth must
// tolerate:
//
//   - Its discovery document does not advertise
//     authorization_response_iss_parameter_supported, and its authorization
//     responses carry no RFC 9207 iss: ginauth accepts that (it requires iss
//     only from providers that advertise it).
//   - The issuer is http on loopback with a path (http://127.0.0.1:port/oidc).
//   - It advertises client_secret_basic first but reads the client
//     credentials from the form body only, answering 400 invalid_request to
//     client_secret_basic. ginauth picks client_secret_basic (and never
//     retries a code with another method), so the test puts a shim in front
//     of the token endpoint that moves the Basic credentials into the form.
//   - ID tokens: RS256 with a kid, aud is a one-element array holding the
//     client ID, no azp, iat/nbf/exp/jti, and the nonce echoed from the
//     authorization request.
//   - code_challenge_methods_supported is ["plain", "S256"]; ginauth always
//     sends S256.
//   - Scopes beyond openid, profile, email and groups are refused.
//   - expires_in is in nanoseconds (a Go time.Duration marshalled as a
//     number), which x/oauth2 clamps to MaxInt32 seconds.
//   - No revocation or end-session endpoint: signing out with revokeToken
//     still ends the local session, without a warning in the logs.

// mockOIDCWatch sits in front of mockoidc's handlers: it records what
// ginauth sent, translates client_secret_basic into form credentials, and
// keeps the token endpoint's ID tokens for inspection.
type mockOIDCWatch struct {
	mu        sync.Mutex
	paths     []string
	authorize []url.Values
	token     []url.Values
	basicAuth []bool
	idTokens  []string
}

func (w *mockOIDCWatch) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.paths = append(w.paths, r.URL.Path)
		w.mu.Unlock()
		switch r.URL.Path {
		case mockoidc.AuthorizationEndpoint:
			w.mu.Lock()
			w.authorize = append(w.authorize, r.URL.Query())
			w.mu.Unlock()
		case mockoidc.TokenEndpoint:
			w.serveToken(next, rw, r)
			return
		}
		next.ServeHTTP(rw, r)
	})
}

func (w *mockOIDCWatch) serveToken(next http.Handler, rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	form, _ := url.ParseQuery(string(body))
	sent := url.Values{}
	for k, v := range form {
		sent[k] = slices.Clone(v)
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 §2.3.1: Basic credentials are form-urlencoded first.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		form.Set("client_id", id)
		form.Set("client_secret", secret)
		r.Header.Del("Authorization")
	}
	enc := form.Encode()
	r.Body = io.NopCloser(strings.NewReader(enc))
	r.ContentLength = int64(len(enc))

	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	var resp struct {
		IDToken string `json:"id_token"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &resp)
	w.mu.Lock()
	w.token = append(w.token, sent)
	w.basicAuth = append(w.basicAuth, basic)
	w.idTokens = append(w.idTokens, resp.IDToken)
	w.mu.Unlock()

	for k, v := range rec.Header() {
		rw.Header()[k] = v
	}
	rw.WriteHeader(rec.Code)
	_, _ = rw.Write(rec.Body.Bytes())
}

// jwtClaims decodes a JWT's payload without verifying it (ginauth did).
func jwtClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS compact serialization: %d parts", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func TestInteropMockOIDC(t *testing.T) {
	// Registered first, so it runs last: after every server, client and
	// provider below has been shut down.
	leaks := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, leaks) })

	watch := &mockOIDCWatch{}
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddMiddleware(watch.middleware); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Shutdown(); err != nil {
			t.Errorf("mockoidc shutdown: %v", err)
		}
	})

	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	mock, err := providers.OIDC(providers.OIDCConfig{
		Name:         "mock",
		DisplayName:  "mockoidc",
		Issuer:       m.Issuer(),
		ClientID:     m.ClientID,
		ClientSecret: m.ClientSecret,
		Scopes:       []string{"profile", "email", "groups"},
		HTTPClient:   &http.Client{Transport: tr, Timeout: 10 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := newTestApp(t, withConfig(func(c *ginauth.Config) {
		c.Providers = []providers.Provider{mock}
	}))

	// What mockoidc advertises.
	meta, err := mock.Metadata(t.Context())
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	if meta.Issuer != m.Issuer() || !strings.HasPrefix(m.Issuer(), "http://127.0.0.1:") || !strings.HasSuffix(m.Issuer(), "/oidc") {
		t.Errorf("issuer %q, discovery says %q", m.Issuer(), meta.Issuer)
	}
	if meta.AuthorizationResponseIssParameterSupported {
		t.Error("mockoidc now advertises RFC 9207 iss: update the notes above")
	}
	if !slices.Contains(meta.CodeChallengeMethodsSupported, "S256") {
		t.Errorf("code_challenge_methods_supported = %v", meta.CodeChallengeMethodsSupported)
	}

	user := &mockoidc.MockUser{
		Subject:           "mock-user-7",
		Email:             "mock.user@example.org",
		EmailVerified:     true,
		PreferredUsername: "mocky",
		Groups:            []string{"admin", "engineering"},
	}
	m.QueueUser(user)

	// Sign in: ginauth -> mockoidc authorize -> callback -> session.
	b := a.browser()
	start := b.get("/auth/signin/mock?callbackUrl=" + url.QueryEscape("/dashboard"))
	if start.status != http.StatusFound || !strings.HasPrefix(start.location(), m.AuthorizationEndpoint()+"?") {
		t.Fatalf("signin: %d, Location %q, body %s", start.status, start.location(), start.body)
	}
	authz := b.get(start.location())
	callback := authz.location()
	if authz.status != http.StatusFound || !strings.HasPrefix(callback, a.base+"/auth/callback/mock?") {
		t.Fatalf("authorize: %d, Location %q, body %s", authz.status, callback, authz.body)
	}
	cbURL, _ := url.Parse(callback)
	if cbURL.Query().Has("iss") {
		t.Error("mockoidc now sends RFC 9207 iss: update the notes above")
	}
	done := b.get(callback)
	if done.status != http.StatusFound || done.location() != a.base+"/dashboard" {
		t.Fatalf("callback: %d, Location %q, body %s\nlogs: %s", done.status, done.location(), done.body, a.logs.String())
	}

	// The session holds mockoidc's user, keyed by issuer and subject.
	me := b.get("/api/me")
	if me.status != http.StatusOK {
		t.Fatalf("/api/me: %d %s", me.status, me.body)
	}
	var got ginauth.User
	if err := json.Unmarshal([]byte(me.body), &got); err != nil {
		t.Fatalf("/api/me: %v: %s", err, me.body)
	}
	want := ginauth.User{
		Provider: "mock", Issuer: m.Issuer(), Subject: user.Subject, Name: user.PreferredUsername,
		Email: user.Email, EmailVerified: true, Groups: user.Groups,
	}
	if got.Provider != want.Provider || got.Issuer != want.Issuer || got.Subject != want.Subject || got.Name != want.Name ||
		got.Email != want.Email || got.EmailVerified != want.EmailVerified || !slices.Equal(got.Groups, want.Groups) {
		t.Errorf("/api/me = %+v, want %+v", got, want)
	}
	if r := b.get("/app/admin"); r.status != http.StatusOK {
		t.Errorf("/app/admin with groups claim %v: %d", user.Groups, r.status)
	}
	if s := b.get("/auth/session"); s.status != http.StatusOK || !strings.Contains(s.body, `"provider":"mock"`) {
		t.Errorf("/auth/session: %d %s", s.status, s.body)
	}

	// The security-relevant parts of what ginauth sent and received.
	watch.mu.Lock()
	if len(watch.authorize) != 1 || len(watch.token) != 1 {
		watch.mu.Unlock()
		t.Fatalf("mockoidc saw %d authorization and %d token requests, want 1 and 1", len(watch.authorize), len(watch.token))
	}
	areq, treq, basic, idToken := watch.authorize[0], watch.token[0], watch.basicAuth[0], watch.idTokens[0]
	watch.mu.Unlock()
	redirectURI := a.base + "/auth/callback/mock"
	for k, v := range map[string]string{
		"response_type":         "code",
		"client_id":             m.ClientID,
		"redirect_uri":          redirectURI,
		"code_challenge_method": "S256",
	} {
		if got := areq.Get(k); got != v {
			t.Errorf("authorization request %s = %q, want %q", k, got, v)
		}
	}
	if scopes := strings.Fields(areq.Get("scope")); !slices.Contains(scopes, "openid") {
		t.Errorf("scope %q lacks openid", areq.Get("scope"))
	}
	if s := areq.Get("state"); len(s) < 43 || s != cbURL.Query().Get("state") {
		t.Errorf("state %q (callback carried %q): want >= 43 characters, echoed back", s, cbURL.Query().Get("state"))
	}
	nonce := areq.Get("nonce")
	if len(nonce) < 43 {
		t.Errorf("nonce %q: want >= 43 characters", nonce)
	}
	verifier := treq.Get("code_verifier")
	sum := sha256.Sum256([]byte(verifier))
	if len(verifier) < 43 || areq.Get("code_challenge") != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Errorf("PKCE: code_challenge %q is not S256(code_verifier %q)", areq.Get("code_challenge"), verifier)
	}
	if treq.Get("grant_type") != "authorization_code" || treq.Get("code") != cbURL.Query().Get("code") || treq.Get("redirect_uri") != redirectURI {
		t.Errorf("token request: grant_type %q, code %q (callback had %q), redirect_uri %q",
			treq.Get("grant_type"), treq.Get("code"), cbURL.Query().Get("code"), treq.Get("redirect_uri"))
	}
	if !basic || treq.Has("client_secret") {
		t.Errorf("token request: Basic auth %v, client_secret in body %v; want client_secret_basic only", basic, treq.Has("client_secret"))
	}
	claims := jwtClaims(t, idToken)
	if claims["nonce"] != nonce {
		t.Errorf("ID token nonce %v, authorization request sent %q", claims["nonce"], nonce)
	}
	if aud, _ := claims["aud"].([]any); len(aud) != 1 || aud[0] != m.ClientID {
		t.Errorf("ID token aud = %v, want [%q]", claims["aud"], m.ClientID)
	}
	if _, ok := claims["azp"]; ok {
		t.Errorf("mockoidc now sends azp %v: update the notes above", claims["azp"])
	}
	if claims["iss"] != m.Issuer() || claims["sub"] != user.Subject {
		t.Errorf("ID token iss %v sub %v", claims["iss"], claims["sub"])
	}

	// Sign out, asking for revocation that mockoidc cannot do.
	out := b.post("/auth/signout", url.Values{"csrfToken": {b.csrf()}, "callbackUrl": {"/"}, "revokeToken": {"true"}})
	if out.status != http.StatusSeeOther || out.location() != a.base+"/" {
		t.Fatalf("signout: %d, Location %q, body %s", out.status, out.location(), out.body)
	}
	if b.signedIn() {
		t.Fatal("still signed in after sign-out")
	}
	if s := b.get("/auth/session"); s.body != "null" {
		t.Errorf("/auth/session after sign-out: %s", s.body)
	}
	for _, c := range b.cookies() {
		if strings.HasPrefix(c.Name, "__Host-ginauth") && !strings.HasPrefix(c.Name, "__Host-ginauth-csrf") {
			t.Errorf("cookie %s survived sign-out", c.Name)
		}
	}

	// A nonce the provider did not echo is refused: the flow's nonce is
	// really checked against this provider's ID tokens.
	b2 := a.browser()
	start2 := b2.get("/auth/signin/mock?callbackUrl=%2F")
	callback2 := b2.get(start2.location()).location()
	cb2, _ := url.Parse(callback2)
	session, err := m.SessionStore.GetSessionByID(cb2.Query().Get("code"))
	if err != nil {
		t.Fatalf("mockoidc session for the second sign-in: %v", err)
	}
	session.OIDCNonce = "not-the-nonce-ginauth-sent"
	mark := a.failMark()
	a.failedWith(b2.get(callback2), "invalid_id_token")
	a.sfReason(mark, oidcjwt.ErrNonce)
	if b2.signedIn() {
		t.Fatal("signed in with an ID token carrying the wrong nonce")
	}

	// Nothing secret reached the logs, and a provider without revocation
	// is not reported as failing to revoke.
	logs := a.logs.String()
	if strings.Contains(logs, "revocation failed") {
		t.Errorf("sign-out with revokeToken logged a failure for a provider without a revocation endpoint:\n%s", logs)
	}
	for name, secret := range map[string]string{
		"client secret": m.ClientSecret, "code": treq.Get("code"), "code verifier": verifier,
		"ID token": idToken, "second code": cb2.Query().Get("code"),
	} {
		if secret != "" && strings.Contains(logs, secret) {
			t.Errorf("the logs hold the %s", name)
		}
	}

	// ginauth used only endpoints mockoidc has. UserInfo is among them:
	// mockoidc's ID tokens carry no name, which the profile scope
	// promises, so ginauth fetches UserInfo by default.
	watch.mu.Lock()
	defer watch.mu.Unlock()
	for _, p := range watch.paths {
		switch p {
		case mockoidc.DiscoveryEndpoint, mockoidc.JWKSEndpoint, mockoidc.AuthorizationEndpoint, mockoidc.TokenEndpoint, mockoidc.UserinfoEndpoint:
		default:
			t.Errorf("request to unexpected mockoidc path %s", p)
		}
	}
}
