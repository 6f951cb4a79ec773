package ginauthtest_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauthtest"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// jwtHeader decodes the JOSE header of a compact JWT.
func jwtHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func hmacValid(tok string, key []byte) bool {
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(tok[:i]))
	return hmac.Equal(sig, m.Sum(nil))
}

func TestIDTokenBehavior(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	c := newRP(t, op)
	idToken := func(b ginauthtest.Behavior) string {
		t.Helper()
		op.SetBehavior(b)
		defer op.SetBehavior(ginauthtest.Behavior{})
		tokens, _ := c.login()
		s, _ := tokens["id_token"].(string)
		return s
	}

	t.Run("correct", func(t *testing.T) {
		if _, err := c.verifyIDToken(idToken(ginauthtest.Behavior{})); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("CorruptSignature", func(t *testing.T) {
		_, err := c.verifyIDToken(idToken(ginauthtest.Behavior{CorruptSignature: true}))
		if err == nil {
			t.Fatal("corrupted signature verified")
		}
	})
	t.Run("claims and header hooks", func(t *testing.T) {
		tok := idToken(ginauthtest.Behavior{
			IDTokenClaims: func(c map[string]any) { c["aud"] = []string{"a", "b"}; delete(c, "nonce") },
			IDTokenHeader: func(h map[string]any) { h["kid"] = "x" },
		})
		if jwtHeader(t, tok)["kid"] != "x" {
			t.Error("header hook ignored")
		}
		parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatal(err)
		}
		var claims map[string]any
		if err := parsed.Claims(op.PublicKey(), &claims); err != nil {
			t.Fatal(err)
		}
		if claims["nonce"] != nil || len(claims["aud"].([]any)) != 2 {
			t.Errorf("claims hook ignored: %v", claims)
		}
	})
	t.Run("alg none", func(t *testing.T) {
		tok := idToken(ginauthtest.Behavior{IDTokenAlg: "none"})
		if jwtHeader(t, tok)["alg"] != "none" || !strings.HasSuffix(tok, ".") {
			t.Errorf("token %s", tok)
		}
		if _, err := c.verifyIDToken(tok); err == nil {
			t.Error("alg none accepted")
		}
	})
	t.Run("HS256 key confusion", func(t *testing.T) {
		der, err := x509.MarshalPKIXPublicKey(op.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		var jwks struct{ Keys []json.RawMessage }
		if err := json.Unmarshal(c.get(op.URL("/jwks")).body, &jwks); err != nil {
			t.Fatal(err)
		}
		for alg, key := range map[string][]byte{
			"HS256-pubkey-pem": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
			"HS256-pubkey-der": der,
			"HS256-pubkey-jwk": jwks.Keys[0],
			"HS256-secret":     []byte(op.ClientSecret()),
		} {
			tok := idToken(ginauthtest.Behavior{IDTokenAlg: alg})
			h := jwtHeader(t, tok)
			if h["alg"] != "HS256" || h["kid"] != op.KeyID() {
				t.Errorf("%s: header %v", alg, h)
			}
			if !hmacValid(tok, key) {
				t.Errorf("%s: not MACed with the expected key", alg)
			}
			if _, err := c.verifyIDToken(tok); err == nil {
				t.Errorf("%s: accepted as RS256", alg)
			}
		}
	})
	t.Run("ES256 stranger", func(t *testing.T) {
		tok := idToken(ginauthtest.Behavior{IDTokenAlg: "ES256"})
		parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		if parsed.Headers[0].KeyID != op.KeyID() {
			t.Errorf("kid %q", parsed.Headers[0].KeyID)
		}
		if len(strings.Split(tok, ".")[2]) != 86 { // 64 bytes base64url
			t.Errorf("ES256 signature has wrong size")
		}
	})
}

func TestTokenResponseBehavior(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	c := newRP(t, op)
	exchange := func(b ginauthtest.Behavior) response {
		t.Helper()
		verifier := newVerifier()
		code := c.authorize(c.authzParams(verifier)).Get("code")
		op.SetBehavior(b)
		defer op.SetBehavior(ginauthtest.Behavior{})
		return c.token(exchangeForm(code, verifier))
	}

	tokens := exchange(ginauthtest.Behavior{OmitIDToken: true, TokenType: "bEaReR", OmitExpiresIn: true}).json(t)
	if _, ok := tokens["id_token"]; ok {
		t.Error("OmitIDToken ignored")
	}
	if _, ok := tokens["expires_in"]; ok {
		t.Error("OmitExpiresIn ignored")
	}
	if tokens["token_type"] != "bEaReR" {
		t.Error("TokenType ignored")
	}
	wantOAuthError(t, exchange(ginauthtest.Behavior{TokenStatus: 503, TokenError: "temporarily_unavailable"}), 503, "temporarily_unavailable")
	wantOAuthError(t, exchange(ginauthtest.Behavior{TokenError: "invalid_client"}), 400, "invalid_client")

	raw := exchange(ginauthtest.Behavior{TokenRawBody: []byte(`{"access_token":"tru`)})
	if raw.status != 200 || string(raw.body) != `{"access_token":"tru` || raw.header.Get("Content-Type") != "application/json" {
		t.Errorf("TokenRawBody: %d %q", raw.status, raw.body)
	}

	first := exchange(ginauthtest.Behavior{}).json(t)
	op.SetBehavior(ginauthtest.Behavior{RefreshError: "invalid_grant", UserInfoSub: "mallory"})
	wantOAuthError(t, c.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}}), 400, "invalid_grant")
	req, _ := http.NewRequest(http.MethodPost, op.URL("/userinfo"), nil)
	req.Header.Set("Authorization", "bearer "+first["access_token"].(string))
	if info := c.do(req).json(t); info["sub"] != "mallory" {
		t.Errorf("UserInfoSub ignored: %v", info)
	}
}

func TestDiscoveryAndJWKSBehavior(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	c := newRP(t, op)
	disc := op.URL("/.well-known/openid-configuration")

	op.SetBehavior(ginauthtest.Behavior{DiscoveryDown: true, JWKSDown: true})
	if c.get(disc).status != 503 || c.get(op.URL("/jwks")).status != 503 {
		t.Error("Down knobs ignored")
	}
	op.SetBehavior(ginauthtest.Behavior{DiscoveryIssuer: "https://evil.test", OmitIssParameterSupported: true})
	doc := c.get(disc).json(t)
	if doc["issuer"] != "https://evil.test" {
		t.Errorf("issuer %v", doc["issuer"])
	}
	if _, ok := doc["authorization_response_iss_parameter_supported"]; ok {
		t.Error("OmitIssParameterSupported ignored")
	}
	if got := op.Behavior(); got.DiscoveryIssuer != "https://evil.test" {
		t.Errorf("Behavior() = %+v", got)
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	c := newRP(t, op)
	kids := func() []string {
		var jwks jose.JSONWebKeySet
		if err := json.Unmarshal(c.get(op.URL("/jwks")).body, &jwks); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range jwks.Keys {
			if k.Use != "sig" || k.Algorithm != "RS256" {
				t.Errorf("key %+v", k)
			}
			out = append(out, k.KeyID)
		}
		return out
	}
	first := op.KeyID()
	added := op.AddKey()
	if got := kids(); len(got) != 2 || got[0] != first || got[1] != added {
		t.Errorf("after AddKey: %v", got)
	}
	tokens, _ := c.login()
	if jwtHeader(t, tokens["id_token"].(string))["kid"] != added {
		t.Error("new key does not sign")
	}
	if _, err := c.verifyIDToken(tokens["id_token"].(string)); err != nil {
		t.Error(err)
	}
	rotated := op.RotateKey()
	if got := kids(); len(got) != 1 || got[0] != rotated {
		t.Errorf("after RotateKey: %v", got)
	}
	// A hint signed with a retired key still ends the session.
	q := url.Values{"id_token_hint": {tokens["id_token"].(string)}}
	if res := c.get(op.URL("/end_session") + "?" + q.Encode()); res.status != 200 {
		t.Errorf("end_session with retired-key hint: %d", res.status)
	}
}

func TestSignJWT(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	claims := op.IDTokenClaims("bob", "n1")
	if claims["sub"] != "bob" || claims["nonce"] != "n1" || claims["email"] != "bob@example.com" || claims["iss"] != op.Issuer() {
		t.Errorf("IDTokenClaims = %v", claims)
	}

	tok := op.SignJWT(nil, claims)
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := parsed.Claims(op.PublicKey(), &got); err != nil || got["sub"] != "bob" {
		t.Errorf("RS256: %v %v", err, got)
	}

	tok = op.SignJWT(map[string]any{"kid": nil, "alg": "none"}, claims)
	if h := jwtHeader(t, tok); h["alg"] != "none" || h["kid"] != nil || !strings.HasSuffix(tok, ".") {
		t.Errorf("none: %s", tok)
	}
	if tok := op.SignJWT(map[string]any{"alg": "HS256"}, claims); !hmacValid(tok, []byte(op.ClientSecret())) {
		t.Error("HS256 SignJWT not keyed with the client secret")
	}
	key := bytes.Repeat([]byte("k"), 32)
	tok = op.SignHS256(claims, key)
	parsed, err = jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		t.Fatal(err)
	}
	if err := parsed.Claims(key, &got); err != nil || parsed.Headers[0].KeyID != "" {
		t.Errorf("SignHS256: %v kid %q", err, parsed.Headers[0].KeyID)
	}
	logout := op.LogoutToken("bob", "sid-1")
	parsed, err = jwt.ParseSigned(logout, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	if err := parsed.Claims(op.PublicKey(), &got); err != nil || got["sid"] != "sid-1" || got["events"] == nil || got["nonce"] != nil {
		t.Errorf("LogoutToken: %v %v", err, got)
	}
	if parsed.Headers[0].ExtraHeaders["typ"] != "logout+jwt" {
		t.Errorf("LogoutToken typ %v", parsed.Headers[0].ExtraHeaders)
	}
	if tok := op.SignJWT(nil, map[string]any{"bad": make(chan int)}); tok != "" {
		t.Error("unencodable claims signed")
	}
}

func TestBodySizeKnobs(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	c := newRP(t, op)
	read := func(req *http.Request) (int64, []byte) {
		t.Helper()
		res, err := c.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		head := make([]byte, 6)
		n, _ := io.ReadFull(res.Body, head)
		rest, err := io.Copy(io.Discard, res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return int64(n) + rest, head[:n]
	}
	const size = 50 << 20
	op.SetBehavior(ginauthtest.Behavior{TokenBodySize: size, JWKSBodySize: 100_000, DiscoveryBodySize: 3})
	req, _ := http.NewRequest(http.MethodPost, op.URL("/token"), strings.NewReader("grant_type=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if n, head := read(req); n != size || string(head) != `{"a":"` {
		t.Errorf("token body: %d bytes starting %q", n, head)
	}
	req, _ = http.NewRequest(http.MethodGet, op.URL("/jwks"), nil)
	if n, _ := read(req); n != 100_000 {
		t.Errorf("jwks body: %d bytes", n)
	}
	req, _ = http.NewRequest(http.MethodGet, op.URL("/.well-known/openid-configuration"), nil)
	if n, head := read(req); n != 3 || string(head) != `{"a` {
		t.Errorf("discovery body: %d bytes %q", n, head)
	}
}

func TestTokenDelayAndHang(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	c := newRP(t, op)
	post := func(ctx context.Context) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, op.URL("/token"), strings.NewReader("grant_type=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		basicAuth(op.ClientID(), op.ClientSecret())(req)
		return c.c.Do(req)
	}

	op.SetBehavior(ginauthtest.Behavior{TokenDelay: 150 * time.Millisecond})
	start := time.Now()
	res, err := post(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if d := time.Since(start); d < 150*time.Millisecond || res.StatusCode != 400 {
		t.Errorf("TokenDelay: %v, status %d", d, res.StatusCode)
	}

	op.SetBehavior(ginauthtest.Behavior{TokenHang: true})
	start = time.Now()
	_, err = post(ctxTimeout(t, 200*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("TokenHang: err %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("TokenHang did not end with the context: %v", d)
	}
}

func TestCloseUnblocksHungHandlers(t *testing.T) {
	t.Parallel()
	op, err := ginauthtest.Start(ginauthtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := newRP(t, op)
	op.SetBehavior(ginauthtest.Behavior{TokenHang: true})
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, op.URL("/token"), strings.NewReader("grant_type=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := c.c.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode != http.StatusServiceUnavailable {
				err = errors.New(res.Status)
			}
		}
		done <- err
	}()
	for deadline := time.Now().Add(5 * time.Second); op.Counts().Token == 0; {
		if time.Now().After(deadline) {
			t.Fatal("request never reached /token")
		}
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	op.Close()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
	if err := <-done; err != nil {
		t.Errorf("hung request: %v", err)
	}
	op.Close() // idempotent
}

func TestCloseWithUnreadBody(t *testing.T) {
	t.Parallel()
	op, err := ginauthtest.Start(ginauthtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := newRP(t, op)
	op.SetBehavior(ginauthtest.Behavior{JWKSBodySize: 200 << 20})
	res, err := c.c.Get(op.URL("/jwks"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	// The client never reads the body, so the handler ends up blocked in
	// Write once the socket buffers are full: wait until it is.
	waitBlockedInWrite(t, "ginauthtest.(*Provider).streamBody")
	start := time.Now()
	op.Close()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
}

// waitBlockedInWrite waits (at most 10 s) until a goroutine running fn is
// parked in a network write: its stack holds fn and a net.Conn Write, and
// the runtime reports it as waiting for I/O.
func waitBlockedInWrite(t *testing.T, fn string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(10 * time.Second); ; {
		n := runtime.Stack(buf, true)
		if n == len(buf) {
			buf = make([]byte, 2*len(buf))
			continue
		}
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			header, _, _ := strings.Cut(g, "\n")
			if strings.Contains(header, "[IO wait") && strings.Contains(g, fn) && strings.Contains(g, "net.(*conn).Write") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no goroutine of %s blocked in a network write after 10 s", fn)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
