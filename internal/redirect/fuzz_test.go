package redirect

import (
	"strings"
	"testing"
)

// fuzzSeeds are the SECURITY.md OR-1/OR-2 inputs and a few good values.
var fuzzSeeds = []string{
	"//evil.com", `/\evil.com`, `\\evil.com`, "/%2F%2Fevil.com", "/%5cevil.com",
	"/%09/evil.com", "/%0a/evil.com", "/\t\\evil.com", "/\t/\t\\evil.com", `/./\evil.com`,
	"https://evil.com", "http://localhost@evil.com", "https://app.example.com@evil.com",
	"https://app.example.com.evil.com", "https://evilapp.example.com", "javascript:alert(1)",
	"JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>",
	"%68%74%74%70%3a%2f%2fevil.com", "http://%", "http://[", "/" + strings.Repeat("a", 10*1024),
	"/", "/dashboard?x=1#f", "/a/b?c=%2F", "https://app.example.com/x", "https://api.example.com:443/cb",
	"https://partner.example.org:8443/cb", "http://localhost:8080/x", "/%252F%252Fevil.com",
	"/.//evil.com", "https://[::1]:8080/", "/caf%C3%A9",
	"/app", "/app/", "/app/me?x=1", "/application", "/app/../x", "/app/%2e%2e/x", "/app%2F..%2Fx",
	"https://app.example.com/app/x", "https://app.example.com/x", "/%61pp/x",
}

// FuzzResolve checks the safety properties of Resolve for arbitrary input
// against an https base and an http base, each with an allow-list.
func FuzzResolve(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	for _, l := range readCorpus(f) {
		f.Add(l.raw)
		if l.decoded != l.raw {
			f.Add(l.decoded)
		}
	}
	type policyUnderTest struct {
		p       *Policy
		allowed []string
	}
	policies := []policyUnderTest{
		{mustNew(f, appBase, appAllowed...), appAllowed},
		{mustNew(f, "http://localhost:8080", "api.example.com", "[::1]:9000"), []string{"api.example.com", "[::1]:9000"}},
		{mustNew(f, appBase+"/app", appAllowed...), appAllowed},
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, pt := range policies {
			got, ok := pt.p.Resolve(raw)
			if !ok {
				if got != pt.p.Default() {
					t.Fatalf("Resolve(%q) refused with %q, want Default() %q", raw, got, pt.p.Default())
				}
				continue
			}
			if raw == "" || len(raw) > maxLength {
				t.Fatalf("Resolve(%q) accepted an empty or over-long value", raw)
			}
			checkSafeTarget(t, pt.p, pt.allowed, raw, got)
			if raw[0] == '/' && got != pt.p.Origin()+raw {
				t.Fatalf("Resolve(%q) = %q, want the origin followed by the value", raw, got)
			}
		}
	})
}

// FuzzNewPrefix checks what New accepts as a base URL's path: either an
// error, or a plain prefix under which the app's own pages resolve and
// nothing else on the origin does.
func FuzzNewPrefix(f *testing.F) {
	for _, s := range []string{"", "/", "/app", "/app/", "/a/b", "//", "/app//", "/./a", "/a/..", "/a%2Fb", "/a%", "/a;b", "/café", "/~u/._-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		if path != "" && path[0] != '/' {
			return // the fuzzer varies the path, not the host
		}
		p, err := New(appBase+path, nil)
		if err != nil {
			return
		}
		prefix := p.Prefix()
		if prefix != "" {
			if prefix[0] != '/' || strings.HasSuffix(prefix, "/") || strings.Contains(prefix, "//") || len(prefix) > maxPrefixLength {
				t.Fatalf("New(%q): prefix %q", appBase+path, prefix)
			}
			for _, seg := range strings.Split(prefix[1:], "/") {
				if seg == "." || seg == ".." || strings.Trim(seg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~") != "" {
					t.Fatalf("New(%q): prefix segment %q", appBase+path, seg)
				}
			}
			if _, ok := p.Resolve("/"); ok {
				t.Fatalf("New(%q): the origin's root resolves under prefix %q", appBase+path, prefix)
			}
		}
		if p.Default() != appBase+prefix+"/" {
			t.Fatalf("New(%q): Default %q", appBase+path, p.Default())
		}
		if got, ok := p.Resolve(prefix + "/x?y=1"); !ok || got != appBase+prefix+"/x?y=1" {
			t.Fatalf("New(%q): Resolve of a page under the prefix = %q, %v", appBase+path, got, ok)
		}
	})
}
