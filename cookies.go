package ginauth

import (
	"net/http"
	"strconv"
	"strings"
)

// Cookie size limits: each cookie's name and value stay under maxCookieBytes
// (browsers drop cookies over 4096 bytes), and a session may use at most
// maxChunks cookies.
const (
	maxCookieBytes = 4000
	maxChunks      = 8
	// maxSessionValue bounds the sealed session value; longer input is
	// refused before any decoding.
	maxSessionValue = maxChunks * maxCookieBytes
)

// DefaultCookieName is the name ginauth's cookies start with when
// Config.CookieName is empty.
const DefaultCookieName = "ginauth"

// maxCookieNameLen bounds Config.CookieName.
const maxCookieNameLen = 32

// validCookieName reports whether name can start ginauth's cookie names: 1
// to maxCookieNameLen letters, digits, '-' or '_' (a subset of the cookie
// name token of RFC 6265), beginning with a letter or digit so that it
// cannot be read as a browser's __Host- or __Secure- prefix.
func validCookieName(name string) bool {
	if name == "" || len(name) > maxCookieNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || (c != '-' && c != '_')) {
			return false
		}
	}
	return true
}

// cookieNames holds the names and the scope of the app's cookies: all of
// them (but the flow cookies, see flows) have Path=path, the app's path
// prefix or "/".
type cookieNames struct {
	session chunkedCookie // the session (with the cookie store: its core)
	tokens  chunkedCookie // cookie store only: the sealed provider tokens
	csrf    string
	logout  string // state of a provider logout in progress
	path    string // the cookies' Path: BaseURL's path prefix, or "/"
	secure  bool
}

// chunkedCookie is a value written as one cookie, or as numbered chunks
// name.0, name.1, ... when it does not fit in one.
type chunkedCookie struct {
	name   string
	ad     []byte // name as bytes: the additional data its value is sealed with
	chunks [maxChunks]string
}

func newChunkedCookie(name string) chunkedCookie {
	c := chunkedCookie{name: name, ad: []byte(name)}
	for i := range c.chunks {
		c.chunks[i] = name + "." + strconv.Itoa(i)
	}
	return c
}

// newCookieNames names the cookies of an app served under basePath ("" or
// "/app"), each starting with name (Config.CookieName).
func newCookieNames(name, basePath string, secure bool) *cookieNames {
	path := basePath
	if path == "" {
		path = "/"
	}
	return &cookieNames{
		session: newChunkedCookie(securePrefix(secure, path) + name),
		tokens:  newChunkedCookie(securePrefix(secure, path) + name + "-tokens"),
		csrf:    securePrefix(secure, path) + name + "-csrf",
		logout:  securePrefix(secure, path) + name + "-logout",
		path:    path,
		secure:  secure,
	}
}

// securePrefix is the browser-enforced name prefix of a Secure cookie
// without Domain scoped to path: __Host- requires Path=/, so a narrower
// path takes __Secure-. Plain-http cookies have none.
func securePrefix(secure bool, path string) string {
	switch {
	case !secure:
		return ""
	case path == "/":
		return "__Host-"
	default:
		return "__Secure-"
	}
}

// readCookie returns the value of the named cookie without allocating.
func readCookie(r *http.Request, name string) (string, bool) {
	for _, line := range r.Header["Cookie"] {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimLeft(part, " \t")
			if len(part) > len(name) && part[len(name)] == '=' && part[:len(name)] == name {
				v := strings.TrimRight(part[len(name)+1:], " \t")
				if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
					v = v[1 : len(v)-1]
				}
				return v, true
			}
		}
	}
	return "", false
}

// read returns the cookie's value, joined from chunks when needed. It
// refuses values over maxSessionValue before any decoding.
func (cc *chunkedCookie) read(r *http.Request) string {
	if v, ok := readCookie(r, cc.name); ok {
		if len(v) > maxCookieBytes {
			return ""
		}
		return v
	}
	var b strings.Builder
	for i := 0; i < maxChunks; i++ {
		v, ok := readCookie(r, cc.chunks[i])
		if !ok {
			break
		}
		if len(v) > maxCookieBytes || b.Len()+len(v) > maxSessionValue {
			return ""
		}
		b.WriteString(v)
	}
	return b.String()
}

// set writes one cookie with the app's Path and ginauth's flags. maxAge < 0
// deletes it; 0 makes it a browser-session cookie.
func (n *cookieNames) set(w http.ResponseWriter, name, value string, maxAge int, sameSite http.SameSite) {
	n.setAt(w, name, value, n.path, maxAge, sameSite)
}

// setAt is set for a cookie scoped to path.
func (n *cookieNames) setAt(w http.ResponseWriter, name, value, path string, maxAge int, sameSite http.SameSite) {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     path,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   n.secure,
		SameSite: sameSite,
	}
	if sameSite == http.SameSiteNoneMode {
		c.Secure = true // browsers require it; loopback http is a secure context
	}
	http.SetCookie(w, c)
}

// write writes value as cookie cc, split into chunks when it is too large
// for one, and clears whatever stale form the request carried.
func (n *cookieNames) write(w http.ResponseWriter, r *http.Request, cc *chunkedCookie, value string) error {
	if !cc.fits(value) {
		return ErrSessionTooLarge
	}
	room := cc.room()
	if len(value) <= room {
		n.set(w, cc.name, value, 0, http.SameSiteLaxMode)
		n.clearChunks(w, r, cc, 0)
		return nil
	}
	chunks := 0
	for i := 0; len(value) > 0; i++ {
		k := min(room, len(value))
		n.set(w, cc.chunks[i], value[:k], 0, http.SameSiteLaxMode)
		value = value[k:]
		chunks++
	}
	if _, ok := readCookie(r, cc.name); ok {
		n.set(w, cc.name, "", -1, http.SameSiteLaxMode)
	}
	n.clearChunks(w, r, cc, chunks)
	return nil
}

// room is how much of a value one cookie (or one chunk) of cc holds.
func (cc *chunkedCookie) room() int {
	return maxCookieBytes - len(cc.name) - 3 // name, '=', and a ".N" suffix
}

// fits reports whether write can write value as cc.
func (cc *chunkedCookie) fits(value string) bool { return len(value) <= cc.room()*maxChunks }

// clearSession deletes the session and tokens cookies and every chunk of
// them the request carried.
func (n *cookieNames) clearSession(w http.ResponseWriter, r *http.Request) {
	for _, cc := range []*chunkedCookie{&n.session, &n.tokens} {
		if cc == &n.session {
			n.set(w, cc.name, "", -1, http.SameSiteLaxMode)
		} else if _, ok := readCookie(r, cc.name); ok {
			n.set(w, cc.name, "", -1, http.SameSiteLaxMode)
		}
		n.clearChunks(w, r, cc, 0)
	}
}

// clearChunks deletes chunks of cc numbered from 'from' that the request carried.
func (n *cookieNames) clearChunks(w http.ResponseWriter, r *http.Request, cc *chunkedCookie, from int) {
	for i := from; i < maxChunks; i++ {
		if _, ok := readCookie(r, cc.chunks[i]); ok {
			n.set(w, cc.chunks[i], "", -1, http.SameSiteLaxMode)
		}
	}
}
