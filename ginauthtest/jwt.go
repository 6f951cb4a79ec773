package ginauthtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// SignJWT signs arbitrary claims for tests that forge tokens. The header
// starts as {"alg":"RS256","kid":<current kid>,"typ":"JWT"}; entries of header
// override it, and an entry with a nil value removes that key (e.g.
// {"kid": nil}). The signature follows the resulting "alg":
//
//   - "RS256": the current RSA key;
//   - "none": an empty signature;
//   - "HS256": HMAC-SHA256 keyed with the client secret (use SignHS256 to
//     choose the key);
//   - "ES256": a fresh, unpublished P-256 key;
//   - anything else: the alg text is kept verbatim but the token is signed
//     as RS256, for alg-mismatch tests.
//
// SignJWT returns "" if the header or claims cannot be encoded as JSON.
func (p *Provider) SignJWT(header map[string]any, claims map[string]any) string {
	key := p.currentKey()
	h := map[string]any{"alg": "RS256", "kid": key.kid, "typ": "JWT"}
	for k, v := range header {
		if v == nil {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	alg, _ := h["alg"].(string)
	var s signer
	switch alg {
	case "none":
		s = signNone
	case "HS256":
		s = signHMAC([]byte(p.clientSecret))
	case "ES256":
		s = signES256
	default:
		s = signRSA(key.priv)
	}
	tok, err := encodeJWT(h, claims, s)
	if err != nil {
		return ""
	}
	return tok
}

// SignHS256 returns an HS256 JWT over claims MACed with key. The header is
// {"alg":"HS256","typ":"JWT"} (no kid). It returns "" if claims cannot be
// encoded as JSON.
func (p *Provider) SignHS256(claims map[string]any, key []byte) string {
	tok, err := encodeJWT(map[string]any{"alg": "HS256", "typ": "JWT"}, claims, signHMAC(key))
	if err != nil {
		return ""
	}
	return tok
}

// IDTokenClaims returns the claims a correct ID token for the user with this
// subject would carry if issued now: iss, sub, aud, azp, exp, iat, auth_time,
// nonce (when non-empty), a fresh sid and the user's profile claims. An
// unknown subject gets the protocol claims only.
func (p *Provider) IDTokenClaims(subject, nonce string) map[string]any {
	return p.idTokenClaims(subject, nonce, randomToken(12), p.now())
}

func (p *Provider) idTokenClaims(subject, nonce, sid string, authTime time.Time) map[string]any {
	now := p.now()
	claims := map[string]any{}
	if u, ok := p.user(subject); ok {
		for k, v := range profileClaims(u) {
			claims[k] = v
		}
	}
	claims["iss"] = p.issuer
	claims["sub"] = subject
	claims["aud"] = p.clientID
	claims["azp"] = p.clientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(p.ttl).Unix()
	claims["auth_time"] = authTime.Unix()
	if sid != "" {
		claims["sid"] = sid
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	return claims
}

// profileClaims returns the user's claims as /userinfo and ID tokens carry them.
func profileClaims(u User) map[string]any {
	c := map[string]any{
		"sub":            u.Subject,
		"name":           u.Name,
		"email":          u.Email,
		"email_verified": u.EmailVerified,
	}
	if len(u.Groups) > 0 {
		c["groups"] = append([]string(nil), u.Groups...)
	}
	for k, v := range u.Extra {
		if k != "sub" {
			c[k] = v
		}
	}
	return c
}

// signIDToken signs claims as an ID token, applying the behaviour's knobs.
func (p *Provider) signIDToken(claims map[string]any, b Behavior) (string, error) {
	if b.IDTokenClaims != nil {
		b.IDTokenClaims(claims)
	}
	key := p.currentKey()
	header := map[string]any{"alg": "RS256", "kid": key.kid, "typ": "JWT"}
	var s signer
	switch b.IDTokenAlg {
	case AlgRS256, "RS256":
		s = signRSA(key.priv)
	case AlgNone:
		header["alg"] = "none"
		s = signNone
	case AlgHS256PubPEM:
		header["alg"] = "HS256"
		s = signHMAC(key.publicKeyBytes("pem"))
	case AlgHS256PubDER:
		header["alg"] = "HS256"
		s = signHMAC(key.publicKeyBytes("der"))
	case AlgHS256PubJWK:
		header["alg"] = "HS256"
		s = signHMAC(key.publicKeyBytes("jwk"))
	case AlgHS256Secret:
		header["alg"] = "HS256"
		s = signHMAC([]byte(p.clientSecret))
	case AlgES256Stranger:
		header["alg"] = "ES256"
		s = signES256
	default:
		return "", errors.New("unknown Behavior.IDTokenAlg " + b.IDTokenAlg)
	}
	if b.IDTokenHeader != nil {
		b.IDTokenHeader(header)
	}
	tok, err := encodeJWT(header, claims, s)
	if err != nil {
		return "", err
	}
	if b.CorruptSignature {
		tok = corruptSignature(tok)
	}
	return tok, nil
}

// signer computes a JWS signature over the signing input.
type signer func(signingInput []byte) ([]byte, error)

func signRSA(priv *rsa.PrivateKey) signer {
	return func(in []byte) ([]byte, error) {
		sum := sha256.Sum256(in)
		return rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, sum[:])
	}
}

func signHMAC(key []byte) signer {
	return func(in []byte) ([]byte, error) {
		m := hmac.New(sha256.New, key)
		m.Write(in)
		return m.Sum(nil), nil
	}
}

func signNone([]byte) ([]byte, error) { return nil, nil }

// signES256 signs with a throwaway P-256 key, producing the fixed-size R||S
// form JWS requires.
func signES256(in []byte) ([]byte, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(in)
	r, s, err := ecdsa.Sign(rand.Reader, priv, sum[:])
	if err != nil {
		return nil, err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return sig, nil
}

func encodeJWT(header, claims map[string]any, sign signer) (string, error) {
	hb, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	if claims == nil {
		claims = map[string]any{}
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64(hb) + "." + b64(cb)
	sig, err := sign([]byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + b64(sig), nil
}

// corruptSignature flips every bit of one byte in the middle of the signature.
func corruptSignature(tok string) string {
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil || len(sig) == 0 {
		return tok
	}
	sig[len(sig)/2] ^= 0xff
	return tok[:i+1] + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// verifyOwnIDToken checks that tok is an RS256 JWT signed by one of the
// provider's keys (current or retired), issued by this provider. Expiry is not
// checked. It returns the token's claims.
func (p *Provider) verifyOwnIDToken(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a compact JWS")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, errors.New("bad header encoding")
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(hb, &header); err != nil {
		return nil, errors.New("bad header")
	}
	if header.Alg != "RS256" {
		return nil, errors.New("unexpected alg")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, errors.New("bad signature encoding")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	verified := false
	for _, k := range p.allKeys() {
		if header.Kid != "" && k.kid != header.Kid {
			continue
		}
		if rsa.VerifyPKCS1v15(&k.priv.PublicKey, crypto.SHA256, sum[:], sig) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, errors.New("signature does not verify")
	}
	cb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("bad claims encoding")
	}
	var claims map[string]any
	if err := json.Unmarshal(cb, &claims); err != nil || claims == nil {
		return nil, errors.New("bad claims")
	}
	if iss, _ := claims["iss"].(string); iss != p.issuer {
		return nil, errors.New("issued by someone else")
	}
	return claims, nil
}

// audienceContains reports whether the aud claim (string or array) names id.
func audienceContains(aud any, id string) bool {
	switch a := aud.(type) {
	case string:
		return a == id
	case []any:
		for _, v := range a {
			if s, ok := v.(string); ok && s == id {
				return true
			}
		}
	}
	return false
}
