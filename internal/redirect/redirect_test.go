package redirect

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const (
	appBase = "https://app.example.com"
	appDef  = "https://app.example.com/"
)

// appAllowed is the allow-list used with appBase in the tables below.
var appAllowed = []string{"api.example.com", "Partner.Example.org:8443"}

type resolveCase struct {
	name string
	in   string
	want string
	ok   bool
}

func runResolveCases(t *testing.T, p *Policy, allowed []string, cases []resolveCase) {
	t.Helper()
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			got, ok := p.Resolve(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("Resolve(%q) = (%q, %v), want (%q, %v)", tc.in, got, ok, tc.want, tc.ok)
			}
			if ok {
				checkSafeTarget(t, p, allowed, tc.in, got)
			} else if got != p.Default() {
				t.Fatalf("refused Resolve(%q) = %q, want Default() %q", tc.in, got, p.Default())
			}
		})
	}
}

func TestResolveHTTPSBase(t *testing.T) {
	p := mustNew(t, appBase, appAllowed...)
	long := "/" + strings.Repeat("a", 10*1024)
	refuse := func(name, in string) resolveCase { return resolveCase{name, in, appDef, false} }
	accept := func(name, in, want string) resolveCase { return resolveCase{name, in, want, true} }

	cases := []resolveCase{
		// SECURITY.md OR-1. Values are given as a handler sees them after one
		// round of query decoding; where the checklist shows an escape, both
		// the escaped and the decoded spelling are tested.
		refuse("OR-1 scheme-relative", "//evil.com"),
		refuse("OR-1 slash backslash", `/\evil.com`),
		refuse("OR-1 double backslash", `\\evil.com`),
		refuse("OR-1 encoded double slash", "/%2F%2Fevil.com"),
		refuse("OR-1 encoded double slash lower", "/%2f%2fevil.com"),
		refuse("OR-1 encoded backslash", "/%5cevil.com"),
		refuse("OR-1 encoded slash backslash", `/%2f%5c%2fevil.com`),
		refuse("OR-1 encoded tab between slashes", "/%09/evil.com"),
		refuse("OR-1 tab between slashes", "/\t/evil.com"),
		refuse("OR-1 encoded newline between slashes", "/%0a/evil.com"),
		refuse("OR-1 newline between slashes", "/\n/evil.com"),
		refuse("OR-1 encoded vertical tab", "/%0b/evil.com"),
		refuse("OR-1 encoded carriage return", "/%0d/evil.com"),
		refuse("OR-1 tab backslash", "/\t\\evil.com"),
		refuse("OR-1 literal backslash-t backslash", `/\t\evil.com`),
		refuse("OR-1 tab slash tab backslash", "/\t/\t\\evil.com"),
		refuse("OR-1 dot slash backslash", `/./\evil.com`),
		refuse("OR-1 https evil", "https://evil.com"),
		refuse("OR-1 user info localhost", "http://localhost@evil.com"),
		refuse("OR-1 user info own host", "https://app.example.com@evil.com"),
		refuse("OR-1 own host as label prefix", "https://app.example.com.evil.com"),
		refuse("OR-1 javascript", "javascript:alert(1)"),
		refuse("OR-1 javascript mixed case", "JaVaScRiPt:alert(1)"),
		refuse("OR-1 data", "data:text/html,<script>alert(1)</script>"),
		refuse("OR-1 encoded absolute URL", "%68%74%74%70%3a%2f%2fevil.com"),
		refuse("OR-1 encoded absolute URL decoded once", "http://evil.com"),

		// SECURITY.md OR-2.
		accept("OR-2 path query fragment", "/dashboard?x=1#f", appDef+"dashboard?x=1#f"),
		refuse("OR-2 bad escape in host", "http://%"),
		refuse("OR-2 unclosed IPv6 bracket", "http://["),
		refuse("OR-2 10 KB value", long),
		refuse("OR-2 10 KB absolute value", "https://app.example.com/"+strings.Repeat("a", 10*1024)),

		// Good relative values.
		accept("root", "/", appDef),
		accept("path with encoded slash in query", "/a/b?c=%2F", appDef+"a/b?c=%2F"),
		accept("percent-encoded percent in query", "/a?p=50%25", appDef+"a?p=50%25"),
		accept("query only", "/?tab=1", appDef+"?tab=1"),
		accept("fragment only", "/#top", appDef+"#top"),
		accept("non-ASCII path", "/café", appDef+"café"),
		accept("encoded non-ASCII path", "/caf%C3%A9", appDef+"caf%C3%A9"),
		accept("nested URL in query stays same-origin", "/?next=//evil.com", appDef+"?next=//evil.com"),
		accept("at sign in path stays same-origin", "/@evil.com", appDef+"@evil.com"),
		accept("double slash later in path", "/a//b", appDef+"a//b"),
		accept("exactly 2048 bytes", "/"+strings.Repeat("a", 2047), appDef+strings.Repeat("a", 2047)),

		// Bad relative values.
		refuse("empty", ""),
		refuse("2049 bytes", "/"+strings.Repeat("a", 2048)),
		refuse("triple slash", "///evil.com"),
		refuse("double-encoded double slash", "/%252F%252Fevil.com"),
		refuse("triple-encoded double slash", "/%25252F%25252Fevil.com"),
		refuse("needs a fourth decoding round", "/%2525252Fx"),
		refuse("bad escape does not hide a good one", "/%2F%2Fevil.com?x=%"),
		refuse("double-encoded tab", "/%2509/evil.com"),
		refuse("encoded backslash in query", "/a?b=%5C"),
		refuse("encoded space in query", "/search?q=a%20b"),
		refuse("space", "/a b"),
		refuse("DEL", "/a\x7f"),
		refuse("NUL", "/a\x00"),
		refuse("leading space", " /a"),
		refuse("C1 control", "/a\u0085"),
		refuse("no-break space", "/\u00a0/evil.com"),
		refuse("line separator", "/\u2028/evil.com"),
		refuse("zero-width space", "/\u200b/evil.com"),
		refuse("invalid UTF-8", "/a\xff"),
		refuse("encoded invalid UTF-8", "/a%ff"),
		refuse("overlong slash", "/%c0%afevil.com"),
		refuse("dot segment then slash", "/.//evil.com"),
		refuse("dot-dot segment", "/a/../b"),
		refuse("encoded dot segment", "/%2e/%2fevil.com"),
		refuse("encoded dot-dot segment", "/a/%2e%2e/b"),
		refuse("bare dot", "/."),
		refuse("invalid escape in path", "/100%"),
		refuse("invalid escape in fragment", "/a#%zz"),

		// Other shapes.
		refuse("bare host", "evil.com"),
		refuse("relative path without slash", "dashboard"),
		refuse("query without path", "?x=1"),
		refuse("mailto", "mailto:a@evil.com"),
		refuse("vbscript", "vbscript:msgbox(1)"),
		refuse("ftp", "ftp://app.example.com/"),
		refuse("fullwidth solidus", "／／evil.com"),
		refuse("scheme with one slash", "https:/evil.com"),
		refuse("scheme without slashes", "https:evil.com"),
		refuse("scheme with three slashes", "https:///evil.com"),
		refuse("scheme with backslashes", `https:\\evil.com`),
		refuse("own scheme with three slashes", "https:///app.example.com/"),
		refuse("leading whitespace before scheme", "\thttps://app.example.com/"),

		// Absolute URLs on the app origin.
		accept("own origin", "https://app.example.com", appDef),
		accept("own origin slash", "https://app.example.com/", appDef),
		accept("own origin path", "https://app.example.com/x?y=1#z", appDef+"x?y=1#z"),
		accept("own origin query without path", "https://app.example.com?x=1", appDef+"?x=1"),
		accept("own origin fragment without path", "https://app.example.com#f", appDef+"#f"),
		accept("own origin default port", "https://app.example.com:443/x", appDef+"x"),
		accept("upper-case scheme and host", "HTTPS://APP.Example.COM/Path", appDef+"Path"),
		refuse("own host over http", "http://app.example.com/x"),
		refuse("own host other port", "https://app.example.com:8443/x"),
		refuse("own host empty port", "https://app.example.com:/x"),
		refuse("own host zero-padded port", "https://app.example.com:0443/x"),
		refuse("own host trailing dot", "https://app.example.com./x"),
		refuse("own host encoded dot", "https://app%2Eexample.com/x"),
		refuse("own host empty user info", "https://@app.example.com/x"),
		refuse("own host user info", "https://user:pass@app.example.com/x"),
		refuse("own host double slash path", "https://app.example.com//evil.com"),
		refuse("own host encoded double slash path", "https://app.example.com/%2F%2Fevil.com"),
		refuse("own host backslash path", `https://app.example.com/\evil.com`),
		refuse("own host dot segment", "https://app.example.com/./x"),
		refuse("own host encoded tab in fragment", "https://app.example.com/#%09"),
		refuse("suffix of own host", "https://evilapp.example.com/"),
		refuse("parent of own host", "https://example.com/"),
		refuse("backslash authority", `https://app.example.com\@evil.com`),
		refuse("question mark before at", "https://evil.com?@app.example.com/"),
		refuse("hash before at", "https://evil.com#@app.example.com/"),

		// Absolute URLs on allowed hosts.
		accept("allowed host", "https://api.example.com/cb?x=1", "https://api.example.com/cb?x=1"),
		accept("allowed host no path", "https://api.example.com", "https://api.example.com/"),
		accept("allowed host case", "HTTPS://API.EXAMPLE.COM/cb", "https://api.example.com/cb"),
		accept("allowed host default port", "https://api.example.com:443/cb", "https://api.example.com/cb"),
		accept("allowed host with port", "https://partner.example.org:8443/cb", "https://partner.example.org:8443/cb"),
		refuse("allowed host over http", "http://api.example.com/cb"),
		refuse("allowed host other port", "https://api.example.com:8443/cb"),
		refuse("allowed host without its port", "https://partner.example.org/cb"),
		refuse("allowed host wrong port", "https://partner.example.org:8444/cb"),
		refuse("subdomain of allowed host", "https://x.api.example.com/"),
		refuse("allowed host as label prefix", "https://api.example.com.evil.com/"),
		refuse("allowed host user info", "https://api.example.com@evil.com/"),
		refuse("allowed host double slash path", "https://api.example.com//evil.com"),

		// IP addresses and IPv6 tricks.
		refuse("IPv6 loopback", "https://[::1]/"),
		refuse("IPv4-mapped IPv6", "http://[::ffff:127.0.0.1]/"),
		refuse("IPv6 zone", "https://[fe80::1%25eth0]/"),
		refuse("IPv6 without scheme slashes", "http:[::216.58.214.206]"),
		refuse("decimal IPv4", "http://3627734734/"),
		refuse("hex IPv4", "http://0xd83ad6ce/"),
	}
	runResolveCases(t, p, appAllowed, cases)
}

func TestResolveAllowListSuffix(t *testing.T) {
	// SECURITY.md OR-1 with allow-list app.example.com: an allowed host never
	// matches hosts that merely end the same way (a suffix match once let
	// such hosts through in another proxy's allow-list).
	p := mustNew(t, "https://portal.example.net", "app.example.com")
	def := "https://portal.example.net/"
	runResolveCases(t, p, []string{"app.example.com"}, []resolveCase{
		{"OR-1 suffix of allowed host", "https://evilapp.example.com", def, false},
		{"suffix of allowed host with path", "https://evilapp.example.com/x", def, false},
		{"allowed host as label prefix", "https://app.example.com.evil.com", def, false},
		{"allowed host user info", "https://app.example.com@evil.com", def, false},
		{"allowed host over http", "http://app.example.com/", def, false},
		{"allowed host", "https://app.example.com/x", "https://app.example.com/x", true},
		{"relative", "/x", "https://portal.example.net/x", true},
	})
}

func TestResolveHTTPBase(t *testing.T) {
	allowed := []string{"api.example.com", "10.0.0.7:9000"}
	p := mustNew(t, "http://LocalHost:8080/", allowed...)
	const def = "http://localhost:8080/"
	if p.Origin() != "http://localhost:8080" || p.Default() != def {
		t.Fatalf("Origin, Default = %q, %q", p.Origin(), p.Default())
	}
	runResolveCases(t, p, allowed, []resolveCase{
		{"relative", "/dashboard?x=1#f", def + "dashboard?x=1#f", true},
		{"own origin", "http://localhost:8080/x", def + "x", true},
		{"own origin case", "HTTP://LOCALHOST:8080/x", def + "x", true},
		{"own host over https", "https://localhost:8080/x", def, false},
		{"own host without port", "http://localhost/x", def, false},
		{"own host default port", "http://localhost:80/x", def, false},
		{"allowed host over http", "http://api.example.com/x", "http://api.example.com/x", true},
		{"allowed host over http default port", "http://api.example.com:80/x", "http://api.example.com/x", true},
		{"allowed host over https", "https://api.example.com/x", "https://api.example.com/x", true},
		{"allowed IP host with port", "http://10.0.0.7:9000/x", "http://10.0.0.7:9000/x", true},
		{"allowed IP host without port", "http://10.0.0.7/x", def, false},
		{"user info", "http://localhost:8080@evil.com/", def, false},
		{"scheme-relative", "//evil.com", def, false},
		{"evil", "http://evil.com/", def, false},
	})
}

func TestResolveDefaultPortInBase(t *testing.T) {
	p := mustNew(t, "HTTPS://App.Example.COM:443/")
	if p.Origin() != "https://app.example.com" || p.Default() != appDef {
		t.Fatalf("Origin, Default = %q, %q", p.Origin(), p.Default())
	}
	runResolveCases(t, p, nil, []resolveCase{
		{"relative", "/x", appDef + "x", true},
		{"no port", "https://app.example.com/x", appDef + "x", true},
		{"default port", "https://app.example.com:443/x", appDef + "x", true},
	})
}

func TestResolveIPv6Base(t *testing.T) {
	p := mustNew(t, "http://[::1]:8080")
	const def = "http://[::1]:8080/"
	runResolveCases(t, p, nil, []resolveCase{
		{"relative", "/x", def + "x", true},
		{"own origin", "http://[::1]:8080/x", def + "x", true},
		{"other spelling of the address", "http://[0::1]:8080/x", def, false},
		{"other port", "http://[::1]:8081/x", def, false},
		{"no brackets", "http://::1:8080/x", def, false},
	})
}

func TestNilAndZeroPolicy(t *testing.T) {
	for name, p := range map[string]*Policy{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			for _, in := range []string{"/", "/x", "https://evil.com", ""} {
				if got, ok := p.Resolve(in); got != "/" || ok {
					t.Errorf("Resolve(%q) = (%q, %v), want (\"/\", false)", in, got, ok)
				}
			}
			if p.Default() != "/" || p.Origin() != "" {
				t.Errorf("Default, Origin = %q, %q", p.Default(), p.Origin())
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	cases := []struct {
		name    string
		base    string
		allowed []string
	}{
		{"empty base", "", nil},
		{"base without scheme", "app.example.com", nil},
		{"scheme-relative base", "//app.example.com", nil},
		{"base with other scheme", "ftp://app.example.com", nil},
		{"base without host", "https://", nil},
		{"base without host with path", "https:///x", nil},
		{"base with double slash path", "https://app.example.com//", nil},
		{"prefix with two trailing slashes", "https://app.example.com/app//", nil},
		{"prefix with empty segment", "https://app.example.com/a//b", nil},
		{"prefix with dot segment", "https://app.example.com/./app", nil},
		{"prefix with dot-dot segment", "https://app.example.com/app/..", nil},
		{"prefix with dot-dot inside", "https://app.example.com/a/../b", nil},
		{"prefix with percent-encoding", "https://app.example.com/a%70p", nil},
		{"prefix with encoded slash", "https://app.example.com/a%2Fb", nil},
		{"prefix with encoded dot-dot", "https://app.example.com/%2e%2e", nil},
		{"prefix with lone percent", "https://app.example.com/a%", nil},
		{"prefix with semicolon", "https://app.example.com/app;Path=/", nil},
		{"prefix with comma", "https://app.example.com/a,b", nil},
		{"prefix with at sign", "https://app.example.com/@evil.com", nil},
		{"prefix with colon", "https://app.example.com/a:b", nil},
		{"prefix with non-ASCII", "https://app.example.com/café", nil},
		{"prefix too long", "https://app.example.com/" + strings.Repeat("a", 256), nil},
		{"prefix with query", "https://app.example.com/app?x=1", nil},
		{"prefix with fragment", "https://app.example.com/app#f", nil},
		{"base with query", "https://app.example.com/?x=1", nil},
		{"base with empty query", "https://app.example.com?", nil},
		{"base with fragment", "https://app.example.com#f", nil},
		{"base with user info", "https://user:pass@app.example.com", nil},
		{"base with empty user info", "https://@app.example.com", nil},
		{"base with bad port", "https://app.example.com:99999", nil},
		{"base with empty port", "https://app.example.com:", nil},
		{"base with wildcard", "https://*.example.com", nil},
		{"base with backslash", `https://app.example.com\`, nil},
		{"base with space", "https://app .example.com", nil},
		{"base with escape", "https://app%2Eexample.com", nil},
		{"base malformed", "http://%", nil},
		{"base unclosed bracket", "http://[", nil},
		{"allowed with scheme", appBase, []string{"https://api.example.com"}},
		{"allowed with scheme no slashes", appBase, []string{"https:api.example.com"}},
		{"allowed wildcard", appBase, []string{"*.example.com"}},
		{"allowed leading dot", appBase, []string{".example.com"}},
		{"allowed empty", appBase, []string{""}},
		{"allowed empty among good", appBase, []string{"api.example.com", ""}},
		{"allowed with path", appBase, []string{"api.example.com/cb"}},
		{"allowed with trailing slash", appBase, []string{"api.example.com/"}},
		{"allowed with user info", appBase, []string{"user@api.example.com"}},
		{"allowed with query", appBase, []string{"api.example.com?x"}},
		{"allowed with bad port", appBase, []string{"api.example.com:https"}},
		{"allowed with port zero", appBase, []string{"api.example.com:0"}},
		{"allowed with space", appBase, []string{" api.example.com"}},
		{"allowed with escape", appBase, []string{"api%2Eexample.com"}},
		{"allowed with trailing dot", appBase, []string{"api.example.com."}},
		{"allowed bare port", appBase, []string{":8443"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.base, tc.allowed)
			if err == nil {
				t.Fatalf("New(%q, %q) = %+v, want error", tc.base, tc.allowed, p)
			}
			if p != nil {
				t.Errorf("New returned a policy with error %v", err)
			}
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Errorf("error %v does not wrap ErrInvalidPolicy", err)
			}
			if !strings.HasPrefix(err.Error(), "ginauth: ") {
				t.Errorf("error %q lacks the ginauth: prefix", err)
			}
		})
	}
}

func TestNewAccepts(t *testing.T) {
	cases := []struct {
		base    string
		allowed []string
		origin  string
	}{
		{"https://app.example.com", nil, "https://app.example.com"},
		{"https://app.example.com/", []string{}, "https://app.example.com"},
		{"HTTPS://APP.EXAMPLE.COM", nil, "https://app.example.com"},
		{"https://app.example.com:8443/", nil, "https://app.example.com:8443"},
		{"http://localhost:3000", []string{"localhost:4000"}, "http://localhost:3000"},
		{"http://127.0.0.1", nil, "http://127.0.0.1"},
		{"http://[::1]:8080/", []string{"[::1]:9090", "[2001:db8::1]"}, "http://[::1]:8080"},
		{"https://app.example.com", []string{"API.Example.com", "partner.example.org:8443", "my_host.internal"}, "https://app.example.com"},
	}
	for _, tc := range cases {
		p, err := New(tc.base, tc.allowed)
		if err != nil {
			t.Errorf("New(%q, %q): %v", tc.base, tc.allowed, err)
			continue
		}
		if p.Origin() != tc.origin || p.Default() != tc.origin+"/" || p.Prefix() != "" {
			t.Errorf("New(%q): Origin, Default, Prefix = %q, %q, %q, want %q", tc.base, p.Origin(), p.Default(), p.Prefix(), tc.origin)
		}
	}
}

// TestNewAcceptsPrefix: a path prefix, with or without a trailing slash,
// gives the same policy.
func TestNewAcceptsPrefix(t *testing.T) {
	cases := []struct {
		base, origin, prefix string
	}{
		{"https://app.example.com/app", "https://app.example.com", "/app"},
		{"https://app.example.com/app/", "https://app.example.com", "/app"},
		{"HTTPS://App.Example.com:443/App", "https://app.example.com", "/App"},
		{"https://app.example.com/a/b-c/d.e_f~g", "https://app.example.com", "/a/b-c/d.e_f~g"},
		{"http://127.0.0.1:8080/app", "http://127.0.0.1:8080", "/app"},
		{"https://app.example.com/..a/a..", "https://app.example.com", "/..a/a.."},
		{"https://app.example.com/" + strings.Repeat("a", 255), "https://app.example.com", "/" + strings.Repeat("a", 255)},
	}
	for _, tc := range cases {
		p, err := New(tc.base, nil)
		if err != nil {
			t.Errorf("New(%q): %v", tc.base, err)
			continue
		}
		if p.Origin() != tc.origin || p.Prefix() != tc.prefix || p.Default() != tc.origin+tc.prefix+"/" {
			t.Errorf("New(%q): Origin, Prefix, Default = %q, %q, %q, want %q, %q", tc.base, p.Origin(), p.Prefix(), p.Default(), tc.origin, tc.prefix)
		}
	}
}

// TestResolvePrefix: with a path prefix, targets on the app's origin stay
// under it, in every decoding round; allowed hosts are not confined.
func TestResolvePrefix(t *testing.T) {
	const def = appBase + "/app/"
	p := mustNew(t, appBase+"/app", appAllowed...)
	refuse := func(name, in string) resolveCase { return resolveCase{name, in, def, false} }
	accept := func(name, in, want string) resolveCase { return resolveCase{name, in, want, true} }
	runResolveCases(t, p, appAllowed, []resolveCase{
		accept("prefix root", "/app/", def),
		accept("prefix itself", "/app", appBase+"/app"),
		accept("prefix with query", "/app?x=1", appBase+"/app?x=1"),
		accept("prefix with fragment", "/app#top", appBase+"/app#top"),
		accept("page under the prefix", "/app/me?tab=1#f", appBase+"/app/me?tab=1#f"),
		accept("absolute URL under the prefix", appBase+"/app/me", appBase+"/app/me"),
		accept("absolute URL of the prefix", appBase+"/app", appBase+"/app"),
		accept("query naming another path", "/app/?next=/other", def+"?next=/other"),
		accept("allowed host is not confined", "https://api.example.com/other", "https://api.example.com/other"),

		refuse("root", "/"),
		refuse("empty", ""),
		refuse("other path", "/other"),
		refuse("sibling with the prefix as its start", "/application"),
		refuse("sibling with a dash", "/app-admin/x"),
		refuse("prefix in another case", "/APP/me"),
		refuse("prefix below another path", "/x/app/me"),
		refuse("query only", "/?x=/app/"),
		refuse("absolute URL outside the prefix", appBase+"/other"),
		refuse("absolute URL of the origin", appBase),
		refuse("absolute URL of the origin with slash", appBase+"/"),
		refuse("absolute URL with query only", appBase+"?x=/app"),
		refuse("absolute URL of a sibling", appBase+"/application"),
		refuse("dot-dot out of the prefix", "/app/../other"),
		refuse("encoded dot-dot out of the prefix", "/app/%2e%2e/other"),
		refuse("double-encoded dot-dot out of the prefix", "/app/%252e%252e/other"),
		refuse("encoded slash after the prefix", "/app%2F..%2Fother"),
		refuse("encoded prefix", "/%61pp/me"),
		refuse("encoded slash in the prefix", "/app%2fme"),
		refuse("backslash after the prefix", `/app\..\other`),
		refuse("scheme-relative under the prefix", "//app/me"),
		refuse("absolute URL with dot-dot", appBase+"/app/../other"),
		refuse("absolute URL with encoded dot-dot", appBase+"/app/%2e%2e/other"),
		refuse("other scheme on the base host", "http://app.example.com/app/"),
		refuse("foreign host", "https://evil.com/app/"),
	})
}

// TestResolveLinear checks that the cost of Resolve grows linearly: a value
// near the length limit made of escapes is handled quickly.
func TestResolveLinear(t *testing.T) {
	p := mustNew(t, appBase)
	inputs := []string{
		"/" + strings.Repeat("%25", 682),
		"/" + strings.Repeat("%2e/", 511),
		"/" + strings.Repeat("a/", 1023),
		"https://app.example.com/" + strings.Repeat("%", 2000),
		"/" + strings.Repeat("%", 1000) + "%2F",
		strings.Repeat("/", 2048),
	}
	for _, in := range inputs {
		start := time.Now()
		for range 100 {
			if _, ok := p.Resolve(in); ok && len(in) > 2048 {
				t.Fatalf("accepted an over-long value")
			}
		}
		// Linear work on 2 KB is microseconds; the bound only catches
		// pathological (quadratic or worse) behaviour, even under -race.
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("100 × Resolve(%.20q...) took %v", in, d)
		}
	}
}

func BenchmarkResolve(b *testing.B) {
	p := mustNew(b, appBase, appAllowed...)
	const in = "/dashboard/settings?tab=profile&page=2#billing"
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := p.Resolve(in); !ok {
			b.Fatal("refused")
		}
	}
}

func BenchmarkResolveRefused(b *testing.B) {
	p := mustNew(b, appBase, appAllowed...)
	const in = "/%2F%2Fevil.com"
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := p.Resolve(in); ok {
			b.Fatal("accepted")
		}
	}
}

func BenchmarkResolvePrefix(b *testing.B) {
	p := mustNew(b, appBase+"/app", appAllowed...)
	const in = "/app/dashboard/settings?tab=profile&page=2#billing"
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := p.Resolve(in); !ok {
			b.Fatal("refused")
		}
	}
}
