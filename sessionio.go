package ginauth

import (
	"context"
	"errors"
	"net/http"
	"time"
	"unsafe"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/internal/errfmt"
	"github.com/ginauth/ginauth/providers"
	"github.com/ginauth/ginauth/store"
)

// How a session reaches the browser depends on the store:
//
//   - client-side (the cookie store): the session cookie holds seal(core),
//     and a second cookie holds seal(tokens), sealed with its own key and
//     bound to the session ID. Requests authenticate and decode only the
//     session cookie; the tokens cookie is opened when a provider token is
//     needed (and a tampered one then fails).
//   - server-side: the cookie value is seal(store token); the store keeps
//     the encoded core and tokens, see encodeSession.

// loaded is a session read from the request, with what is needed to save it
// again. It is also what handlers reach through the context.
type loaded struct {
	Session
	auth    *Auth // set by the middleware that attaches it
	mode    Mode
	request *http.Request // the request it was loaded from (for the tokens cookie)

	token []byte // server-side stores: the store's token

	tokensLoaded bool   // Session.tokens holds the tokens
	tokensDirty  bool   // Session.tokens changed since loading
	sealedTokens string // client-side: the tokens cookie as received
	tokensBlob   []byte // server-side: the sealed tokens part as loaded
	stored       []byte // server-side: the data as the store last had it

	ctx       sessionCtx // the request context once attached (see attach)
	groupsBuf [4]string  // backs User.Groups of up to 4 groups (decodeCore)
}

// loadSession reads and checks the request's session. It returns (nil, nil)
// when the request has no valid session, and an error only when the store
// failed or the shared revocation list is not in step (the caller must then
// refuse the request; a sign-out may still end the session it returns). With touch, an active
// session's last-seen time is refreshed (at most every touchEach).
func (s *sessions) loadSession(c *gin.Context, touch bool) (*loaded, error) {
	value := s.cookies.session.read(c.Request)
	if value == "" {
		return nil, nil
	}
	l := &loaded{request: c.Request}
	l.User.Groups = l.groupsBuf[:0]
	if s.clientSide {
		core, err := s.sessionSeal.Open(value, s.cookies.session.ad)
		// core is this request's own plaintext, never written again (Open
		// returns a new buffer each time and keeps none:
		// seal.TestOpenReturnsOwnBuffer): the session's strings are
		// slices of it, without a copy.
		if err != nil || decodeCore(unsafe.String(unsafe.SliceData(core), len(core)), &l.Session) != nil {
			return nil, nil
		}
	} else {
		token, err := s.sessionSeal.Open(value, s.cookies.session.ad)
		if err != nil {
			return nil, nil
		}
		data, found, err := s.store.Load(c.Request.Context(), token)
		if err != nil {
			return nil, errfmt.Errorf("%w: %w", ErrStoreUnavailable, err)
		}
		if !found {
			return nil, nil
		}
		core, tokens, err := splitParts(data)
		if err != nil || decodeCore(string(core), &l.Session) != nil {
			return nil, nil
		}
		l.token, l.tokensBlob, l.stored = token, tokens, data
	}
	l.maxAge, l.idle = s.maxAge, s.idle
	now := s.now()
	if l.expired(now) {
		s.deleteStored(c.Request.Context(), l.token)
		return nil, nil
	}
	if s.revoked.refused(&l.Session, now) {
		return nil, nil
	}
	// A session of a provider no longer configured, or whose issuer
	// changed (or is no longer accepted), is not honoured.
	if p, ok := s.providers[l.Provider]; !ok || !acceptsIssuer(p, l.User.Issuer) {
		return nil, nil
	}
	if s.revoked.unsynced() {
		return l, errUnsynced // fail closed; the session is returned for sign-out
	}
	if touch && now.Sub(l.LastSeen) >= s.touchEach {
		l.LastSeen = now
		err := s.saveSession(c, l)
		if errors.Is(err, errSessionGone) {
			return nil, nil // ended elsewhere meanwhile
		}
		if errors.Is(err, errSessionChanged) {
			return l, nil // updated elsewhere just now, last-seen included
		}
		if err != nil {
			return nil, err
		}
	}
	return l, nil
}

// acceptsIssuer reports whether iss may be the issuer of p's users: through
// providers.IssuerMatcher when p implements it, else exactly p.Issuer().
func acceptsIssuer(p providers.Provider, iss string) bool {
	if m, ok := p.(providers.IssuerMatcher); ok {
		return m.AcceptsIssuer(iss)
	}
	return p.Issuer() == iss
}

// errSessionGone: the store no longer has a session being updated.
var errSessionGone = errors.New("ginauth: session ended meanwhile")

// errSessionChanged: another request updated the session meanwhile, so a
// last-seen update based on older data was not written.
var errSessionChanged = errors.New("ginauth: session changed meanwhile")

// tokensAD binds a sealed tokens part to its session.
func (s *sessions) tokensAD(sessionID string) []byte {
	return []byte(s.cookies.tokens.name + "\x00" + sessionID)
}

// tokensOf returns the session's provider tokens, decoding them on first use.
func (s *sessions) tokensOf(l *loaded) (providers.Token, error) {
	if l.tokensLoaded {
		return l.tokens, nil
	}
	sealed := string(l.tokensBlob)
	if s.clientSide {
		if l.sealedTokens == "" {
			l.sealedTokens = s.cookies.tokens.read(l.request)
		}
		sealed = l.sealedTokens
	}
	t, err := s.openTokens(sealed, l.ID)
	if err != nil {
		return providers.Token{}, err
	}
	l.tokens, l.tokensLoaded = t, true
	return t, nil
}

// sealTokens seals t, bound to the session ID. Tokens are sealed with their
// own key in every store: in the tokens cookie, and in server-side stores,
// so that a copy of the store's data does not hold usable provider tokens.
func (s *sessions) sealTokens(t *providers.Token, sessionID string) string {
	return s.tokensSeal.Seal(encodeTokens(t), s.tokensAD(sessionID))
}

// openTokens undoes sealTokens.
func (s *sessions) openTokens(sealed, sessionID string) (providers.Token, error) {
	var t providers.Token
	plain, err := s.tokensSeal.Open(sealed, s.tokensAD(sessionID))
	if err != nil {
		return t, errCodec
	}
	if err := decodeTokens(string(plain), &t); err != nil {
		return t, err
	}
	return t, nil
}

// setTokens replaces the session's tokens; saveSession then writes them.
func (l *loaded) setTokens(t providers.Token) {
	l.tokens, l.tokensLoaded, l.tokensDirty = t, true, true
}

// saveSession stores l and writes its cookie.
func (s *sessions) saveSession(c *gin.Context, l *loaded) error {
	core := encodeCore(&l.Session)
	var value string
	if s.clientSide {
		value = s.sessionSeal.Seal(core, s.cookies.session.ad)
		// Checked first: a session that does not fit sets no cookie at all.
		if !s.cookies.session.fits(value) {
			return ErrSessionTooLarge
		}
		if l.tokensDirty {
			sealed := s.sealTokens(&l.tokens, l.ID)
			if err := s.cookies.write(c.Writer, c.Request, &s.cookies.tokens, sealed); err != nil {
				return err
			}
			l.sealedTokens, l.tokensDirty = sealed, false
		}
	} else {
		rec := store.Record{
			Expiry:   l.ExpiresAt(),
			Provider: l.Provider,
			Subject:  l.User.Subject,
			SID:      l.SID,
		}
		if l.tokensDirty || l.tokensBlob == nil {
			l.tokensBlob = []byte(s.sealTokens(&l.tokens, l.ID))
			l.tokensDirty = false
		} else {
			// Not changing the tokens: write only over the data this
			// request loaded, never over tokens another request (or
			// instance) refreshed meanwhile.
			rec.IfMatch = l.stored
		}
		rec.Data = joinParts(core, l.tokensBlob)
		token, err := s.store.Save(c.Request.Context(), l.token, rec)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return errSessionGone
		case errors.Is(err, store.ErrConflict):
			return errSessionChanged
		case err != nil:
			return errfmt.Errorf("%w: %w", ErrStoreUnavailable, err)
		}
		l.stored = rec.Data
		if l.token != nil && string(token) == string(l.token) {
			return nil // the cookie, which names the session, stays as it is
		}
		l.token = token
		value = s.sessionSeal.Seal(token, s.cookies.session.ad)
	}
	return s.cookies.write(c.Writer, c.Request, &s.cookies.session, value)
}

// startSession creates a new session for a signed-in identity: a new ID, a
// new store token, and any session the browser presented is ended first.
// data is the encoded AppData the SignInHook attached ("" for none). It
// returns the new session.
func (s *sessions) startSession(c *gin.Context, provider string, id *providers.Identity, data string) (*loaded, error) {
	if old, _ := s.loadSession(c, false); old != nil {
		// No fixation: the session the browser presented ends, in the
		// store and, for the cookie store, in this process's revocation
		// list, so a planted or copied cookie no longer authenticates.
		s.deleteStored(c.Request.Context(), old.token)
		s.revokeSessionID(old)
	}
	now := s.now()
	l := &loaded{request: c.Request}
	l.ID = randomString()
	l.Provider = provider
	l.User = userFromClaims(provider, id)
	l.SID = id.SessionID
	l.data = data
	l.CreatedAt, l.LastSeen = now, now
	// Kept to the millisecond (see unixMilliOrZero), as revocations compare it.
	l.CreatedAt = l.CreatedAt.Truncate(time.Millisecond)
	l.maxAge, l.idle = s.maxAge, s.idle
	l.setTokens(id.Token)
	err := s.saveSession(c, l)
	if errors.Is(err, ErrSessionTooLarge) {
		s.deleteStored(c.Request.Context(), l.token)
		// The previous session was ended above; with the cookie store its
		// cookies would still work, so they go too.
		s.cookies.clearSession(c.Writer, c.Request)
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}

func (s *sessions) deleteStored(ctx context.Context, token []byte) {
	if len(token) == 0 {
		return
	}
	if err := s.store.Delete(ctx, token); err != nil {
		s.warn.Warn("ginauth: deleting a session from the store failed", "err", err)
	}
}
