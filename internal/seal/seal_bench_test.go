package seal

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"testing"
)

// Benchmarks of the strict base64url decoding that Open does on every
// authenticated request, at the sizes of real session cookies: the cookie
// store's session cookie is about 270 characters, a server-side store's
// about 60, a session with many groups a few hundred more.
//
//	go test -run='^$' -bench=. -count=5 ./internal/seal

var stdlibStrict = base64.RawURLEncoding.Strict()

// decoders are the strict decoders compared side by side.
var decoders = []struct {
	name   string
	decode func(string) ([]byte, bool)
}{
	{"handwritten", decodeStrict},
	{"stdlib", func(s string) ([]byte, bool) {
		b, err := stdlibStrict.DecodeString(s)
		return b, err == nil
	}},
}

// sealedOfLen returns a value sealed by s whose encoding is n characters.
func sealedOfLen(tb testing.TB, s *Sealer, n int) string {
	tb.Helper()
	v := s.Seal(bytes.Repeat([]byte("p"), n*3/4-Overhead), []byte("session"))
	if len(v) != n {
		tb.Fatalf("sealed value is %d characters, want %d", len(v), n)
	}
	return v
}

var benchSizes = []int{64, 276, 400, 600}

func BenchmarkDecodeStrict(b *testing.B) {
	s := mustNew(b, [][]byte{secretA}, "session")
	for _, n := range benchSizes {
		v := sealedOfLen(b, s, n)
		for _, d := range decoders {
			b.Run(fmt.Sprintf("%s/%d", d.name, n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(n))
				for b.Loop() {
					if _, ok := d.decode(v); !ok {
						b.Fatal("decode failed")
					}
				}
			})
		}
	}
}

// BenchmarkOpen is the whole of Open (decode, then AES-GCM) with each
// decoder, to show what share of it decoding is.
func BenchmarkOpen(b *testing.B) {
	s := mustNew(b, [][]byte{secretA}, "session")
	ad := []byte("session")
	for _, n := range benchSizes {
		v := sealedOfLen(b, s, n)
		for _, d := range decoders {
			b.Run(fmt.Sprintf("%s/%d", d.name, n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(n))
				for b.Loop() {
					raw, ok := d.decode(v)
					if !ok {
						b.Fatal("decode failed")
					}
					if _, err := s.aeads[0].Open(raw[nonceSize:nonceSize], raw[:nonceSize], raw[nonceSize:], ad); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
