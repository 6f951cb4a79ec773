package storetest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"testing"
)

// tokens returns n tokens made by gen.
func tokens(n int, gen func(i int) []byte) [][]byte {
	toks := make([][]byte, n)
	for i := range toks {
		toks[i] = gen(i)
	}
	return toks
}

func randomToken(n int, encode func([]byte) string) func(int) []byte {
	return func(int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return []byte(encode(b))
	}
}

// TestEntropyBits checks the estimate the SaveNewTwice case relies on: 32
// random bytes pass in every usual encoding, less randomness fails.
func TestEntropyBits(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	raw := func(b []byte) string { return string(b) }
	for _, tc := range []struct {
		name string
		gen  func(int) []byte
		pass bool
	}{
		{"32 bytes base64url", randomToken(32, b64), true},
		{"32 bytes hex", randomToken(32, hex.EncodeToString), true},
		{"32 bytes raw", randomToken(32, raw), true},
		{"tag and 32 bytes", func(i int) []byte {
			return append([]byte("0123456789abcdef"), randomToken(32, b64)(i)...)
		}, true},
		{"16 bytes base64url", randomToken(16, b64), false},
		{"16 bytes hex", randomToken(16, hex.EncodeToString), false},
		{"24 bytes base64url", randomToken(24, b64), false},
		{"counter", func(i int) []byte { return fmt.Appendf(nil, "session-%040d", i) }, false},
		{"16 random bytes padded", func(i int) []byte {
			return append(bytes.Repeat([]byte("A"), 40), randomToken(16, b64)(i)...)
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 100 {
				bits := entropyBits(tokens(8, tc.gen))
				if (bits >= 240) != tc.pass {
					t.Fatalf("entropyBits = %.0f, want pass: %v", bits, tc.pass)
				}
			}
		})
	}
}

func TestForge(t *testing.T) {
	for _, tc := range []struct {
		name string
		tok  []byte
	}{
		{"base64url", randomToken(32, base64.RawURLEncoding.EncodeToString)(0)},
		{"padded base64url", randomToken(32, base64.URLEncoding.EncodeToString)(0)},
		{"hex", randomToken(32, hex.EncodeToString)(0)},
		{"raw", randomToken(32, func(b []byte) string { return string(b) })(0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 100 {
				got := forge(t, tc.tok)
				half, tail := len(tc.tok)/2, len(tc.tok)-2
				switch {
				case len(got) != len(tc.tok):
					t.Fatalf("forge changed the length: %d, want %d", len(got), len(tc.tok))
				case alphabet(got) != alphabet(tc.tok) && alphabet(tc.tok) != "":
					t.Fatalf("forge changed the alphabet: %q from %q", got, tc.tok)
				case !bytes.Equal(got[:half], tc.tok[:half]) || !bytes.Equal(got[tail:], tc.tok[tail:]):
					t.Fatalf("forge changed the kept parts: %q from %q", got, tc.tok)
				case bytes.Equal(got, tc.tok):
					t.Fatalf("forge returned the token")
				}
			}
		})
	}
}
