package ginauth

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// CSRF protection is a signed double-submit token bound to the session: the
// browser holds a random value in an HttpOnly cookie, and the token is an
// HMAC of that value and the session's ID. A token from another browser or
// another session (including the one before sign-in) does not verify.

type csrfSigner struct{ keys [][]byte }

func newCSRFSigner(secrets [][]byte) *csrfSigner {
	s := &csrfSigner{}
	for _, secret := range secrets {
		key, _ := hkdf.Key(sha256.New, secret, nil, "ginauth v1 csrf", 32) // cannot fail for 32 bytes
		s.keys = append(s.keys, key)
	}
	return s
}

func (s *csrfSigner) token(key []byte, browserValue, sessionID string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("ginauth-csrf\x00"))
	m.Write([]byte(browserValue))
	m.Write([]byte{0})
	m.Write([]byte(sessionID))
	return m.Sum(nil)
}

func (s *csrfSigner) sign(browserValue, sessionID string) string {
	return base64.RawURLEncoding.EncodeToString(s.token(s.keys[0], browserValue, sessionID))
}

func (s *csrfSigner) verify(tok, browserValue, sessionID string) bool {
	got, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(got) != sha256.Size || browserValue == "" {
		return false
	}
	for _, key := range s.keys {
		if hmac.Equal(got, s.token(key, browserValue, sessionID)) {
			return true
		}
	}
	return false
}

// CSRFToken returns a CSRF token for the current browser and session, setting
// the CSRF cookie when the browser has none. Put it in forms as csrfToken or
// send it as the X-CSRF-Token header.
func (a *Auth) CSRFToken(c *gin.Context) string {
	browserValue, ok := readCookie(c.Request, a.cookies.csrf)
	if !ok || len(browserValue) != 43 {
		browserValue = randomString()
		a.cookies.set(c.Writer, a.cookies.csrf, browserValue, 0, http.SameSiteLaxMode)
		// Later reads in this request must see the new value.
		c.Request.Header.Add("Cookie", a.cookies.csrf+"="+browserValue)
	}
	// With the store down the token is bound to no session; it will not
	// verify for a signed-in user, which is the safe side.
	sid, _ := a.currentSessionID(c)
	return a.csrf.sign(browserValue, sid)
}

// CheckCSRF verifies a state-changing request: it must come from the app's
// own origin (Origin and Sec-Fetch-Site headers, when the browser sends
// them) and carry a valid token for this browser and session. Use it in your
// own handlers before calling SignIn or SignOut from a POST. It returns an
// error wrapping ErrCSRF for a refused request, or ErrStoreUnavailable when
// the session store cannot be reached.
func (a *Auth) CheckCSRF(c *gin.Context, token string) error {
	if err := a.checkSameOrigin(c.Request); err != nil {
		return err
	}
	browserValue, _ := readCookie(c.Request, a.cookies.csrf)
	if token == "" {
		token = c.GetHeader("X-CSRF-Token")
	}
	sid, err := a.currentSessionID(c)
	if err != nil {
		return err // ErrStoreUnavailable: neither pass nor blame the request
	}
	if !a.csrf.verify(token, browserValue, sid) {
		return fmt.Errorf("%w: missing or invalid token", ErrCSRF)
	}
	return nil
}

// checkSameOrigin refuses a request that the browser marks as coming from
// another origin. http.CrossOriginProtection decides from Sec-Fetch-Site,
// or without it from Origin against Host. It is shown the request as what
// CheckCSRF is asked about: a state-changing request (Check lets GET, HEAD
// and OPTIONS through) addressed to the app's origin, BaseURL's (its path
// prefix plays no part), since behind a proxy the Host the app sees may
// differ. That origin is not added as a trusted origin: that would let a
// request with it as Origin through even when Sec-Fetch-Site says
// cross-site or same-site. Check compares hosts only and believes
// Sec-Fetch-Site over Origin, so an Origin header must also be the app's
// origin exactly, scheme included.
func (a *Auth) checkSameOrigin(r *http.Request) error {
	req := *r
	req.Method = http.MethodPost
	_, req.Host, _ = strings.Cut(a.origin, "://")
	if err := a.crossOrigin.Check(&req); err != nil {
		return fmt.Errorf("%w: %w", ErrCSRF, err)
	}
	if origin := r.Header.Get("Origin"); origin != "" && origin != a.origin {
		return fmt.Errorf("%w: cross-origin request", ErrCSRF)
	}
	return nil
}

// randomString returns 32 random bytes, base64url-encoded (43 characters).
func randomString() string {
	var b [32]byte
	rand.Read(b[:]) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b[:])
}
