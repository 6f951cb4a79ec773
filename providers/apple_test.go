package providers_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginauth/ginauth/providers"
)

func p8(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func appleConfig(t *testing.T) (providers.AppleConfig, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return providers.AppleConfig{ClientID: "com.example.web", TeamID: "TEAMID1234", KeyID: "KEYID12345", PrivateKey: p8(t, key)}, key
}

func TestAppleConfigErrors(t *testing.T) {
	good, _ := appleConfig(t)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	sec1, _ := x509.MarshalECPrivateKey(p384)
	for name, mutate := range map[string]func(c *providers.AppleConfig){
		"no team id":   func(c *providers.AppleConfig) { c.TeamID = "" },
		"no key id":    func(c *providers.AppleConfig) { c.KeyID = "" },
		"no client id": func(c *providers.AppleConfig) { c.ClientID = "" },
		"no key":       func(c *providers.AppleConfig) { c.PrivateKey = nil },
		"not pem":      func(c *providers.AppleConfig) { c.PrivateKey = []byte("MIGTAgEAMBMGByqGSM49") },
		"garbage pem": func(c *providers.AppleConfig) {
			c.PrivateKey = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("nope")})
		},
		"wrong pem type": func(c *providers.AppleConfig) {
			c.PrivateKey = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("x")})
		},
		"p-384": func(c *providers.AppleConfig) { c.PrivateKey = p8(t, p384) },
		"p-384 sec1": func(c *providers.AppleConfig) {
			c.PrivateKey = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})
		},
		"rsa":            func(c *providers.AppleConfig) { c.PrivateKey = p8(t, rsaKey) },
		"lifetime long":  func(c *providers.AppleConfig) { c.SecretLifetime = providers.AppleMaxSecretLifetime + time.Second },
		"lifetime short": func(c *providers.AppleConfig) { c.SecretLifetime = time.Second },
		"http issuer":    func(c *providers.AppleConfig) { c.Issuer = "http://appleid.example.com" },
	} {
		c := good
		mutate(&c)
		_, err := providers.Apple(c)
		if !errors.Is(err, providers.ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig", name, err)
			continue
		}
		if strings.Contains(err.Error(), "MIG") || strings.Contains(err.Error(), string(good.PrivateKey)) {
			t.Errorf("%s: error mentions key material: %v", name, err)
		}
	}
	p, err := providers.Apple(good)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "apple" || p.Issuer() != providers.AppleIssuer || !p.UsesFormPost() {
		t.Errorf("defaults: %q %q form_post=%v", p.Name(), p.Issuer(), p.UsesFormPost())
	}
}

// decodeSecret verifies an Apple client secret with pub and returns its
// header and claims.
func decodeSecret(t *testing.T, pub *ecdsa.PublicKey, tok string) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("secret %q is not a JWS", tok)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("secret signature does not verify")
	}
	var h, c map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(hb, &h) != nil || json.Unmarshal(cb, &c) != nil {
		t.Fatal("secret header or claims are not JSON")
	}
	return h, c
}

func TestAppleClientSecretRenewal(t *testing.T) {
	cfg, key := appleConfig(t)
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	p, err := providers.Apple(cfg)
	if err != nil {
		t.Fatal(err)
	}
	first := p.ClientSecret()
	h, c := decodeSecret(t, &key.PublicKey, first)
	if h["alg"] != "ES256" || h["kid"] != "KEYID12345" {
		t.Errorf("header = %v", h)
	}
	if c["iss"] != "TEAMID1234" || c["sub"] != "com.example.web" || c["aud"] != providers.AppleIssuer {
		t.Errorf("claims = %v", c)
	}
	iat, exp := int64(c["iat"].(float64)), int64(c["exp"].(float64))
	if iat != now.Unix() || time.Duration(exp-iat)*time.Second != providers.AppleDefaultSecretLifetime {
		t.Errorf("iat %d exp %d", iat, exp)
	}

	// Cached while more than a day is left.
	advance(providers.AppleDefaultSecretLifetime - 25*time.Hour)
	if p.ClientSecret() != first {
		t.Error("secret renewed with more than a day left")
	}
	// Renewed with less than a day left.
	advance(2 * time.Hour)
	second := p.ClientSecret()
	if second == first {
		t.Fatal("secret not renewed with less than a day left")
	}
	if _, c := decodeSecret(t, &key.PublicKey, second); int64(c["iat"].(float64)) != now.Unix() {
		t.Errorf("renewed iat = %v", c["iat"])
	}

	// Concurrent callers all get the one current secret.
	var wg sync.WaitGroup
	got := make([]string, 32)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = p.ClientSecret() }()
	}
	wg.Wait()
	for _, s := range got {
		if s != second {
			t.Fatal("concurrent callers got different secrets")
		}
	}

	// A short lifetime renews at half of it; the maximum is accepted.
	cfg.SecretLifetime = time.Hour
	p, err = providers.Apple(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s1 := p.ClientSecret()
	advance(29 * time.Minute)
	if p.ClientSecret() != s1 {
		t.Error("1h secret renewed before half its lifetime")
	}
	advance(2 * time.Minute)
	if p.ClientSecret() == s1 {
		t.Error("1h secret not renewed past half its lifetime")
	}
	cfg.SecretLifetime = providers.AppleMaxSecretLifetime
	if p, err = providers.Apple(cfg); err != nil {
		t.Fatal(err)
	}
	if _, c := decodeSecret(t, &key.PublicKey, p.ClientSecret()); c["exp"].(float64)-c["iat"].(float64) != 15777000 {
		t.Errorf("max lifetime: %v", c)
	}
}
