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

type cookieNames struct {
	session string // the session; chunks are session.0, session.1, ...
	// sessionAD is session as bytes: the additional data the session
	// cookie is sealed with, converted once rather than per request.
	sessionAD []byte
	csrf      string
	flow      string // prefix of per-flow cookies
	chunks    [maxChunks]string
	secure    bool
}

func newCookieNames(secure bool) cookieNames {
	prefix := ""
	if secure {
		prefix = "__Host-" // requires Secure, Path=/ and no Domain
	}
	n := cookieNames{
		session:   prefix + "ginauth",
		sessionAD: []byte(prefix + "ginauth"),
		csrf:      prefix + "ginauth-csrf",
		flow:      prefix + "ginauth-flow-",
		secure:    secure,
	}
	for i := range n.chunks {
		n.chunks[i] = n.session + "." + strconv.Itoa(i)
	}
	return n
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

// readSessionValue returns the sealed session value, joined from chunks when
// needed. It refuses values over maxSessionValue.
func (n *cookieNames) readSession(r *http.Request) string {
	if v, ok := readCookie(r, n.session); ok {
		if len(v) > maxCookieBytes {
			return ""
		}
		return v
	}
	var b strings.Builder
	for i := 0; i < maxChunks; i++ {
		v, ok := readCookie(r, n.chunks[i])
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

// setCookie writes one cookie with ginauth's flags. maxAge < 0 deletes it;
// 0 makes it a browser-session cookie.
func (n *cookieNames) set(w http.ResponseWriter, name, value string, maxAge int, sameSite http.SameSite) {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
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

// writeSession writes value as the session cookie, split into chunks when it
// is too large for one, and clears whatever stale form the request carried.
func (n *cookieNames) writeSession(w http.ResponseWriter, r *http.Request, value string) error {
	room := maxCookieBytes - len(n.session) - 3 // name, '=', and a ".N" suffix
	if len(value) > room*maxChunks {
		return ErrSessionTooLarge
	}
	if len(value) <= room {
		n.set(w, n.session, value, 0, http.SameSiteLaxMode)
		n.clearChunks(w, r, 0)
		return nil
	}
	chunks := 0
	for i := 0; len(value) > 0; i++ {
		k := min(room, len(value))
		n.set(w, n.chunks[i], value[:k], 0, http.SameSiteLaxMode)
		value = value[k:]
		chunks++
	}
	if _, ok := readCookie(r, n.session); ok {
		n.set(w, n.session, "", -1, http.SameSiteLaxMode)
	}
	n.clearChunks(w, r, chunks)
	return nil
}

// clearSession deletes the session cookie and every chunk the request carried.
func (n *cookieNames) clearSession(w http.ResponseWriter, r *http.Request) {
	n.set(w, n.session, "", -1, http.SameSiteLaxMode)
	n.clearChunks(w, r, 0)
}

// clearChunks deletes chunk cookies numbered from 'from' that the request carried.
func (n *cookieNames) clearChunks(w http.ResponseWriter, r *http.Request, from int) {
	for i := from; i < maxChunks; i++ {
		if _, ok := readCookie(r, n.chunks[i]); ok {
			n.set(w, n.chunks[i], "", -1, http.SameSiteLaxMode)
		}
	}
}
