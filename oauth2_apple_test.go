package ginauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

const (
	appleTeamID   = "TEAM123456"
	appleKeyID    = "KEY1234567"
	appleClientID = "com.example.web"
)

// fakeApple plays Sign in with Apple in front of a ginauthtest OP: its
// discovery advertises client_secret_post only, and /token and /revoke
// accept only a client secret JWT signed by the team's key, which it then
// swaps for the OP's own secret.
type fakeApple struct {
	t   *testing.T
	op  *ginauthtest.Provider
	srv *httptest.Server
	pub *ecdsa.PublicKey

	mu      sync.Mutex
	secrets []string     // client secrets received, in order
	revoked []url.Values // /revoke forms (client_secret included)

	// noRevocationEndpoint leaves revocation_endpoint out of discovery;
	// revocation is then served at /auth/revoke, Apple's own path.
	noRevocationEndpoint bool
}

func newFakeApple(t *testing.T, pub *ecdsa.PublicKey, now func() time.Time, user ginauthtest.User) *fakeApple {
	t.Helper()
	f := &fakeApple{t: t, pub: pub}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	op, err := ginauthtest.New(f.srv.URL, ginauthtest.Options{ClientID: appleClientID, Now: now, Users: []ginauthtest.User{user}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(op.Close)
	f.op = op
	return f
}

func (f *fakeApple) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		doc := f.op.Discovery()
		doc["token_endpoint_auth_methods_supported"] = []string{"client_secret_post"}
		doc["scopes_supported"] = []string{"openid", "email", "name"}
		delete(doc, "userinfo_endpoint")
		delete(doc, "end_session_endpoint")
		delete(doc, "revocation_endpoint_auth_methods_supported")
		f.mu.Lock()
		if f.noRevocationEndpoint {
			delete(doc, "revocation_endpoint")
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
		return
	case "/token", "/revoke", "/auth/revoke":
		if r.URL.Path == "/auth/revoke" {
			r.URL.Path = "/revoke"
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		secret := r.PostForm.Get("client_secret")
		f.mu.Lock()
		f.secrets = append(f.secrets, secret)
		if r.URL.Path == "/revoke" {
			f.revoked = append(f.revoked, cloneValues(r.PostForm))
		}
		f.mu.Unlock()
		if _, err := verifyAppleSecret(f.pub, secret, f.srv.URL, time.Now()); err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprint(w, `{"error":"invalid_client"}`)
			return
		}
		form := cloneValues(r.PostForm)
		form.Set("client_secret", f.op.ClientSecret())
		body := form.Encode()
		r2 := r.Clone(r.Context())
		r2.Form, r2.PostForm = nil, nil
		r2.Body = io.NopCloser(strings.NewReader(body))
		r2.ContentLength = int64(len(body))
		f.op.ServeHTTP(w, r2)
		return
	}
	f.op.ServeHTTP(w, r)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// verifyAppleSecret checks a client secret the way Apple does and returns
// its claims.
func verifyAppleSecret(pub *ecdsa.PublicKey, secret, aud string, now time.Time) (map[string]any, error) {
	parts := strings.Split(secret, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a JWS")
	}
	var header map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(hb, &header); err != nil {
		return nil, err
	}
	if header["alg"] != "ES256" || header["kid"] != appleKeyID {
		return nil, fmt.Errorf("header %v", header)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return nil, fmt.Errorf("signature length")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return nil, fmt.Errorf("bad signature")
	}
	var claims map[string]any
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(cb, &claims); err != nil {
		return nil, err
	}
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	switch {
	case claims["iss"] != appleTeamID, claims["sub"] != appleClientID, claims["aud"] != aud:
		return nil, fmt.Errorf("claims %v", claims)
	case exp <= iat, exp-iat > 15777000:
		return nil, fmt.Errorf("lifetime %v", exp-iat)
	case float64(now.Unix()) >= exp:
		return nil, fmt.Errorf("expired")
	}
	return claims, nil
}

func appleKeyPEM(t *testing.T) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

type appleRun struct {
	*testApp
	fake  *fakeApple
	apple *providers.AppleProvider
}

// appleIDUser is an Apple-shaped identity: string booleans, no name.
var appleIDUser = ginauthtest.User{
	Subject: "001234.0a1b2c3d4e5f.0042",
	Email:   "x7p2@privaterelay.appleid.com",
	Extra:   map[string]any{"email_verified": "true", "is_private_email": "true"},
}

func newAppleRun(t *testing.T, user ginauthtest.User, formUser []string) *appleRun {
	t.Helper()
	a := newTestApp(t)
	key, keyPEM := appleKeyPEM(t)
	fake := newFakeApple(t, &key.PublicKey, a.clock.Now, user)
	b := ginauthtest.Behavior{IDTokenClaims: func(c map[string]any) { delete(c, "name") }}
	if formUser != nil {
		b.AuthorizeExtra = url.Values{"user": formUser}
	}
	fake.op.SetBehavior(b)
	apple, err := providers.Apple(providers.AppleConfig{
		ClientID: appleClientID, TeamID: appleTeamID, KeyID: appleKeyID, PrivateKey: keyPEM,
		Issuer: fake.srv.URL, Now: a.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if a.auth, err = ginauth.New(ginauth.Config{
		BaseURL: a.base, Secrets: [][]byte{testSecret}, Now: a.clock.Now,
		Logger:    newCaptureLogger(a.logs, a.failures),
		Providers: []providers.Provider{apple},
	}); err != nil {
		t.Fatal(err)
	}
	a.router = a.routes()
	a.router.GET("/claims", a.auth.RequireAuth(ginauth.API), func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		out := map[string]any{"sub": u.Subject, "name": u.Name, "email": u.Email, "email_verified": u.EmailVerified}
		for _, k := range []string{"is_private_email", "given_name", "family_name", "email_verified"} {
			if v, ok := u.Claim(k); ok {
				out["claim_"+k] = v
			}
		}
		c.JSON(http.StatusOK, out)
	})
	return &appleRun{testApp: a, fake: fake, apple: apple}
}

var formPostField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
var formPostAction = regexp.MustCompile(`<form method="post" action="([^"]+)">`)

// signIn runs a whole form_post sign-in and returns /claims.
func (r *appleRun) signIn(t *testing.T) map[string]any {
	t.Helper()
	b := r.browser()
	res := b.get("/auth/signin/apple?callbackUrl=%2Fdashboard")
	if res.status != http.StatusFound {
		t.Fatalf("signin: %d %s", res.status, res.body)
	}
	authURL, _ := url.Parse(res.location())
	q := authURL.Query()
	if q.Get("response_mode") != "form_post" || q.Get("scope") != "openid name email" || q.Get("nonce") == "" || q.Get("client_id") != appleClientID {
		t.Errorf("authorization request: %v", q)
	}
	if sc := strings.Join(res.header.Values("Set-Cookie"), "\n"); !strings.Contains(sc, "SameSite=None") {
		t.Errorf("flow cookie is not SameSite=None:\n%s", sc)
	}
	page := b.get(res.location())
	m := formPostAction.FindStringSubmatch(page.body)
	if page.status != http.StatusOK || m == nil {
		t.Fatalf("authorize: %d %s", page.status, page.body)
	}
	form := url.Values{}
	for _, f := range formPostField.FindAllStringSubmatch(page.body, -1) {
		form.Add(html.UnescapeString(f[1]), html.UnescapeString(f[2]))
	}
	cb := b.post(html.UnescapeString(m[1]), form)
	if cb.status != http.StatusSeeOther || cb.location() != r.base+"/dashboard" {
		t.Fatalf("callback: %d %q %s\nlogs: %s", cb.status, cb.location(), cb.body, r.logs.String())
	}
	me := b.get("/claims")
	if me.status != http.StatusOK {
		t.Fatalf("/claims: %d %s", me.status, me.body)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(me.body), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAppleSignInFormPost(t *testing.T) {
	user := `{"name":{"firstName":"Jane","lastName":"Appleseed"},"email":"evil@example.com","sub":"someone-else"}`
	r := newAppleRun(t, appleIDUser, []string{user})
	got := r.signIn(t)
	want := map[string]any{
		"sub": appleIDUser.Subject, "email": appleIDUser.Email, "name": "Jane Appleseed",
		"email_verified": true, "claim_email_verified": true, "claim_is_private_email": true,
		"claim_given_name": "Jane", "claim_family_name": "Appleseed",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	if m := r.fake.op.LastTokenAuth(); m != ginauthtest.AuthClientSecretPost {
		t.Errorf("token endpoint auth = %q, want client_secret_post", m)
	}
	r.fake.mu.Lock()
	secrets := append([]string(nil), r.fake.secrets...)
	r.fake.mu.Unlock()
	if len(secrets) != 1 {
		t.Fatalf("token calls: %d", len(secrets))
	}
	claims, err := verifyAppleSecret(r.fake.pub, secrets[0], r.fake.srv.URL, r.clock.Now())
	if err != nil {
		t.Fatalf("client secret: %v", err)
	}
	if iat, _ := claims["iat"].(float64); int64(iat) != r.clock.Now().Unix() {
		t.Errorf("iat = %v, want the configured clock", iat)
	}
}

func TestAppleUserField(t *testing.T) {
	big := `{"name":{"firstName":"` + strings.Repeat("a", 5000) + `","lastName":"B"}}`
	for name, tc := range map[string]struct {
		field    []string
		wantName string
	}{
		"absent":          {nil, ""},
		"malformed":       {[]string{`{"name":{"firstName":"Jane"`}, ""},
		"not an object":   {[]string{`["Jane"]`}, ""},
		"wrong types":     {[]string{`{"name":{"firstName":42,"lastName":"Doe"}}`}, "Doe"},
		"oversized":       {[]string{big}, ""},
		"beyond callback": {[]string{strings.Repeat("x", providers.MaxExtraBytes+1)}, ""},
		"twice":           {[]string{`{"name":{"firstName":"A"}}`, `{"name":{"firstName":"B"}}`}, ""},
		"control chars":   {[]string{`{"name":{"firstName":"Ja\u0000ne","lastName":"Doe"}}`}, "Doe"},
		"first name only": {[]string{`{"name":{"firstName":"Jane"}}`}, "Jane"},
	} {
		t.Run(name, func(t *testing.T) {
			r := newAppleRun(t, appleIDUser, tc.field)
			got := r.signIn(t)
			if got["name"] != tc.wantName || got["sub"] != appleIDUser.Subject || got["email"] != appleIDUser.Email {
				t.Errorf("got %v, want name %q", got, tc.wantName)
			}
		})
	}
}

func TestAppleStringBooleans(t *testing.T) {
	for _, tc := range []struct {
		verified, private any
		want              bool
	}{
		{"false", "false", false},
		{"true", "false", true},
		{true, false, true},
		{"TRUE", "yes", true},
		{"yes", "1", false},
	} {
		u := appleIDUser
		u.Extra = map[string]any{"email_verified": tc.verified, "is_private_email": tc.private}
		r := newAppleRun(t, u, nil)
		got := r.signIn(t)
		if got["email_verified"] != tc.want || got["claim_email_verified"] != tc.want {
			t.Errorf("%v: email_verified = %v / %v, want %v", tc.verified, got["email_verified"], got["claim_email_verified"], tc.want)
		}
		if _, ok := got["claim_is_private_email"].(bool); !ok {
			t.Errorf("%v: is_private_email = %#v, want a bool", tc.private, got["claim_is_private_email"])
		}
	}
}

func TestAppleRevokeWithGeneratedSecret(t *testing.T) {
	r := newAppleRun(t, appleIDUser, nil)
	if err := r.apple.Revoke(context.Background(), "refresh-token-1", "refresh_token"); err != nil {
		t.Fatal(err)
	}
	r.fake.mu.Lock()
	defer r.fake.mu.Unlock()
	if len(r.fake.revoked) != 1 {
		t.Fatalf("revocations: %d", len(r.fake.revoked))
	}
	f := r.fake.revoked[0]
	if f.Get("client_id") != appleClientID || f.Get("token") != "refresh-token-1" || f.Get("token_type_hint") != "refresh_token" {
		t.Errorf("revocation form: %v", f)
	}
	if _, err := verifyAppleSecret(r.fake.pub, f.Get("client_secret"), r.fake.srv.URL, r.clock.Now()); err != nil {
		t.Errorf("revocation client secret: %v", err)
	}
}

func TestAppleRevokeWithoutAdvertisedEndpoint(t *testing.T) {
	r := newAppleRun(t, appleIDUser, nil)
	r.fake.mu.Lock()
	r.fake.noRevocationEndpoint = true
	r.fake.mu.Unlock()
	if err := r.apple.Revoke(context.Background(), "access-token-1", "access_token"); err != nil {
		t.Fatal(err)
	}
	r.fake.mu.Lock()
	defer r.fake.mu.Unlock()
	if len(r.fake.revoked) != 1 || r.fake.revoked[0].Get("token") != "access-token-1" {
		t.Fatalf("revocations: %v", r.fake.revoked)
	}
}
