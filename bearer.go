package ginauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/internal/oidcjwt"
	"github.com/ginauth/ginauth/providers"
)

// ErrBearerRequest is returned by AccessToken for a request authenticated by
// a bearer token: ginauth holds no provider tokens for it.
var ErrBearerRequest = fmt.Errorf("%w: bearer request", ErrNotSignedIn)

// A RequireOption is a per-call extra of RequireAuth. The set is closed:
// only this package makes them (AcceptBearer).
type RequireOption interface{ requireOption() }

type acceptBearer struct{ audience string }

func (acceptBearer) requireOption() {}

// AcceptBearer makes an API-mode RequireAuth also accept
// "Authorization: Bearer" JWT access tokens (RFC 9068) issued by one of the
// configured OpenID Connect providers for audience. A request with an
// Authorization header is then judged by it alone (a session cookie on the
// same request is ignored); it never creates a session, reads the store or
// sets a cookie. RequireAuth panics if audience is empty or the mode is
// Browser.
func AcceptBearer(audience string) RequireOption { return acceptBearer{audience} }

// Bearer describes the access token of a bearer request (see BearerFrom).
type Bearer struct {
	Audience string   // the audience it was accepted for
	ClientID string   // the client_id claim
	Scopes   []string // the scope claim, split on spaces
	Expiry   time.Time
}

// bearerRequest is what RequireAuth attaches for a bearer request.
type bearerRequest struct {
	User   User
	Bearer Bearer
}

type bearerKey struct{}

// BearerFrom returns the access token of a request that RequireAuth let
// through on a bearer token; ok is false for a session request.
func BearerFrom(c *gin.Context) (Bearer, bool) {
	if b := bearerFrom(c); b != nil {
		return b.Bearer, true
	}
	return Bearer{}, false
}

func bearerFrom(c *gin.Context) *bearerRequest {
	if c == nil || c.Request == nil {
		return nil
	}
	return bearerFromContext(c.Request.Context())
}

func bearerFromContext(ctx context.Context) *bearerRequest {
	if ctx == nil {
		return nil
	}
	b, _ := ctx.Value(bearerKey{}).(*bearerRequest)
	return b
}

// maxAuthorization bounds the Authorization header: a token over
// oidcjwt.MaxTokenSize is refused before any parsing.
const maxAuthorization = len("Bearer ") + oidcjwt.MaxTokenSize

// errNoBearer: the Authorization header is not a single Bearer credential.
var errNoBearer = errors.New("ginauth: no bearer credentials")

// bearerToken reads the request's Authorization headers: exactly one, with
// the Bearer scheme (case-insensitive, RFC 7235) and a token68 value.
func bearerToken(h http.Header) (string, error) {
	vals := h.Values("Authorization")
	if len(vals) != 1 {
		return "", fmt.Errorf("%w: %d Authorization headers", errNoBearer, len(vals))
	}
	v := vals[0]
	if len(v) > maxAuthorization {
		return "", fmt.Errorf("%w: %w: token longer than %d bytes", providers.ErrInvalidToken, providers.ErrTokenMalformed, oidcjwt.MaxTokenSize)
	}
	scheme, tok, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", fmt.Errorf("%w: not the Bearer scheme", errNoBearer)
	}
	tok = strings.TrimLeft(tok, " ")
	if tok == "" || !isToken68(tok) {
		return "", fmt.Errorf("%w: %w: not a token68", providers.ErrInvalidToken, providers.ErrTokenMalformed)
	}
	return tok, nil
}

// isToken68 reports whether s is an RFC 7235 token68.
func isToken68(s string) bool {
	end := len(s)
	for end > 0 && s[end-1] == '=' {
		end--
	}
	if end == 0 {
		return false
	}
	for i := 0; i < end; i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/':
		default:
			return false
		}
	}
	return true
}

// verifyBearer verifies token for audience with the provider whose issuer
// it names. It returns the provider's name and the verified token.
func (a *Auth) verifyBearer(ctx context.Context, token, audience string) (string, *providers.AccessToken, error) {
	iss, err := providers.TokenIssuer(token)
	if err != nil {
		return "", nil, err
	}
	for _, p := range a.ordered {
		v, ok := p.(providers.AccessTokenVerifier)
		if !ok {
			continue
		}
		if m, ok := p.(providers.IssuerMatcher); ok {
			if !m.AcceptsIssuer(iss) {
				continue
			}
		} else if p.Issuer() != iss {
			continue
		}
		at, err := v.VerifyAccessToken(ctx, token, audience)
		if err != nil {
			return "", nil, err
		}
		return p.Name(), at, nil
	}
	return "", nil, fmt.Errorf("%w: %w: iss is not a configured OpenID Connect provider's", providers.ErrInvalidToken, providers.ErrTokenIssuer)
}

// serveBearer authenticates a request that carries an Authorization header
// (RFC 6750): 401 with a Bearer challenge when it is not a valid access
// token, 503 when the provider's keys cannot be had.
func (a *Auth) serveBearer(c *gin.Context, audience string) {
	c.Header("Cache-Control", "no-store")
	tok, err := bearerToken(c.Request.Header)
	if err == nil {
		now := a.now()
		key := bearerCacheKey(tok, audience)
		b, hit := a.bearers.get(key, now)
		if !hit {
			var name string
			var at *providers.AccessToken
			if name, at, err = a.verifyBearer(c.Request.Context(), tok, audience); err == nil {
				u := userFromClaims(name, &providers.Identity{Issuer: at.Issuer, Subject: at.Subject, Claims: at.Claims})
				b = &bearerRequest{User: u, Bearer: Bearer{Audience: at.Audience, ClientID: at.ClientID, Scopes: at.Scopes, Expiry: at.Expiry}}
				a.bearers.put(key, b, now)
			}
		}
		if err == nil {
			c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), bearerKey{}, b))
			c.Next()
			return
		}
	}
	switch {
	case errors.Is(err, errNoBearer):
		c.Header("WWW-Authenticate", `Bearer realm="ginauth"`)
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "unauthenticated"})
	case errors.Is(err, providers.ErrUnavailable), errors.Is(err, oidcjwt.ErrKeysUnavailable):
		a.warn.Warn("ginauth: bearer token: provider keys unavailable", "err", err)
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "provider_unavailable"})
	default:
		a.warn.Warn("ginauth: bearer token refused", "err", err)
		c.Header("WWW-Authenticate", `Bearer realm="ginauth", error="invalid_token"`)
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "invalid_token"})
	}
}
