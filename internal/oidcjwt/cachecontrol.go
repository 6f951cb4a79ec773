package oidcjwt

import (
	"net/http"
	"strings"
	"time"
)

// maxDeltaSeconds is the value of a delta-seconds too large to represent
// (RFC 9111 §1.2.2).
const maxDeltaSeconds = 1 << 31

// CacheLifetime returns how long a response with header h may be used: its
// Cache-Control max-age less its Age, or def when it has no max-age; zero
// for no-cache, no-store or a max-age that cannot be parsed (the response
// is stale at once). Of several max-age directives the smallest counts;
// s-maxage (for shared caches) and Expires are not consulted. The result is
// clamped to [lo, hi] (lo wins when hi < lo).
func CacheLifetime(h http.Header, def, lo, hi time.Duration) time.Duration {
	age, ok := cacheMaxAge(h)
	if !ok {
		age = def
	}
	return max(lo, min(age, hi))
}

// cacheMaxAge returns the freshness lifetime h gives, if any.
func cacheMaxAge(h http.Header) (time.Duration, bool) {
	found := false
	var secs int64
	for _, line := range h.Values("Cache-Control") {
		for directive := range strings.SplitSeq(line, ",") {
			name, value, _ := strings.Cut(directive, "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-cache", "no-store":
				return 0, true
			case "max-age":
				n, ok := deltaSeconds(value)
				if !ok {
					return 0, true // unusable: stale
				}
				if !found || n < secs {
					secs = n
				}
				found = true
			}
		}
	}
	if !found {
		return 0, false
	}
	if age, ok := deltaSeconds(h.Get("Age")); ok {
		secs = max(secs-age, 0)
	}
	return time.Duration(secs) * time.Second, true
}

// deltaSeconds parses a non-negative number of seconds, as a token or a
// quoted string; values too large become maxDeltaSeconds.
func deltaSeconds(v string) (int64, bool) {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if v == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < maxDeltaSeconds {
			n = n*10 + int64(c-'0')
		}
	}
	return min(n, maxDeltaSeconds), true
}
