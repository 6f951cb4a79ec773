package ginauth

import (
	"net/url"
	"strings"

	"github.com/ginauth/ginauth/providers"
)

// A frequent first-run mistake: the app is opened at another address than
// Config.BaseURL (http://localhost:8080 when BaseURL says
// http://127.0.0.1:8080). Every form post then fails the origin check. The
// check still refuses the request; originMismatch only tells the user and
// the log what happened instead of blaming a forgery.

// maxShownOriginLen caps the browser-sent origin that is logged and shown.
const maxShownOriginLen = 100

// originMismatchError is a CSRF refusal caused by the browser using another
// origin than BaseURL's for a request it sent to itself. It wraps ErrCSRF.
type originMismatchError struct {
	configured string // BaseURL's origin
	opened     string // the Origin header: a plain origin of at most maxShownOriginLen bytes
}

func (e *originMismatchError) Error() string {
	return ErrCSRF.Error() + ": the browser used " + e.opened + " but BaseURL's origin is " + e.configured
}

func (e *originMismatchError) Unwrap() error { return ErrCSRF }

// originMismatch returns the refusal for a request whose Origin header is
// not BaseURL's origin but names the address the browser sent the request
// to: the Origin's host is the request's Host, or both it and BaseURL's
// host are loopback hosts (a page on localhost posting to 127.0.0.1). A
// forgery from another site matches neither and gets nil: it stays a plain
// CSRF refusal.
func (a *Auth) originMismatch(origin, host string) *originMismatchError {
	u, ok := plainOrigin(origin)
	if !ok || origin == a.origin {
		return nil
	}
	base, err := url.Parse(a.origin)
	if err != nil {
		return nil
	}
	if !strings.EqualFold(u.Host, host) && !(providers.IsLoopback(u.Hostname()) && providers.IsLoopback(base.Hostname())) {
		return nil
	}
	return &originMismatchError{configured: a.origin, opened: origin}
}

// plainOrigin parses s as a serialized http(s) origin (scheme://host[:port]
// and nothing else, printable ASCII, short); ok is false for anything else,
// which is then never shown.
func plainOrigin(s string) (*url.URL, bool) {
	if s == "" || len(s) > maxShownOriginLen {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '\'' || c == '\\' {
			return nil, false
		}
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || u.Path != "" {
		return nil, false
	}
	if u.Scheme+"://"+u.Host != s {
		return nil, false
	}
	return u, true
}

// textVars are the placeholder values of the origin_mismatch texts.
func (e *originMismatchError) textVars() []string {
	return []string{"configured", e.configured, "opened", e.opened}
}

// logCrossOrigin logs a refused cross-origin request, rate-limited: the
// mismatch with both origins, a forgery with its Origin when it is a plain
// origin (anything else is left out: it is the sender's text).
func (a *Auth) logCrossOrigin(err error, origin string) {
	if e, ok := err.(*originMismatchError); ok {
		a.warn.Warn("ginauth: request refused: the browser opened the app at another origin than BaseURL's; open the app at BaseURL or set BaseURL to the address you use",
			"base_url_origin", e.configured, "browser_origin", e.opened)
		return
	}
	if _, ok := plainOrigin(origin); !ok {
		origin = ""
	}
	a.warn.Warn("ginauth: cross-origin request refused", "origin", origin)
}
