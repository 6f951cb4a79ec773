package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

var (
	secretA = bytes.Repeat([]byte("a"), 32)
	secretB = bytes.Repeat([]byte("b"), 32)
)

func mustNew(t testing.TB, secrets [][]byte, purpose string) *Sealer {
	t.Helper()
	s, err := New(secrets, purpose)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	s := mustNew(t, [][]byte{secretA}, "session")
	for _, plain := range [][]byte{{}, []byte("x"), bytes.Repeat([]byte("z"), 5000)} {
		v := s.Seal(plain, []byte("name"))
		if strings.ContainsAny(v, "+/=") {
			t.Fatalf("not unpadded base64url: %q", v)
		}
		got, err := s.Open(v, []byte("name"))
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("Open = %q, %v", got, err)
		}
	}
	first, second := s.Seal([]byte("x"), nil), s.Seal([]byte("x"), nil)
	if first == second {
		t.Fatal("two seals of one value are equal: nonce reused")
	}
}

func TestOpenRefuses(t *testing.T) {
	s := mustNew(t, [][]byte{secretA}, "session")
	good := s.Seal([]byte("payload"), []byte("session-cookie"))
	flip := []byte(good)
	flip[len(flip)/2] ^= 1
	// good is 47 characters for 35 bytes: the last character's two low
	// bits are unused, and a lenient decoder ignores them.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	trailing := good[:len(good)-1] + string(alphabet[strings.IndexByte(alphabet, good[len(good)-1])^1])
	cases := map[string]struct {
		sealer *Sealer
		value  string
		ad     string
	}{
		"other purpose":         {mustNew(t, [][]byte{secretA}, "flow"), good, "session-cookie"},
		"other secret":          {mustNew(t, [][]byte{secretB}, "session"), good, "session-cookie"},
		"other additional data": {s, good, "flow-cookie"},
		"byte flipped":          {s, string(flip), "session-cookie"},
		"truncated":             {s, good[:len(good)-10], "session-cookie"},
		"empty":                 {s, "", "session-cookie"},
		"not base64":            {s, "%%%" + good[3:], "session-cookie"},
		"padded base64":         {s, good + "==", "session-cookie"},
		"too short":             {s, "AAAA", "session-cookie"},
		"unused bits set":       {s, trailing, "session-cookie"},
		"newline inside":        {s, good[:20] + "\n" + good[20:], "session-cookie"},
		"CRLF at the end":       {s, good + "\r\n", "session-cookie"},
		"standard alphabet":     {s, "+" + good[1:], "session-cookie"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := tc.sealer.Open(tc.value, []byte(tc.ad)); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

// The first secret seals; all open, so keys can be rotated.
func TestRotation(t *testing.T) {
	old := mustNew(t, [][]byte{secretA}, "session")
	rotated := mustNew(t, [][]byte{secretB, secretA}, "session")
	v := old.Seal([]byte("kept"), nil)
	if got, err := rotated.Open(v, nil); err != nil || string(got) != "kept" {
		t.Fatalf("rotated sealer cannot open a value of the old secret: %v", err)
	}
	if _, err := old.Open(rotated.Seal([]byte("new"), nil), nil); !errors.Is(err, ErrInvalid) {
		t.Fatal("new values must be sealed with the first secret")
	}
}

func TestNewRefusesWeakSecrets(t *testing.T) {
	for name, secrets := range map[string][][]byte{
		"none":      nil,
		"31 bytes":  {bytes.Repeat([]byte("a"), 31)},
		"one short": {secretA, []byte("short")},
	} {
		if _, err := New(secrets, "x"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzOpen(f *testing.F) {
	s := mustNew(f, [][]byte{secretA}, "session")
	f.Add(s.Seal([]byte("seed"), nil))
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("AAAAAAAAAAAAAAAAAAAA\nAAAAAAAAAAAAAAAAAAAA")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")
	f.Fuzz(func(t *testing.T, v string) {
		// decode accepts exactly the encodings Seal produces: those that
		// a lenient decoder reads and that encode back to v.
		raw, ok := decode(v)
		lenient, err := base64.RawURLEncoding.DecodeString(v)
		canonical := err == nil && base64.RawURLEncoding.EncodeToString(lenient) == v
		if ok != canonical || (ok && !bytes.Equal(raw, lenient)) {
			t.Fatalf("decode(%q) = %x, %v; canonical %v", v, raw, ok, canonical)
		}
		if plain, err := s.Open(v, nil); err == nil {
			// Only a value this sealer produced can open; the fuzzer
			// cannot forge one, so anything opened must re-seal and open.
			if _, err := s.Open(s.Seal(plain, nil), nil); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestOpenReturnsOwnBuffer: every Open returns a new buffer that nothing in
// this package keeps, writes or reuses afterwards. The session loader relies
// on it: it reads the session's strings straight out of Open's result
// (unsafe.String, no copy), so a pooled or reused buffer would change a
// signed-in user's name, subject or groups under a handler's feet.
func TestOpenReturnsOwnBuffer(t *testing.T) {
	// Two keys: the first, failed try of a rotated sealer must not leave
	// the result sharing memory either.
	s := mustNew(t, [][]byte{secretB, secretA}, "session")
	old := mustNew(t, [][]byte{secretA}, "session")
	for _, sealer := range []*Sealer{s, old} {
		v := sealer.Seal([]byte("subject=alice;name=Alice"), nil)
		first, err := s.Open(v, nil)
		if err != nil {
			t.Fatal(err)
		}
		kept := string(first) // a copy, to compare with
		second, err := s.Open(v, nil)
		if err != nil {
			t.Fatal(err)
		}
		if &first[0] == &second[0] {
			t.Fatal("two Opens of one value returned the same buffer")
		}
		// Further use of the sealer leaves the first result alone.
		for range 100 {
			w := s.Seal([]byte("subject=mallory;name=Mallory"), nil)
			if _, err := s.Open(w, nil); err != nil {
				t.Fatal(err)
			}
		}
		if string(first) != kept {
			t.Fatalf("the first result changed to %q after later calls", first)
		}
		for i := range second {
			second[i] = 'x'
		}
		if string(first) != kept {
			t.Fatal("writing one result changed another")
		}
	}
}
