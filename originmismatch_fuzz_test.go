package ginauth

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzOriginMismatch: whatever Origin and Host a request carries, a
// mismatch shown to the user names a plain origin (scheme://host[:port]),
// short and without markup, and never BaseURL's own origin.
func FuzzOriginMismatch(f *testing.F) {
	for _, s := range [][2]string{
		{"http://localhost:8080", "127.0.0.1:8080"},
		{"http://localhost:8080", "localhost:8080"},
		{"https://evil.example", "127.0.0.1:8080"},
		{"http://localhost:8080/<b>", "localhost:8080"},
		{"null", "localhost:8080"},
		{"http://[::1]:8080", "127.0.0.1:8080"},
		{"http://user@localhost:8080", "localhost:8080"},
		{"HTTP://LOCALHOST:8080", "localhost:8080"},
	} {
		f.Add(s[0], s[1])
	}
	a := &Auth{origin: "http://127.0.0.1:8080"}
	texts, err := newPageTexts(nil)
	if err != nil {
		f.Fatal(err)
	}
	a.texts = texts
	f.Fuzz(func(t *testing.T, origin, host string) {
		e := a.originMismatch(origin, host)
		if e == nil {
			return
		}
		if e.opened != origin || e.opened == a.origin || len(e.opened) > maxShownOriginLen {
			t.Fatalf("shown origin %q for Origin %q", e.opened, origin)
		}
		if strings.ContainsAny(e.opened, "<>\"'\\ \t\r\n") {
			t.Fatalf("shown origin %q holds markup or spaces", e.opened)
		}
		u, err := url.Parse(e.opened)
		if err != nil || u.Scheme+"://"+u.Host != e.opened || (u.Scheme != "http" && u.Scheme != "https") {
			t.Fatalf("shown origin %q is not a plain origin", e.opened)
		}
		if msg := a.texts.with("error.origin_mismatch.text", e.textVars()...); !strings.Contains(msg, e.opened) || !strings.Contains(msg, a.origin) {
			t.Fatalf("message %q", msg)
		}
	})
}
