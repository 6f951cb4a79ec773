package redirect

import (
	"bufio"
	"net/url"
	"os"
	"strings"
	"testing"
)

// corpusPath is the shared open-redirect corpus (see testdata/README.md at
// the module root for its source and licence).
const corpusPath = "../../testdata/open-redirects.txt"

// corpusLine is one line of the corpus and the value a handler would see
// after Go's query parsing decoded it once.
type corpusLine struct {
	num     int
	raw     string
	decoded string
}

func readCorpus(tb testing.TB) []corpusLine {
	tb.Helper()
	f, err := os.Open(corpusPath)
	if err != nil {
		tb.Fatalf("open corpus: %v", err)
	}
	defer f.Close()
	var lines []corpusLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		decoded, err := url.QueryUnescape(raw)
		if err != nil {
			decoded = raw
		}
		lines = append(lines, corpusLine{num: n, raw: raw, decoded: decoded})
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("read corpus: %v", err)
	}
	return lines
}

// mustNew builds a policy or fails the test.
func mustNew(tb testing.TB, base string, allowed ...string) *Policy {
	tb.Helper()
	p, err := New(base, allowed)
	if err != nil {
		tb.Fatalf("New(%q, %q): %v", base, allowed, err)
	}
	return p
}

// hasBadChar reports whether s contains an ASCII control character, a space
// or a backslash.
func hasBadChar(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == ' ' || c == '\\' {
			return true
		}
	}
	return false
}

// decodings returns s followed by up to three rounds of url.PathUnescape,
// stopping when decoding fails or changes nothing. It is deliberately
// independent of the package's own decoder.
func decodings(s string) []string {
	out := []string{s}
	for range 3 {
		next, err := url.PathUnescape(s)
		if err != nil || next == s {
			break
		}
		out = append(out, next)
		s = next
	}
	return out
}

// checkSafeTarget asserts the properties every accepted target must have:
// it parses, its scheme is http or https, its host is the base host (with
// the base scheme) or one of allowedHosts (https, or http for an http base),
// it begins with scheme://host/, and neither the target nor any decoding of
// its path contains a control character, space or backslash or (for the
// path) starts with "//".
func checkSafeTarget(t *testing.T, p *Policy, allowedHosts []string, input, target string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("Resolve(%q) = %q: does not parse: %v", input, target, err)
	}
	if u.User != nil || u.Opaque != "" {
		t.Fatalf("Resolve(%q) = %q: has user info or opaque part", input, target)
	}
	base, err := url.Parse(p.Origin())
	if err != nil {
		t.Fatalf("Origin %q does not parse: %v", p.Origin(), err)
	}
	hostOK := false
	switch {
	case u.Scheme == base.Scheme && u.Host == base.Host:
		hostOK = true
	case u.Scheme == "https" || (u.Scheme == "http" && base.Scheme == "http"):
		for _, h := range allowedHosts {
			if u.Host == strings.ToLower(h) {
				hostOK = true
			}
		}
	}
	if !hostOK {
		t.Fatalf("Resolve(%q) = %q: scheme %q host %q is neither the base %q nor allowed %q",
			input, target, u.Scheme, u.Host, p.Origin(), allowedHosts)
	}
	if prefix := u.Scheme + "://" + u.Host + "/"; !strings.HasPrefix(target, prefix) {
		t.Fatalf("Resolve(%q) = %q: does not start with %q", input, target, prefix)
	}
	if hasBadChar(target) {
		t.Fatalf("Resolve(%q) = %q: contains a control character, space or backslash", input, target)
	}
	if strings.HasPrefix(u.Path, "//") {
		t.Fatalf("Resolve(%q) = %q: path %q starts with //", input, target, u.Path)
	}
	for _, d := range decodings(u.EscapedPath()) {
		if hasBadChar(d) || strings.HasPrefix(d, "//") {
			t.Fatalf("Resolve(%q) = %q: decoded path %q is unsafe", input, target, d)
		}
	}
	for _, d := range decodings(target) {
		if hasBadChar(d) {
			t.Fatalf("Resolve(%q) = %q: decoded target %q contains a control character, space or backslash", input, target, d)
		}
	}
	// With a path prefix, a target on the app's origin stays under it.
	if prefix := p.Prefix(); prefix != "" && u.Scheme == base.Scheme && u.Host == base.Host {
		for _, d := range decodings(u.EscapedPath()) {
			if d != prefix && !strings.HasPrefix(d, prefix+"/") {
				t.Fatalf("Resolve(%q) = %q: path %q is outside the prefix %q", input, target, d, prefix)
			}
		}
	}
}
