package ginauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/oidcjwt"
	"github.com/ginauth/ginauth/providers"
)

const testAudience = "https://api.example.com"

// bearerApp is a testApp whose /api group also accepts bearer tokens for
// testAudience.
func bearerApp(t *testing.T) *testApp {
	t.Helper()
	a := newTestApp(t)
	r := gin.New()
	a.auth.Register(r.Group("/auth"))
	api := r.Group("/api", a.auth.RequireAuth(ginauth.API, ginauth.AcceptBearer(testAudience)))
	api.GET("/me", func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		_, hasSession := ginauth.SessionFrom(c)
		b, isBearer := ginauth.BearerFrom(c)
		_, tokErr := a.auth.AccessToken(c)
		c.JSON(http.StatusOK, gin.H{"sub": u.Subject, "provider": u.Provider, "name": u.Name, "groups": u.Groups,
			"session": hasSession, "bearer": isBearer, "scopes": b.Scopes, "client_id": b.ClientID,
			"tokenErr": errors.Is(tokErr, ginauth.ErrBearerRequest) && errors.Is(tokErr, ginauth.ErrNotSignedIn)})
	})
	api.GET("/admin", ginauth.RequireClaim("groups", "admin"), func(c *gin.Context) { c.String(http.StatusOK, "admin api") })
	a.router = r
	return a
}

// accessClaims are valid RFC 9068 claims for subject at the app's clock.
func (a *testApp) accessClaims(subject string) map[string]any {
	now := a.clock.Now()
	return map[string]any{
		"iss": a.op.Issuer(), "sub": subject, "aud": testAudience, "client_id": a.op.ClientID(),
		"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(), "jti": "j1",
		"scope": "read write", "name": "Alice Admin", "groups": []string{"admin", "staff"},
	}
}

func (a *testApp) accessToken(header, claims map[string]any) string {
	h := map[string]any{"typ": "at+jwt"}
	for k, v := range header {
		h[k] = v
	}
	return a.op.SignJWT(h, claims)
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

const (
	challengeNone    = `Bearer realm="ginauth"`
	challengeInvalid = `Bearer realm="ginauth", error="invalid_token"`
)

func TestBearerRules(t *testing.T) {
	a := bearerApp(t)
	now := a.clock.Now()
	valid := a.accessClaims("alice")
	tok := func(h map[string]any, c map[string]any) string { return a.accessToken(h, c) }
	idToken := a.op.SignJWT(nil, a.op.IDTokenClaims("alice", "n")) // typ JWT, aud = client ID

	cases := []struct {
		name      string
		token     string
		status    int
		challenge string
		reason    error // errors.Is of the provider's VerifyAccessToken
	}{
		{"valid", tok(nil, valid), 200, "", nil},
		{"typ application/AT+JWT", tok(map[string]any{"typ": "application/AT+JWT"}, valid), 200, "", nil},
		{"typ JWT", tok(map[string]any{"typ": "JWT"}, valid), 401, challengeInvalid, providers.ErrTokenType},
		{"typ missing", tok(map[string]any{"typ": nil}, valid), 401, challengeInvalid, providers.ErrTokenType},
		{"iss trailing slash", tok(nil, with(valid, "iss", a.op.Issuer()+"/")), 401, challengeInvalid, providers.ErrTokenIssuer},
		{"iss other provider", tok(nil, with(valid, "iss", "https://other.example")), 401, challengeInvalid, providers.ErrTokenIssuer},
		{"aud missing", tok(nil, with(valid, "aud", nil)), 401, challengeInvalid, providers.ErrTokenAudience},
		{"aud wrong", tok(nil, with(valid, "aud", "https://api.other.example")), 401, challengeInvalid, providers.ErrTokenAudience},
		{"aud list contains", tok(nil, with(valid, "aud", []string{"x", testAudience})), 200, "", nil},
		{"aud list without", tok(nil, with(valid, "aud", []string{"x", "y"})), 401, challengeInvalid, providers.ErrTokenAudience},
		{"expired", tok(nil, with(valid, "exp", now.Add(-2*time.Minute).Unix())), 401, challengeInvalid, providers.ErrTokenExpired},
		{"exp missing", tok(nil, with(valid, "exp", nil)), 401, challengeInvalid, providers.ErrTokenExpired},
		{"nbf future", tok(nil, with(valid, "nbf", now.Add(2*time.Minute).Unix())), 401, challengeInvalid, providers.ErrTokenExpired},
		{"iat future", tok(nil, with(valid, "iat", now.Add(2*time.Minute).Unix())), 401, challengeInvalid, providers.ErrTokenIssuedAt},
		{"iat missing", tok(nil, with(valid, "iat", nil)), 401, challengeInvalid, providers.ErrTokenIssuedAt},
		{"sub missing", tok(nil, with(valid, "sub", nil)), 401, challengeInvalid, providers.ErrTokenSubject},
		{"client_id missing", tok(nil, with(valid, "client_id", nil)), 401, challengeInvalid, providers.ErrTokenClientID},
		{"alg none", tok(map[string]any{"alg": "none"}, valid), 401, challengeInvalid, oidcjwt.ErrAlgorithm},
		{"HS256 with the public key", a.op.SignHS256(valid, a.op.PublicKey().N.Bytes()), 401, challengeInvalid, oidcjwt.ErrAlgorithm},
		{"bad signature", corrupt(tok(nil, valid)), 401, challengeInvalid, oidcjwt.ErrBadSignature},
		{"unknown kid", tok(map[string]any{"kid": "nope"}, valid), 401, challengeInvalid, oidcjwt.ErrUnknownKey},
		{"crit header", tok(map[string]any{"crit": []string{"exp"}}, valid), 401, challengeInvalid, providers.ErrTokenHeader},
		{"ID token as access token", idToken, 401, challengeInvalid, providers.ErrTokenType},
		{"not a JWT", "abc", 401, challengeInvalid, providers.ErrTokenMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := serveBearer(a, "Bearer "+c.token)
			checkBearerAnswer(t, rec, c.status, c.challenge)
			if strings.Contains(rec.Header().Get("WWW-Authenticate")+rec.Body.String(), c.token) {
				t.Error("the token is echoed in the answer")
			}
			_, err := a.prov.VerifyAccessToken(context.Background(), c.token, testAudience)
			if c.reason == nil && err != nil {
				t.Fatalf("VerifyAccessToken: %v", err)
			}
			if c.reason != nil && (!errors.Is(err, c.reason) || !errors.Is(err, providers.ErrInvalidToken)) {
				t.Fatalf("VerifyAccessToken: %v, want errors.Is %v", err, c.reason)
			}
		})
	}
}

func corrupt(tok string) string {
	i := strings.LastIndexByte(tok, '.')
	sig := []byte(tok[i+1:])
	if sig[3] == 'A' {
		sig[3] = 'B'
	} else {
		sig[3] = 'A'
	}
	return tok[:i+1] + string(sig)
}

func serveBearer(a *testApp, authorization ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, a.base+"/api/me", nil)
	for _, v := range authorization {
		req.Header.Add("Authorization", v)
	}
	rec := httptest.NewRecorder()
	a.router.ServeHTTP(rec, req)
	return rec
}

func checkBearerAnswer(t *testing.T, rec *httptest.ResponseRecorder, status int, challenge string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d (body %s)", rec.Code, status, rec.Body.String())
	}
	if got := rec.Header().Get("WWW-Authenticate"); got != challenge {
		t.Errorf("WWW-Authenticate %q, want %q", got, challenge)
	}
	if sc := rec.Header().Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("a bearer answer set cookies: %q", sc)
	}
}

func TestBearerRequest(t *testing.T) {
	a := bearerApp(t)
	tok := a.accessToken(nil, a.accessClaims("alice"))

	t.Run("handlers see the token's user", func(t *testing.T) {
		rec := serveBearer(a, "Bearer "+tok)
		checkBearerAnswer(t, rec, 200, "")
		body := rec.Body.String()
		for _, want := range []string{`"sub":"alice"`, `"provider":"test"`, `"name":"Alice Admin"`, `"groups":["admin","staff"]`,
			`"session":false`, `"bearer":true`, `"scopes":["read","write"]`, `"client_id":"` + a.op.ClientID() + `"`, `"tokenErr":true`} {
			if !strings.Contains(body, want) {
				t.Errorf("body %s lacks %s", body, want)
			}
		}
	})
	t.Run("lowercase scheme", func(t *testing.T) {
		checkBearerAnswer(t, serveBearer(a, "bearer "+tok), 200, "")
	})
	t.Run("Basic refused", func(t *testing.T) {
		checkBearerAnswer(t, serveBearer(a, "Basic YWxpY2U6cHc="), 401, challengeNone)
	})
	t.Run("empty header", func(t *testing.T) {
		checkBearerAnswer(t, serveBearer(a, ""), 401, challengeNone)
	})
	t.Run("two Authorization headers", func(t *testing.T) {
		checkBearerAnswer(t, serveBearer(a, "Bearer "+tok, "Bearer "+tok), 401, challengeNone)
	})
	t.Run("Bearer without a token", func(t *testing.T) {
		checkBearerAnswer(t, serveBearer(a, "Bearer "), 401, challengeInvalid)
	})
	t.Run("token over 64 KiB refused fast", func(t *testing.T) {
		before := a.op.Counts()
		start := time.Now()
		checkBearerAnswer(t, serveBearer(a, "Bearer "+strings.Repeat("a", 64<<10+1)), 401, challengeInvalid)
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %v", d)
		}
		if after := a.op.Counts(); after != before {
			t.Errorf("the provider was asked: %+v -> %+v", before, after)
		}
	})
	t.Run("RequireClaim on a bearer user", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, a.base+"/api/admin", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		a.router.ServeHTTP(rec, req)
		if rec.Code != 200 || len(rec.Header().Values("Set-Cookie")) != 0 {
			t.Fatalf("admin: %d %s", rec.Code, rec.Body.String())
		}
		noGroups := a.accessToken(nil, with(a.accessClaims("bob"), "groups", nil))
		req.Header.Set("Authorization", "Bearer "+noGroups)
		rec = httptest.NewRecorder()
		a.router.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Fatalf("admin without the group: %d", rec.Code)
		}
	})
	t.Run("no JWKS fetch once keys are cached", func(t *testing.T) {
		before := a.op.Counts()
		for range 5 {
			checkBearerAnswer(t, serveBearer(a, "Bearer "+tok), 200, "")
		}
		if after := a.op.Counts(); after != before {
			t.Errorf("provider requests: %+v -> %+v", before, after)
		}
	})
	t.Run("unknown kid: one rate-limited refetch", func(t *testing.T) {
		bad := a.accessToken(map[string]any{"kid": "nope"}, a.accessClaims("alice"))
		a.clock.Advance(time.Hour) // past any refetch interval
		fresh := a.accessToken(nil, a.accessClaims("alice"))
		before := a.op.Counts().JWKS
		for range 3 {
			checkBearerAnswer(t, serveBearer(a, "Bearer "+bad), 401, challengeInvalid)
		}
		if n := a.op.Counts().JWKS - before; n > 1 {
			t.Errorf("%d JWKS fetches for 3 unknown-kid tokens, want at most 1", n)
		}
		checkBearerAnswer(t, serveBearer(a, "Bearer "+fresh), 200, "")
	})
}

// A request with an Authorization header is judged by it alone.
func TestBearerIgnoresSessionCookie(t *testing.T) {
	a := bearerApp(t)
	b := a.browser()
	b.mustSignIn()
	var cookie []string
	for _, c := range b.cookies() {
		cookie = append(cookie, c.Name+"="+c.Value)
	}
	call := func(authorization string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, a.base+"/api/me", nil)
		req.Header.Set("Cookie", strings.Join(cookie, "; "))
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		rec := httptest.NewRecorder()
		a.router.ServeHTTP(rec, req)
		return rec
	}
	if rec := call(""); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"session":true`) {
		t.Fatalf("cookie alone: %d %s", rec.Code, rec.Body.String())
	}
	checkBearerAnswer(t, call("Bearer "+corrupt(a.accessToken(nil, a.accessClaims("alice")))), 401, challengeInvalid)
	checkBearerAnswer(t, call("Basic YWxpY2U6cHc="), 401, challengeNone)
	rec := call("Bearer " + a.accessToken(nil, a.accessClaims("bob")))
	checkBearerAnswer(t, rec, 200, "")
	if !strings.Contains(rec.Body.String(), `"sub":"bob"`) || !strings.Contains(rec.Body.String(), `"session":false`) {
		t.Fatalf("valid bearer with a cookie: %s", rec.Body.String())
	}
}

func TestBearerKeysUnavailable(t *testing.T) {
	a := bearerApp(t)
	tok := a.accessToken(nil, a.accessClaims("alice"))
	a.op.Close()
	rec := serveBearer(a, "Bearer "+tok)
	if rec.Code != http.StatusServiceUnavailable || len(rec.Header().Values("Set-Cookie")) != 0 {
		t.Fatalf("keys unavailable: %d %s", rec.Code, rec.Body.String())
	}
}

func TestAcceptBearerInvalidUse(t *testing.T) {
	a := newTestApp(t)
	for name, f := range map[string]func(){
		"browser mode":   func() { a.auth.RequireAuth(ginauth.Browser, ginauth.AcceptBearer(testAudience)) },
		"empty audience": func() { a.auth.RequireAuth(ginauth.API, ginauth.AcceptBearer("")) },
		"nil option":     func() { a.auth.RequireAuth(ginauth.API, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
}

// Without AcceptBearer, an Authorization header changes nothing.
func TestBearerOffByDefault(t *testing.T) {
	a := newTestApp(t)
	req := httptest.NewRequest(http.MethodGet, a.base+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+a.accessToken(nil, a.accessClaims("alice")))
	rec := httptest.NewRecorder()
	a.router.ServeHTTP(rec, req)
	if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") != `Cookie realm="ginauth"` {
		t.Fatalf("%d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
}

// RFC 6750 §3: with AcceptBearer, a request with neither a session nor an
// Authorization header is told that bearer tokens are accepted, without an
// error code.
func TestBearerChallengeWithoutCredentials(t *testing.T) {
	a := bearerApp(t)
	rec := serveBearer(a)
	got := rec.Header().Values("WWW-Authenticate")
	if rec.Code != http.StatusUnauthorized || len(got) != 2 || got[0] != challengeNone || got[1] != `Cookie realm="ginauth"` {
		t.Fatalf("%d %q, want 401 with %q and the Cookie challenge", rec.Code, got, challengeNone)
	}
}
