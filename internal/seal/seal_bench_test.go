package seal

import (
	"bytes"
	"fmt"
	"testing"
)

// Benchmarks of Open, which every authenticated request does, and of its
// strict base64url decoding, at the sizes of real session cookies: the
// cookie store's session cookie is about 270 characters, a server-side
// store's about 60, a session with many groups a few hundred more.
//
//	go test -run='^$' -bench=. -count=5 ./internal/seal
//
// A hand-written table decoder was about 50 ns faster per value than
// base64.RawURLEncoding.Strict() at 276 characters (about 130 at 600): some
// 2% of a request through RequireAuth (about 2.6 us), which the end-to-end
// BenchmarkRequireAuth did not resolve from its run-to-run noise, so Open
// uses the standard library.

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

func BenchmarkDecode(b *testing.B) {
	s := mustNew(b, [][]byte{secretA}, "session")
	for _, n := range benchSizes {
		v := sealedOfLen(b, s, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				if _, ok := decode(v); !ok {
					b.Fatal("decode failed")
				}
			}
		})
	}
}

// BenchmarkOpen is the whole of Open (decode, then AES-GCM), to show what
// share of it decoding is.
func BenchmarkOpen(b *testing.B) {
	s := mustNew(b, [][]byte{secretA}, "session")
	ad := []byte("session")
	for _, n := range benchSizes {
		v := sealedOfLen(b, s, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				if _, err := s.Open(v, ad); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
