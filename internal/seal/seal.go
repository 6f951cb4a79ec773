// Package seal encrypts and authenticates small values (cookies) with AES-256-GCM.
//
// Keys are derived with HKDF-SHA256 from the application's secrets, one key per
// purpose, so a value sealed for one purpose (a sign-in flow) never opens as another
// (a session). The first secret seals; every secret opens, which allows rotation.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// ErrInvalid reports a value that does not open with any key: tampered, truncated,
// sealed for another purpose or under another deployment's secrets.
var ErrInvalid = errors.New("ginauth: sealed value invalid")

// MinSecretLen is the minimum length of a secret, in bytes.
const MinSecretLen = 32

const (
	nonceSize = 12
	tagSize   = 16
	// Overhead is the number of bytes sealing adds before base64 encoding.
	Overhead = nonceSize + tagSize
)

// Sealer seals and opens values for one purpose.
type Sealer struct {
	aeads []cipher.AEAD
}

// New derives a Sealer for purpose from secrets. Each secret must be at least
// MinSecretLen bytes.
func New(secrets [][]byte, purpose string) (*Sealer, error) {
	if len(secrets) == 0 {
		return nil, errors.New("ginauth: no secrets")
	}
	s := &Sealer{}
	for i, secret := range secrets {
		if len(secret) < MinSecretLen {
			return nil, fmt.Errorf("ginauth: secret %d is %d bytes, want at least %d", i, len(secret), MinSecretLen)
		}
		key, err := hkdf.Key(sha256.New, secret, nil, "ginauth v1 "+purpose, 32)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		s.aeads = append(s.aeads, aead)
	}
	return s, nil
}

// Seal encrypts plaintext, binding it to ad (for example the cookie name), and
// returns it base64url-encoded without padding.
func (s *Sealer) Seal(plaintext, ad []byte) string {
	buf := make([]byte, nonceSize, nonceSize+len(plaintext)+tagSize)
	rand.Read(buf) // never fails since Go 1.24 (it crashes the program instead)
	buf = s.aeads[0].Seal(buf, buf[:nonceSize], plaintext, ad)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// strictB64 decodes unpadded base64url, refusing padding, bytes outside the
// alphabet and non-zero unused bits in the last character.
var strictB64 = base64.RawURLEncoding.Strict()

// decode decodes only the exact encodings Seal produces. strictB64 skips
// '\r' and '\n' (like every base64.Encoding); a value that had any is
// longer than the encoding of what it decodes to, and is refused.
func decode(value string) ([]byte, bool) {
	raw, err := strictB64.DecodeString(value)
	if err != nil || strictB64.EncodedLen(len(raw)) != len(value) {
		return nil, false
	}
	return raw, true
}

// Open decodes and decrypts a value produced by Seal with the same ad. It returns
// ErrInvalid for anything else. The returned slice is owned by the caller.
func (s *Sealer) Open(value string, ad []byte) ([]byte, error) {
	if len(value) < base64.RawURLEncoding.EncodedLen(Overhead) {
		return nil, ErrInvalid
	}
	// Strict: a value whose unused trailing bits were altered is not the
	// value Seal produced, even though it would decode to the same bytes.
	raw, ok := decode(value)
	if !ok {
		return nil, ErrInvalid
	}
	nonce, ct := raw[:nonceSize], raw[nonceSize:]
	for i, aead := range s.aeads {
		var dst []byte
		if i == len(s.aeads)-1 {
			dst = ct[:0] // last try: decrypt in place, saving an allocation
		}
		plain, err := aead.Open(dst, nonce, ct, ad)
		if err == nil {
			return plain, nil
		}
	}
	return nil, ErrInvalid
}
