package ginauthtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
)

const rsaBits = 2048

// signingKey is one RSA key pair with its key ID.
type signingKey struct {
	kid  string
	priv *rsa.PrivateKey
}

// jwk is the public JSON Web Key form of an RSA key as /jwks publishes it.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

func newSigningKey() (*signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		return nil, fmt.Errorf("ginauthtest: generate RSA key: %w", err)
	}
	return &signingKey{kid: randomToken(9), priv: priv}, nil
}

func (k *signingKey) jwk() jwk {
	pub := &k.priv.PublicKey
	return jwk{
		Kty: "RSA",
		Kid: k.kid,
		Use: "sig",
		Alg: "RS256",
		N:   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E:   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}

// publicKeyBytes returns the public key in the form an HS256 key-confusion
// attack would use: "pem" and "der" are PKIX encodings, "jwk" is the JSON the
// JWKS endpoint serves for this key.
func (k *signingKey) publicKeyBytes(form string) []byte {
	switch form {
	case "der", "pem":
		der, err := x509.MarshalPKIXPublicKey(&k.priv.PublicKey)
		if err != nil {
			return nil
		}
		if form == "der" {
			return der
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	case "jwk":
		b, err := json.Marshal(k.jwk())
		if err != nil {
			return nil
		}
		return b
	}
	return nil
}

// currentKey returns the key that signs new tokens.
func (p *Provider) currentKey() *signingKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys[len(p.keys)-1]
}

// allKeys returns every key the provider has ever had, published ones first.
func (p *Provider) allKeys() []*signingKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*signingKey, 0, len(p.keys)+len(p.retired))
	out = append(out, p.keys...)
	return append(out, p.retired...)
}

// RotateKey generates a new signing key. Afterwards the JWKS publishes only
// the new key; the old ones are gone. It returns the new key ID, or "" if key
// generation failed (the keys are then unchanged).
func (p *Provider) RotateKey() (newKID string) {
	k, err := newSigningKey()
	if err != nil {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.retired = append(p.retired, p.keys...)
	p.keys = []*signingKey{k}
	return k.kid
}

// AddKey generates a new signing key that signs from now on, while the JWKS
// keeps publishing the previous keys too. It returns the new key ID, or "" if
// key generation failed.
func (p *Provider) AddKey() (newKID string) {
	k, err := newSigningKey()
	if err != nil {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys = append(p.keys, k)
	return k.kid
}

// PublicKey returns the public part of the current signing key.
func (p *Provider) PublicKey() *rsa.PublicKey {
	return &p.currentKey().priv.PublicKey
}

// KeyID returns the key ID of the current signing key.
func (p *Provider) KeyID() string {
	return p.currentKey().kid
}

// handleJWKS serves GET /jwks.
func (p *Provider) handleJWKS(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	p.mu.Lock()
	p.counts.JWKS++
	b := p.behavior
	keys := make([]jwk, len(p.keys))
	for i, k := range p.keys {
		keys[i] = k.jwk()
	}
	p.mu.Unlock()

	switch {
	case b.JWKSDown:
		writeJSONError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "JWKS is down (Behavior.JWKSDown)")
	case b.JWKSBodySize > 0:
		p.streamBody(w, r, b.JWKSBodySize)
	default:
		w.Header().Set("Cache-Control", "no-cache")
		writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
	}
}
