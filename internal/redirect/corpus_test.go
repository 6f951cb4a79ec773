package redirect

import (
	"testing"
)

// corpusSameOrigin lists the decoded corpus values that Resolve accepts.
// Each is a path on the application's own origin (the would-be target
// appears only inside the path or query), so the browser stays on the base
// host. They are listed explicitly so that any other corpus line being
// accepted fails the test, and checkSafeTarget is applied to each of them.
var corpusSameOrigin = []string{
	"/<>//example.com",
	"/?url=//example.com&next=//example.com&redirect=//example.com&redir=//example.com&rurl=//example.com&redirect_uri=//example.com",
	"/?url=Https://example.com&next=Https://example.com&redirect=Https://example.com&redir=Https://example.com&rurl=Https://example.com&redirect_uri=Https://example.com",
	"/ReceiveAutoRedirect/false?desiredLocationUrl=http://xssposed.org",
	"/http://example.com",
	"/http://google.com",
	"/http://localdomain.pw",
	"/https://example.com",
	"/https://example.com/",
	"/https://example.com//",
	"/https://example.com@google.com/",
	"/https://google.com/",
	"/https://localdomain.pw/",
	"/https://www.whitelisteddomain.tld@google.com/",
	"/https://www.whitelisteddomain.tld@localdomain.pw/",
	"/redirect?url=//example.com&next=//example.com&redirect=//example.com&redir=//example.com&rurl=//example.com&redirect_uri=//example.com",
	"/redirect?url=Https://example.com&next=Https://example.com&redirect=Https://example.com&redir=Https://example.com&rurl=Https://example.com&redirect_uri=Https://example.com",
}

// TestOpenRedirectCorpus runs every line of the shared open-redirect corpus
// (SECURITY.md OR-1) against two bases: the corpus's own
// https://www.whitelisteddomain.tld and https://app.example.com.
func TestOpenRedirectCorpus(t *testing.T) {
	lines := readCorpus(t)
	if len(lines) < 500 {
		t.Fatalf("corpus has only %d lines", len(lines))
	}
	sameOrigin := map[string]bool{}
	for _, v := range corpusSameOrigin {
		sameOrigin[v] = true
	}
	for _, base := range []string{"https://www.whitelisteddomain.tld", "https://app.example.com"} {
		t.Run(base, func(t *testing.T) {
			p := mustNew(t, base)
			refused, accepted := 0, 0
			acceptedValues := map[string]bool{}
			for _, l := range lines {
				got, ok := p.Resolve(l.decoded)
				switch {
				case !ok:
					refused++
					if got != p.Default() {
						t.Errorf("line %d %q: refused with target %q, want %q", l.num, l.raw, got, p.Default())
					}
				case sameOrigin[l.decoded]:
					accepted++
					acceptedValues[l.decoded] = true
					if want := p.Origin() + l.decoded; got != want {
						t.Errorf("line %d %q: target %q, want %q", l.num, l.raw, got, want)
					}
					checkSafeTarget(t, p, nil, l.decoded, got)
				default:
					t.Errorf("line %d %q (decoded %q): accepted as %q, want refusal", l.num, l.raw, l.decoded, got)
				}
			}
			for _, v := range corpusSameOrigin {
				if !acceptedValues[v] {
					t.Errorf("expected same-origin value %q was not found in the corpus or was refused", v)
				}
			}
			t.Logf("%s: %d lines, %d refused, %d accepted as same-origin paths", base, len(lines), refused, accepted)
		})
	}
}

// TestOpenRedirectCorpusUnderPrefix: with a path prefix every corpus line is
// refused, the same-origin ones included, since none of them stays under
// the prefix.
func TestOpenRedirectCorpusUnderPrefix(t *testing.T) {
	lines := readCorpus(t)
	for _, base := range []string{"https://www.whitelisteddomain.tld/app", "https://app.example.com/app/"} {
		p := mustNew(t, base)
		for _, l := range lines {
			for _, v := range []string{l.raw, l.decoded} {
				if got, ok := p.Resolve(v); ok || got != p.Default() {
					t.Errorf("%s: line %d %q: Resolve = (%q, %v), want (%q, false)", base, l.num, v, got, ok, p.Default())
				}
			}
		}
	}
}
