package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/maphash"
	"io/fs"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-contrib/sessions"
	gsessions "github.com/gorilla/sessions"

	"github.com/ginauth/ginauth/internal/errfmt"
)

// SessionsOptions configure FromSessions. The zero value is ready to use.
type SessionsOptions struct {
	// Name is the session name the backend sees: the name of its cookie,
	// which its codecs bind into the value. That cookie never reaches a
	// browser: ginauth seals the backend's value into its own cookie. It
	// must be a valid cookie name. Default "ginauth".
	Name string
	// Now is the clock for session expiry. Default time.Now.
	Now func() time.Time
}

// SessionsAdapter keeps ginauth sessions in a gin-contrib/sessions backend
// (any gorilla/sessions store). Build it with FromSessions.
type SessionsAdapter struct {
	backend sessions.Store
	name    string
	now     func() time.Time

	// Updates and deletes of one token are serialized in this process: the
	// backends have no compare-and-set, so without it a session deleted
	// while it is being updated could be written back.
	seed  maphash.Seed
	locks [64]sync.Mutex
}

var _ Store = (*SessionsAdapter)(nil)

// Keys of the adapter's values in the backend's session. The data key is
// also the marker of a ginauth session: a session without it (one the
// backend made up for an unknown ID, or one another part of the app keeps
// under the same name) is never loaded, updated or deleted.
const (
	sessionsDataKey   = "ginauth.d" // []byte: Record.Data
	sessionsExpiryKey = "ginauth.e" // int64: Record.Expiry, Unix milliseconds
)

// sessionsMaxToken bounds a token: a backend's value is a cookie value, and
// browsers keep cookies of at most 4096 bytes (gorilla's codecs refuse
// longer ones too).
const sessionsMaxToken = 4096

// FromSessions returns a Store that keeps sessions in s, a gin-contrib/sessions
// backend (the same store value you would give sessions.Sessions; its own
// Options are left as you set them).
//
// Those backends manage a cookie of their own, so the adapter drives them
// with a synthetic request and response: what the backend would put in its
// cookie becomes the token, which ginauth seals into its cookie. For
// server-side backends (redis, memstore, postgres, mongo, memcached, gorm,
// filesystem) that is the backend's signed session ID, and a session ends
// everywhere when it is deleted. For gin-contrib/sessions' cookie backend it
// is the encoded session itself: nothing is kept on the server and, as with
// the default [Cookie] store, Delete cannot end a copy of the session the
// browser still holds.
//
// The adapter enforces the [Store] contract on top of the backend: a session
// expires at Record.Expiry whatever the backend does (the backend's cookie
// MaxAge is also set from it, which is what server-side backends use as
// their time to live); an update or a load never adopts an ID the backend
// does not hold, nor a session ginauth did not write. The backend's own
// cookie MaxAge (30 days by default in gorilla's stores) must not be shorter
// than ginauth's session lifetime: the backend refuses older values.
//
// The adapter has no [Index]: a gorilla store cannot be searched by user,
// so signing a user out everywhere and back-channel logout need [Redis] or
// [Memory]. Backend errors, except a value it cannot decode (a tampered or
// foreign token, which is not found), wrap ErrUnavailable.
func FromSessions(s sessions.Store, opts SessionsOptions) (*SessionsAdapter, error) {
	if s == nil {
		return nil, errors.New("ginauth: FromSessions: nil store")
	}
	if opts.Name == "" {
		opts.Name = "ginauth"
	}
	if !validCookieName(opts.Name) {
		return nil, fmt.Errorf("ginauth: FromSessions: invalid Name %q: not a cookie name", opts.Name)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &SessionsAdapter{backend: s, name: opts.Name, now: opts.Now, seed: maphash.MakeSeed()}, nil
}

// Load implements Store.
func (a *SessionsAdapter) Load(ctx context.Context, token []byte) ([]byte, bool, error) {
	s, err := a.get(ctx, token)
	if s == nil || err != nil {
		return nil, false, err
	}
	data, live := sessionsLive(s.Values, a.now())
	if !live {
		return nil, false, nil
	}
	return data, true, nil
}

// Save implements Store.
func (a *SessionsAdapter) Save(ctx context.Context, token []byte, rec Record) ([]byte, error) {
	now := a.now()
	if !rec.Expiry.After(now) {
		return nil, errors.New("ginauth: sessions adapter: record already expired")
	}
	if token == nil {
		r := a.request(ctx, nil)
		s, err := a.backend.New(r, a.name)
		if err != nil || s == nil {
			return nil, a.unavailable("new", err)
		}
		return a.write(r, s, rec, now)
	}

	mu := a.lock(token)
	mu.Lock()
	defer mu.Unlock()
	s, err := a.get(ctx, token)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, ErrNotFound
	}
	current, live := sessionsLive(s.Values, now)
	if !live {
		return nil, ErrNotFound
	}
	if rec.IfMatch != nil && !bytes.Equal(current, rec.IfMatch) {
		return nil, ErrConflict
	}
	id := s.ID
	newToken, err := a.write(a.request(ctx, token), s, rec, now)
	if err != nil {
		return nil, err
	}
	if id != "" && s.ID == id {
		// The backend keeps the session under an ID, which the token the
		// browser holds still names.
		return token, nil
	}
	return newToken, nil
}

// Delete implements Store.
func (a *SessionsAdapter) Delete(ctx context.Context, token []byte) error {
	mu := a.lock(token)
	mu.Lock()
	defer mu.Unlock()
	s, err := a.get(ctx, token)
	if s == nil || err != nil {
		return err
	}
	s.Options.MaxAge = -1
	if err := a.backend.Save(a.request(ctx, token), headerWriter{h: http.Header{}}, s); err != nil {
		return a.unavailable("delete", err)
	}
	return nil
}

// get returns the ginauth session token names, or nil when the backend has
// none (expired or not: the caller checks). err is for backend failures.
func (a *SessionsAdapter) get(ctx context.Context, token []byte) (*gsessions.Session, error) {
	if !validCookieValue(token) {
		return nil, nil
	}
	s, err := a.backend.Get(a.request(ctx, token), a.name)
	if err != nil {
		var decode interface{ IsDecode() bool }
		if (errors.As(err, &decode) && decode.IsDecode()) || errors.Is(err, fs.ErrNotExist) {
			return nil, nil // tampered, foreign, or gone from the filesystem store
		}
		return nil, a.unavailable("get", err)
	}
	if s == nil || s.IsNew || s.Values[sessionsDataKey] == nil {
		return nil, nil
	}
	if s.Options == nil {
		s.Options = &gsessions.Options{}
	}
	return s, nil
}

// write puts rec in s, saves it and returns the value the backend gave its
// cookie.
func (a *SessionsAdapter) write(r *http.Request, s *gsessions.Session, rec Record, now time.Time) ([]byte, error) {
	data := make([]byte, len(rec.Data))
	copy(data, rec.Data)
	s.Values[sessionsDataKey] = data
	s.Values[sessionsExpiryKey] = rec.Expiry.UnixMilli()
	if s.Options == nil {
		s.Options = &gsessions.Options{}
	}
	s.Options.MaxAge = int(math.Min(math.Ceil(rec.Expiry.Sub(now).Seconds()), math.MaxInt32))
	w := headerWriter{h: http.Header{}}
	if err := a.backend.Save(r, w, s); err != nil {
		return nil, a.unavailable("save", err)
	}
	for _, line := range w.Header().Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == a.name && c.Value != "" {
			return []byte(c.Value), nil
		}
	}
	return nil, errors.New("ginauth: sessions adapter: the backend set no session cookie")
}

// request is a request carrying token as the backend's cookie.
func (a *SessionsAdapter) request(ctx context.Context, token []byte) *http.Request {
	r, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil) // cannot fail
	if token != nil {
		r.Header.Set("Cookie", a.name+"="+string(token))
	}
	return r
}

func (a *SessionsAdapter) lock(token []byte) *sync.Mutex {
	return &a.locks[maphash.Bytes(a.seed, token)%uint64(len(a.locks))]
}

func (a *SessionsAdapter) unavailable(op string, err error) error {
	if err == nil {
		err = errors.New("no session")
	}
	return errfmt.Errorf("%w: sessions backend: %s %q: %w", ErrUnavailable, op, a.name, err)
}

// sessionsLive returns the data of a ginauth session's values, and whether
// it is live at now. Besides gob's types it reads what a JSON serializer
// (redistore's) gives back: []byte as a base64 string, numbers as float64.
func sessionsLive(values map[any]any, now time.Time) ([]byte, bool) {
	var expiry int64
	switch v := values[sessionsExpiryKey].(type) {
	case int64:
		expiry = v
	case float64:
		expiry = int64(v)
	default:
		return nil, false
	}
	if !now.Before(time.UnixMilli(expiry)) {
		return nil, false
	}
	switch v := values[sessionsDataKey].(type) {
	case []byte:
		data := make([]byte, len(v))
		copy(data, v)
		return data, true
	case string:
		data, err := base64.StdEncoding.DecodeString(v)
		return data, err == nil
	}
	return nil, false
}

// validCookieValue reports whether token can travel as a cookie value
// unchanged (RFC 6265 cookie-octets) and is not longer than a cookie.
func validCookieValue(token []byte) bool {
	if len(token) == 0 || len(token) > sessionsMaxToken {
		return false
	}
	for _, c := range token {
		if c < 0x21 || c > 0x7e || c == '"' || c == ',' || c == ';' || c == '\\' {
			return false
		}
	}
	return true
}

// validCookieName reports whether name is an RFC 7230 token.
func validCookieName(name string) bool {
	return name != "" && strings.IndexFunc(name, func(r rune) bool {
		return r > 0x7e || r <= 0x20 || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r)
	}) < 0
}

// headerWriter is the synthetic response the backend writes its cookie to.
type headerWriter struct{ h http.Header }

func (w headerWriter) Header() http.Header       { return w.h }
func (headerWriter) Write(b []byte) (int, error) { return len(b), nil }
func (headerWriter) WriteHeader(int)             {}
