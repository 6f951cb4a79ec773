// Package store keeps ginauth sessions.
//
// ginauth always puts a sealed (encrypted and authenticated) cookie in the
// browser. What the cookie carries is the store's choice: the cookie store
// (the default) puts the whole session in it, a server-side store puts an
// opaque random ID in it and keeps the session itself.
//
// A Store sees opaque bytes only: the session encoding and the cookie sealing
// belong to the root package.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrUnavailable reports a backend that cannot answer (down, timed out).
// ginauth then refuses the request: it never lets it through.
var ErrUnavailable = errors.New("ginauth: session store unavailable")

// Store keeps sessions. token is what the browser's cookie carries (after
// ginauth opened the seal); data is the encoded session.
type Store interface {
	// Load returns the session data for token. found is false for an unknown
	// or expired token; err is for backend failures only.
	Load(ctx context.Context, token []byte) (data []byte, found bool, err error)
	// Save stores data until expiry and returns the token for the cookie.
	// token is nil for a new session (the store must then issue a fresh token
	// and never reuse one supplied by a browser) or the token Load accepted.
	Save(ctx context.Context, token, data []byte, expiry time.Time) (newToken []byte, err error)
	// Delete ends the session named by token. Deleting an unknown token is
	// not an error.
	Delete(ctx context.Context, token []byte) error
}
