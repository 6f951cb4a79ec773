// Package store keeps ginauth sessions on the server.
//
// ginauth always puts a sealed (encrypted and authenticated) cookie in the
// browser. Without a store (ginauth.Config.Store nil, the default) that
// cookie holds the session itself. With a Store (Redis, memory, or any
// gin-contrib/sessions backend through FromSessions) it holds an opaque
// random token, and the store keeps the session, so that a session can be
// ended on the server at once, on every instance.
//
// A Store sees opaque bytes only: the session encoding and the cookie sealing
// belong to the root package. Every implementation passes the conformance
// suite in package storetest.
package store

import (
	"context"
	"errors"
	"time"
)

var (
	// ErrUnavailable reports a backend that cannot answer (down, timed out).
	// ginauth then refuses the request: it never lets it through.
	ErrUnavailable = errors.New("ginauth: session store unavailable")
	// ErrConflict is returned by Save when Record.IfMatch no longer equals
	// the stored data: another request changed the session meanwhile.
	ErrConflict = errors.New("ginauth: session changed meanwhile")
	// ErrNotFound is returned by Save when asked to update a session that no
	// longer exists (it expired or was deleted meanwhile). The session is
	// never recreated: ginauth treats the request as signed out.
	ErrNotFound = errors.New("ginauth: session not found")
)

// Record is a session as a store keeps it.
type Record struct {
	Data   []byte    // the encoded session, opaque to the store
	Expiry time.Time // the store may forget the session after this

	// IfMatch, on an update, makes it conditional: the store writes only
	// if the session's stored data still equals IfMatch, and returns
	// ErrConflict otherwise. ginauth uses it for last-seen updates, which
	// must never overwrite tokens another request just refreshed. Nil
	// writes unconditionally. Ignored when creating a session.
	IfMatch []byte

	// Index keys, for stores that implement Index.
	Provider string // the provider's name
	Subject  string // the user's subject at the provider
	SID      string // the provider's session ID (sid claim); may be empty
}

// Store keeps sessions. token is what the browser's cookie carries (after
// ginauth opened the seal).
type Store interface {
	// Load returns the session data for token. found is false for an unknown
	// or expired token; err is for backend failures only.
	Load(ctx context.Context, token []byte) (data []byte, found bool, err error)
	// Save stores rec and returns the token for the cookie. A nil token asks
	// for a new session: the store issues a fresh random token and never
	// reuses one a browser supplied. A non-nil token (one Load accepted)
	// updates that session, or returns ErrNotFound if it is gone.
	Save(ctx context.Context, token []byte, rec Record) (newToken []byte, err error)
	// Delete ends the session named by token. Deleting an unknown token is
	// not an error.
	Delete(ctx context.Context, token []byte) error
}

// Index is implemented by server-side stores that can find a user's
// sessions: to sign a user out everywhere, or to honour a provider's
// back-channel logout.
type Index interface {
	// List returns the tokens of the live sessions of a user.
	List(ctx context.Context, provider, subject string) ([][]byte, error)
	// DeleteUser ends every session of a user and returns how many it ended.
	DeleteUser(ctx context.Context, provider, subject string) (int, error)
	// DeleteSID ends every session created from the provider session sid
	// and returns how many it ended.
	DeleteSID(ctx context.Context, provider, sid string) (int, error)
}

// Locker is implemented by server-side stores that can hold a short lock
// shared by every instance, so that one instance refreshes a session's
// tokens while the others wait and then read the result.
type Locker interface {
	// Lock waits until it holds the lock named by token, or ctx ends. The
	// lock frees itself after ttl if unlock is never called.
	Lock(ctx context.Context, token []byte, ttl time.Duration) (unlock func(), err error)
}
