package ginauth

import (
	"bytes"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/providers"
)

// fullSession returns a session with every encoded field set.
func fullSession() *Session {
	s := &Session{
		ID:        "hY3wq0uT1b0mJ8fG4Qh3JcX0k1vZ5nY7aQ2pL9rS6tU",
		Provider:  "test",
		CreatedAt: time.Unix(1_700_000_000, 0),
		LastSeen:  time.Unix(1_700_000_600, 0),
		User: User{
			Provider:      "test",
			Issuer:        "https://op.example.com",
			Subject:       "alice",
			Name:          "Alice Ädmin \u2603",
			Email:         "alice@example.com",
			EmailVerified: true,
			Picture:       "https://op.example.com/alice.png",
			Groups:        []string{"admin", "staff", ""},
			claims:        `{"sub":"alice","groups":["admin","staff",""],"hd":"example.com"}`,
		},
		tokens: providers.Token{
			AccessToken:  "at-123",
			TokenType:    "Bearer",
			RefreshToken: "rt-456",
			IDToken:      "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln",
			Expiry:       time.Unix(1_700_003_600, 0),
		},
	}
	s.data = mustEncodeAppData(AppData{
		UserID: "u-42",
		Roles:  []string{"admin", "billing", "Ünïcode rôle"},
		Values: map[string]string{"tenant": "acme", "plan": "pro", "empty": ""},
	})
	return s
}

// mustEncodeAppData encodes d, which must be valid.
func mustEncodeAppData(d AppData) string {
	raw, err := encodeAppData(d)
	if err != nil {
		panic(err)
	}
	return raw
}

// TestCodec_RoundTripFullSession: decode(encode(s)) == s for a session with
// every field set, and for variations of it.
func TestCodec_RoundTripFullSession(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(s *Session)
	}{
		{"every field", func(*Session) {}},
		{"no groups", func(s *Session) { s.User.Groups = nil }},
		{"no app data", func(s *Session) { s.data = "" }},
		{"app data: user ID only", func(s *Session) { s.data = mustEncodeAppData(AppData{UserID: "7"}) }},
		{"app data: largest", func(s *Session) { s.data = mustEncodeAppData(largestAppData()) }},
		{"email not verified", func(s *Session) { s.User.EmailVerified = false }},
		{"no tokens", func(s *Session) { s.tokens = providers.Token{} }},
		{"large values", func(s *Session) {
			s.User.claims = strings.Repeat("c", 70_000)
			s.tokens.IDToken = strings.Repeat("i", 300)
			s.User.Groups = make([]string, 500)
			for i := range s.User.Groups {
				s.User.Groups[i] = strings.Repeat("g", i%40)
			}
		}},
		{"binary strings", func(s *Session) { s.User.Name = "\x00\xff\x80"; s.tokens.AccessToken = "\x01" }},
		{"creation time to the millisecond", func(s *Session) { s.CreatedAt = time.UnixMilli(1_700_000_000_123) }},
		{"far future times", func(s *Session) {
			s.CreatedAt, s.LastSeen, s.tokens.Expiry = time.Unix(1<<39, 0), time.Unix(1<<40, 0), time.Unix(1<<40, 0)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := fullSession()
			tc.mutate(want)
			data := encodeSession(want)
			var got Session
			if err := decodeSession(data, &got); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(&got, want) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, *want)
			}
			if again := encodeSession(&got); !bytes.Equal(again, data) {
				t.Error("re-encoding differs")
			}
		})
	}
	// Every strict prefix of a valid encoding is refused.
	data := encodeSession(fullSession())
	for i := range data {
		var s Session
		if decodeSession(data[:i], &s) == nil {
			t.Fatalf("prefix of %d/%d bytes accepted", i, len(data))
		}
	}
	var s Session
	if decodeSession(append(data, 0), &s) == nil {
		t.Error("trailing byte accepted")
	}
}

// FuzzDecodeSession: decodeSession never panics, and whatever it accepts
// encodes back to exactly the same bytes (the encoding is canonical) and
// decodes to the same session again.
func FuzzDecodeSession(f *testing.F) {
	full := encodeSession(fullSession())
	f.Add(full)
	s := fullSession()
	s.User.Groups, s.tokens = nil, providers.Token{}
	f.Add(encodeSession(s))
	s.data = ""
	f.Add(encodeSession(s))
	s.data = mustEncodeAppData(largestAppData())
	f.Add(encodeSession(s))
	f.Add([]byte{})
	f.Add([]byte{codecVersion})
	f.Add([]byte{codecVersion, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02})
	f.Add(append([]byte{codecVersion}, bytes.Repeat([]byte{0xff}, 40)...))
	f.Add(full[:len(full)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		var got Session
		if decodeSession(data, &got) != nil {
			return
		}
		again := encodeSession(&got)
		if !bytes.Equal(again, data) {
			t.Fatalf("accepted input does not round-trip:\n in  %x\n out %x", data, again)
		}
		var second Session
		if err := decodeSession(again, &second); err != nil {
			t.Fatalf("re-encoded session refused: %v", err)
		}
		if !reflect.DeepEqual(&second, &got) {
			t.Fatalf("second decode differs:\n%+v\n%+v", second, got)
		}
		if got.ID == "" || got.User.Subject == "" || got.CreatedAt.IsZero() || got.LastSeen.IsZero() {
			t.Fatalf("accepted a session without ID, subject or times: %+v", got)
		}
	})
}

// FuzzReadCookie: readCookie never panics and returns a substring of the
// Cookie header, found after name and '='.
func FuzzReadCookie(f *testing.F) {
	f.Add("__Host-ginauth=abc", "__Host-ginauth")
	f.Add("a=1; __Host-ginauth=\"quoted\"; b=2", "__Host-ginauth")
	f.Add("__Host-ginauth.0=x;__Host-ginauth.1=y", "__Host-ginauth.1")
	f.Add("__Host-ginauth=", "__Host-ginauth")
	f.Add("__Host-ginauth=\"", "__Host-ginauth")
	f.Add(";;; ;\t__Host-ginauth\t=  v  ;", "__Host-ginauth")
	f.Add("x__Host-ginauth=evil; __Host-ginauth-csrf=c", "__Host-ginauth")
	f.Add("=v", "")
	f.Fuzz(func(t *testing.T, header, name string) {
		r := &http.Request{Header: http.Header{"Cookie": {header}}}
		v, ok := readCookie(r, name)
		if !ok {
			if v != "" {
				t.Fatalf("not found but returned %q", v)
			}
			return
		}
		if !strings.Contains(header, v) {
			t.Fatalf("value %q is not a substring of %q", v, header)
		}
		if !strings.Contains(header, name+"=") {
			t.Fatalf("found %q in %q without %q", v, header, name+"=")
		}
		if strings.Contains(v, ";") {
			t.Fatalf("value %q spans a ';'", v)
		}
		if name != "" && !strings.Contains(name, ";") && !strings.ContainsAny(name, " \t") {
			// The value is the one after "name=" in some ';'-separated part.
			found := false
			for _, part := range strings.Split(header, ";") {
				part = strings.TrimLeft(part, " \t")
				if rest, cut := strings.CutPrefix(part, name+"="); cut && strings.Contains(rest, v) {
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("value %q does not follow %q= in %q", v, name, header)
			}
		}
	})
}
