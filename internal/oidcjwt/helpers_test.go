package oidcjwt

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ginauth/ginauth/internal/safehttp"
)

const (
	testIssuer   = "https://op.example"
	testClientID = "client"
	testNonce    = "n-0S6_WzA2Mj"
)

// Keys are generated once per test binary.
var (
	keysOnce                  sync.Once
	rsaKey1, rsaKey2, rsaKey3 *rsa.PrivateKey
	rsaWeak                   *rsa.PrivateKey
	ecKey1                    *ecdsa.PrivateKey
	edPub                     ed25519.PublicKey
	edKey                     ed25519.PrivateKey
	testStart                 = time.Unix(1_800_000_000, 0)
	keysErr                   error
)

func testKeys(tb testing.TB) {
	tb.Helper()
	keysOnce.Do(func() {
		gen := func(bits int) *rsa.PrivateKey {
			k, err := rsa.GenerateKey(rand.Reader, bits)
			if err != nil {
				keysErr = err
			}
			return k
		}
		rsaKey1, rsaKey2, rsaKey3 = gen(2048), gen(2048), gen(2048)
		rsaWeak = gen(1024)
		var err error
		if ecKey1, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			keysErr = err
		}
		if edPub, edKey, err = ed25519.GenerateKey(rand.Reader); err != nil {
			keysErr = err
		}
	})
	if keysErr != nil {
		tb.Fatal(keysErr)
	}
}

// pubJWK is a public JWK entry for a JWKS.
func pubJWK(key crypto.Signer, kid, alg, use string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: key.Public(), KeyID: kid, Algorithm: alg, Use: use}
}

func jwksJSON(tb testing.TB, keys ...jose.JSONWebKey) []byte {
	tb.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// sign returns a compact JWS of payload. An empty kid leaves the header
// without kid.
func sign(tb testing.TB, key any, alg jose.SignatureAlgorithm, kid string, payload []byte) string {
	tb.Helper()
	var sk jose.SigningKey
	if kid != "" {
		sk = jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}
	} else {
		sk = jose.SigningKey{Algorithm: alg, Key: key}
	}
	s, err := jose.NewSigner(sk, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		tb.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// rawToken assembles a token from a header object, a payload and a signature.
func rawToken(header string, payload []byte, sig []byte) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString(payload) + "." + enc.EncodeToString(sig)
}

func claimsAt(now time.Time) map[string]any {
	return map[string]any{
		"iss":   testIssuer,
		"aud":   testClientID,
		"sub":   "user-1",
		"exp":   now.Add(time.Hour).Unix(),
		"iat":   now.Unix(),
		"nonce": testNonce,
	}
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func expectations(now time.Time) IDTokenExpectations {
	return IDTokenExpectations{Issuer: testIssuer, ClientID: testClientID, Nonce: testNonce, Now: now}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: testStart} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Modes of a jwksServer.
const (
	modeOK = iota
	modeDown
	modeHang
	modeHuge
)

// jwksServer serves a replaceable JWKS and counts requests.
type jwksServer struct {
	*httptest.Server
	body    atomic.Pointer[[]byte]
	mode    atomic.Int32
	hits    atomic.Int32
	release chan struct{}
}

func newJWKSServer(tb testing.TB, body []byte) *jwksServer {
	tb.Helper()
	s := &jwksServer{release: make(chan struct{})}
	s.set(body)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(func() {
		close(s.release)
		s.Close()
	})
	return s
}

func (s *jwksServer) set(body []byte) { s.body.Store(&body) }

func (s *jwksServer) serve(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	switch s.mode.Load() {
	case modeDown:
		http.Error(w, "<html>502 Bad Gateway</html>", http.StatusBadGateway)
	case modeHang:
		select {
		case <-s.release:
		case <-r.Context().Done():
		}
	case modeHuge:
		// 50 MB of a JSON string inside a JWKS, streamed from one buffer.
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys":[{"kty":"RSA","n":"`))
		buf := bytes.Repeat([]byte("A"), 32<<10)
		for left := 50 << 20; left > 0; left -= len(buf) {
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
		_, _ = w.Write([]byte(`","e":"AQAB"}]}`))
	default:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*s.body.Load())
	}
}

func newKeySet(srv *jwksServer, clock *fakeClock, timeout time.Duration) *RemoteKeySet {
	return NewRemoteKeySet(srv.URL, KeySetOptions{
		Client:             safehttp.NewClient(timeout),
		MinRefreshInterval: time.Minute,
		Now:                clock.Now,
	})
}
