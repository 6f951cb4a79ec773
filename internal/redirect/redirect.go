// Package redirect validates the callbackUrl values that ginauth redirects the
// browser to after sign-in and sign-out, so that the middleware can never be
// used as an open redirect (SECURITY.md OR-1, OR-2, OR-4).
//
// A [Policy] is built once from the application's base URL and an optional
// allow-list of extra hosts. [Policy.Resolve] then turns a caller-supplied
// value into an absolute URL on the application origin or on an allowed host,
// or falls back to [Policy.Default]. The decision is deny-by-default: a value
// is accepted only when it has one of two well-understood shapes (a
// same-origin path such as "/dashboard?x=1#f", or an absolute http/https URL on
// a trusted host) and survives every check, including checks on up to three
// rounds of percent-decoding. Values that fail are never repaired.
//
// The base URL may carry a path prefix ("https://example.com/app", for an app
// behind a reverse proxy that forwards the full path). Targets on the
// application's own origin must then stay under the prefix: "/app" itself or
// a path starting with "/app/", in every decoding round; anything else on the
// origin falls back to the default, which is the prefix followed by "/".
//
// The value passed to Resolve is expected to have been decoded once already,
// as net/http does for query and form parameters. The value stored in a flow
// cookie or session must be passed through Resolve again when it is read back,
// so that a tampered stored value also ends at the default target (OR-4).
package redirect

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxLength is the longest value Resolve considers, in bytes.
const maxLength = 2048

// maxPrefixLength is the longest path prefix a base URL may carry, in bytes.
const maxPrefixLength = 256

// maxDecodeRounds is how many successive rounds of percent-decoding are
// inspected. A value that would still change on a further round is refused.
const maxDecodeRounds = 3

// ErrInvalidPolicy is wrapped by every error returned from [New].
var ErrInvalidPolicy = errors.New("ginauth: invalid redirect policy")

// Policy decides where the browser may be sent after sign-in or sign-out.
// It is immutable once built by [New] and safe for concurrent use. A nil or
// zero Policy refuses every value and its Default is "/".
type Policy struct {
	scheme string // "http" or "https"
	host   string // canonical host of the base URL: lower case, no default port
	origin string // scheme + "://" + host
	prefix string // the base URL's path without its trailing "/": "" or "/app"
	def    string // origin + prefix + "/"

	// allowed holds the canonical allowed hosts per scheme. The "http" set
	// is only populated when the base URL itself is http.
	allowed map[string]map[string]struct{}
}

// New builds a policy for an application served at baseURL, an absolute
// http or https URL without user info, query or fragment. Its path is empty,
// "/", or a path prefix such as "/app" or "/app/" (the same prefix): segments
// of letters, digits and "-._~" only (no percent-encoding, no "." or ".."
// segment, no empty segment), at most 256 bytes. The policy also accepts absolute URLs on the hosts in
// allowedHosts: each entry is "host" or "host:port" (an IPv6 address is
// written in brackets), matched exactly and case-insensitively; a port equal
// to the scheme's default port matches a URL without a port. Wildcards are
// not supported. An entry that is empty or has a scheme, path, user info or
// wildcard is an error. Absolute URLs on allowed hosts are accepted with
// https, and with http only when baseURL is http.
//
// Every error wraps [ErrInvalidPolicy].
func New(baseURL string, allowedHosts []string) (*Policy, error) {
	scheme, host, prefix, err := parseBase(baseURL)
	if err != nil {
		return nil, err
	}
	p := &Policy{
		scheme:  scheme,
		host:    host,
		origin:  scheme + "://" + host,
		prefix:  prefix,
		allowed: map[string]map[string]struct{}{"https": {}},
	}
	p.def = p.origin + prefix + "/"
	if scheme == "http" {
		p.allowed["http"] = map[string]struct{}{}
	}
	for _, entry := range allowedHosts {
		h, port, err := parseAllowedHost(entry)
		if err != nil {
			return nil, err
		}
		for s, set := range p.allowed {
			set[canonicalHost(h, port, s)] = struct{}{}
		}
	}
	return p, nil
}

// parseBase validates the base URL and returns its lower-case scheme,
// canonical host and path prefix ("" or "/app", without a trailing "/").
func parseBase(baseURL string) (scheme, host, prefix string, err error) {
	fail := func(reason string) (string, string, string, error) {
		return "", "", "", fmt.Errorf("%w: base URL %q %s", ErrInvalidPolicy, baseURL, reason)
	}
	if baseURL == "" {
		return fail("is empty")
	}
	if !cleanText(baseURL) {
		return fail("contains a space, backslash, control character or invalid UTF-8")
	}
	if strings.ContainsAny(baseURL, "?#") {
		return fail("must not have a query or fragment")
	}
	rest, ok := cutHTTPScheme(baseURL)
	if !ok {
		return fail(`must be an absolute URL with scheme "http" or "https"`)
	}
	scheme = strings.ToLower(baseURL[:len(baseURL)-len(rest)-len("://")])
	authority, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	prefix, ok = cleanPrefix(path)
	if !ok {
		return fail(`must have an empty path, "/" or a path prefix of unreserved characters such as "/app" (no percent-encoding, no ".", ".." or empty segment)`)
	}
	if strings.Contains(authority, "@") {
		return fail("must not contain user info")
	}
	h, port, ok := splitHost(strings.ToLower(authority))
	if !ok {
		return fail("has an invalid host")
	}
	// Cross-check with net/url so that both parsers agree on the host.
	u, perr := url.Parse(baseURL)
	if perr != nil || u.Opaque != "" || u.User != nil || !strings.EqualFold(u.Host, authority) {
		return fail("could not be parsed")
	}
	return scheme, canonicalHost(h, port, scheme), prefix, nil
}

// cleanPrefix validates the path of a base URL and returns it without its
// trailing "/": "" for "" and "/", "/app" for "/app" and "/app/". Each
// segment is non-empty and made of unreserved characters only (RFC 3986
// §2.3), so the prefix reads the same before and after percent-decoding and
// needs no escaping in a cookie's Path attribute.
func cleanPrefix(path string) (string, bool) {
	path = strings.TrimSuffix(path, "/")
	if path == "" {
		return "", true
	}
	if path[0] != '/' || len(path) > maxPrefixLength {
		return "", false
	}
	for _, seg := range strings.Split(path[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", false
		}
		for i := 0; i < len(seg); i++ {
			if c := seg[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
				return "", false
			}
		}
	}
	return path, true
}

// parseAllowedHost validates one allow-list entry and returns its lower-case
// host name and port (possibly empty).
func parseAllowedHost(entry string) (host, port string, err error) {
	fail := func(reason string) (string, string, error) {
		return "", "", fmt.Errorf("%w: allowed host %q %s", ErrInvalidPolicy, entry, reason)
	}
	switch {
	case entry == "":
		return fail("is empty")
	case strings.Contains(entry, "://") || strings.HasPrefix(strings.ToLower(entry), "http:") || strings.HasPrefix(strings.ToLower(entry), "https:"):
		return fail(`must not have a scheme; write "host" or "host:port"`)
	case strings.Contains(entry, "*") || strings.HasPrefix(entry, "."):
		return fail("must not contain a wildcard; list each host exactly")
	case strings.Contains(entry, "@"):
		return fail("must not contain user info")
	case strings.ContainsAny(entry, "/?#\\"):
		return fail("must not contain a path, query or fragment")
	}
	host, port, ok := splitHost(strings.ToLower(entry))
	if !ok {
		return fail(`is not a valid "host" or "host:port"`)
	}
	return host, port, nil
}

// Resolve returns the absolute URL to redirect to and true when raw is an
// acceptable destination; otherwise it returns p.Default() and false.
//
// raw is accepted when it is either
//   - a same-origin path: it starts with exactly one "/" (or is just "/"),
//     and the result is Origin() followed by raw, with path, query and
//     fragment preserved; or
//   - an absolute http or https URL without user info whose host is the base
//     URL's host with the base URL's scheme, or an allowed host; the result is
//     the URL with scheme and host lower-cased, any default port removed, and
//     "/" as the path when it had none.
//
// With a path prefix, a target on the base URL's origin (relative, or
// absolute on the base host and scheme) is accepted only when its path is
// the prefix or starts with the prefix followed by "/", literally and in
// every decoding round; targets on allowed hosts are not confined.
//
// In both cases the value must be at most 2048 bytes of valid UTF-8 and
// contain no control character, space (including Unicode spaces and format
// characters) or backslash, neither literally nor after up to three rounds of
// percent-decoding, and it must not need more rounds than that to decode
// fully. The path must not start with "//" and must not contain "." or ".."
// segments, again also after decoding. Anything else, such as scheme-relative
// "//host", "javascript:", "data:", bare host names or malformed URLs, is
// refused.
//
// Resolve never panics and runs in time linear in len(raw).
func (p *Policy) Resolve(raw string) (target string, ok bool) {
	if t, ok := p.resolve(raw); ok {
		return t, true
	}
	return p.Default(), false
}

// Default is the fallback target: the application origin followed by the
// path prefix (if any) and "/".
func (p *Policy) Default() string {
	if p == nil || p.def == "" {
		return "/"
	}
	return p.def
}

// Origin is scheme://host[:port] of the base URL, lower-cased, with a port
// equal to the scheme's default port omitted.
func (p *Policy) Origin() string {
	if p == nil {
		return ""
	}
	return p.origin
}

// Prefix is the base URL's path prefix without a trailing "/" ("/app"), or
// "" when the application is served at the root of its origin.
func (p *Policy) Prefix() string {
	if p == nil {
		return ""
	}
	return p.prefix
}

// underPrefix reports whether path is the prefix or below it.
func (p *Policy) underPrefix(path string) bool {
	if p.prefix == "" {
		return true
	}
	rest, ok := strings.CutPrefix(path, p.prefix)
	return ok && (rest == "" || rest[0] == '/')
}

func (p *Policy) resolve(raw string) (string, bool) {
	if p == nil || p.origin == "" || raw == "" || len(raw) > maxLength {
		return "", false
	}
	if raw[0] == '/' {
		return p.resolveRelative(raw)
	}
	return p.resolveAbsolute(raw)
}

// resolveRelative handles values of the form "/path?query#fragment".
func (p *Policy) resolveRelative(raw string) (string, bool) {
	if !allDecodings(raw, func(s string) bool { return relativeShapeOK(s) && p.underPrefix(pathPart(s)) }) {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	return p.verified(p.origin+raw, p.scheme, p.host)
}

// relativeShapeOK reports whether one (possibly decoded) form of a relative
// value has an acceptable shape.
func relativeShapeOK(s string) bool {
	if !cleanText(s) || s == "" || s[0] != '/' || (len(s) > 1 && s[1] == '/') {
		return false
	}
	return pathOK(pathPart(s))
}

// resolveAbsolute handles values of the form "http(s)://host[:port]/path...".
func (p *Policy) resolveAbsolute(raw string) (string, bool) {
	after, ok := cutHTTPScheme(raw)
	if !ok {
		return "", false
	}
	scheme := strings.ToLower(raw[:len(raw)-len(after)-len("://")])
	authority, rest := after, ""
	if i := strings.IndexAny(after, "/?#"); i >= 0 {
		authority, rest = after[:i], after[i:]
	}
	// splitHost only admits host-name characters, bracketed IPv6 addresses
	// and a numeric port, which rules out user info, percent-encoding and
	// empty hosts.
	host, port, ok := splitHost(strings.ToLower(authority))
	if !ok {
		return "", false
	}
	canon := canonicalHost(host, port, scheme)
	if !p.hostAllowed(scheme, canon) {
		return "", false
	}
	sameOrigin := scheme == p.scheme && canon == p.host
	if !allDecodings(rest, func(s string) bool {
		// On the app's own origin a target must stay under the prefix; an
		// empty path there is "/", which is not under a prefix.
		return restShapeOK(s) && (!sameOrigin || p.underPrefix(pathPart(s)))
	}) {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || !strings.EqualFold(u.Scheme, scheme) || u.User != nil || u.Opaque != "" ||
		!strings.EqualFold(u.Host, authority) {
		return "", false
	}
	if rest == "" || rest[0] != '/' {
		rest = "/" + rest
	}
	return p.verified(scheme+"://"+canon+rest, scheme, canon)
}

// restShapeOK reports whether one (possibly decoded) form of the part of an
// absolute URL after its authority has an acceptable shape.
func restShapeOK(s string) bool {
	if !cleanText(s) {
		return false
	}
	path := pathPart(s)
	if strings.HasPrefix(path, "//") {
		return false
	}
	return pathOK(path)
}

// hostAllowed reports whether the canonical host canon may be used with
// scheme.
func (p *Policy) hostAllowed(scheme, canon string) bool {
	if scheme == p.scheme && canon == p.host {
		return true
	}
	_, ok := p.allowed[scheme][canon]
	return ok
}

// verified re-parses a built target and returns it only if net/url sees the
// expected scheme and host and a path that does not start with "//". This is
// a last line of defence against any disagreement between the checks above
// and the parser.
func (p *Policy) verified(target, scheme, host string) (string, bool) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != scheme || u.Host != host || u.User != nil || u.Opaque != "" ||
		strings.HasPrefix(u.Path, "//") || !strings.HasPrefix(target, scheme+"://"+host+"/") {
		return "", false
	}
	return target, true
}

// cutHTTPScheme reports whether s starts with "http://" or "https://" in any
// letter case and returns what follows.
func cutHTTPScheme(s string) (rest string, ok bool) {
	for _, prefix := range [...]string{"https://", "http://"} {
		if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
			return s[len(prefix):], true
		}
	}
	return "", false
}

// splitHost validates a lower-case authority without user info ("host",
// "host:port", "[v6]" or "[v6]:port") and splits it. Host names consist of
// non-empty labels of ASCII letters, digits, '-' and '_'. Ports are decimal
// numbers from 1 to 65535 without leading zeros.
func splitHost(a string) (host, port string, ok bool) {
	if strings.HasPrefix(a, "[") {
		end := strings.IndexByte(a, ']')
		if end < 0 {
			return "", "", false
		}
		addr, err := netip.ParseAddr(a[1:end])
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return "", "", false
		}
		host, a = a[:end+1], a[end+1:]
		if a == "" {
			return host, "", true
		}
		if a[0] != ':' || !validPort(a[1:]) {
			return "", "", false
		}
		return host, a[1:], true
	}
	host = a
	if i := strings.IndexByte(a, ':'); i >= 0 {
		host, port = a[:i], a[i+1:]
		if !validPort(port) {
			return "", "", false
		}
	}
	if !validHostName(host) {
		return "", "", false
	}
	return host, port, true
}

// validHostName reports whether h is a dot-separated sequence of non-empty
// labels of [a-z0-9_-], at most 253 bytes long.
func validHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	labelLen := 0
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c == '.':
			if labelLen == 0 {
				return false
			}
			labelLen = 0
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
			labelLen++
			if labelLen > 63 {
				return false
			}
		default:
			return false
		}
	}
	return labelLen > 0
}

// validPort reports whether s is a decimal port number in 1..65535 without
// leading zeros.
func validPort(s string) bool {
	if s == "" || len(s) > 5 || s[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n <= 65535
}

// canonicalHost joins host and port, dropping the port when it is the
// default port of scheme.
func canonicalHost(host, port, scheme string) string {
	if port == "" || (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		return host
	}
	return host + ":" + port
}

// allDecodings calls check on s and on each successive percent-decoding of s,
// up to maxDecodeRounds rounds, stopping early when decoding changes nothing.
// It reports false if any call reports false or if s is still not fully
// decoded after the last round.
func allDecodings(s string, check func(string) bool) bool {
	for round := 0; ; round++ {
		if !check(s) {
			return false
		}
		next, changed := percentDecode(s)
		if !changed {
			return true
		}
		if round == maxDecodeRounds {
			return false
		}
		s = next
	}
}

// percentDecode decodes every valid %XX escape in s and leaves any other '%'
// untouched, so that one malformed escape cannot hide the valid escapes
// elsewhere in the value. '+' is left as is. It reports whether anything was
// decoded.
func percentDecode(s string) (string, bool) {
	first := -1
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '%' && isHex(s[i+1]) && isHex(s[i+2]) {
			first = i
			break
		}
	}
	if first < 0 {
		return s, false
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:first]...)
	for i := first; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b), true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// cleanText reports whether s is valid UTF-8 without ASCII control characters,
// C1 controls, backslashes, or any Unicode space or format character (such as
// U+00A0, U+2028 or U+200B).
func cleanText(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f || c == ' ' || c == '\\' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return false
		}
		if unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			return false
		}
		i += size
	}
	return true
}

// pathPart returns s up to its first '?' or '#'.
func pathPart(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		return s[:i]
	}
	return s
}

// pathOK reports whether path has no "." or ".." segment. Browsers remove
// such segments, which can turn "/.//evil.com" into "//evil.com".
func pathOK(path string) bool {
	for path != "" {
		var seg string
		if i := strings.IndexByte(path, '/'); i >= 0 {
			seg, path = path[:i], path[i+1:]
		} else {
			seg, path = path, ""
		}
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
