package store

import (
	"context"
)

// Cookie is the default, stateless store: the whole session travels in
// sealed cookies. It needs no server state and scales to any number of
// instances, but a session cannot be ended on the server before it expires.
//
// Because it reports ClientSide, ginauth handles it directly: the session
// cookie carries the user and the times, and a second sealed cookie, bound to
// the session, carries the provider tokens, so requests decrypt only the
// small part they need. Its Load, Save and Delete exist to satisfy Store and
// are identities.
type Cookie struct{}

// NewCookie returns the cookie store.
func NewCookie() *Cookie { return &Cookie{} }

// Load implements Store: the token is the session.
func (*Cookie) Load(_ context.Context, token []byte) ([]byte, bool, error) {
	return token, len(token) > 0, nil
}

// Save implements Store: the session is the token.
func (*Cookie) Save(_ context.Context, _ []byte, rec Record) ([]byte, error) {
	return rec.Data, nil
}

// Delete implements Store. The browser's cookie is cleared by ginauth.
func (*Cookie) Delete(context.Context, []byte) error { return nil }

// ClientSide reports that sessions live in the browser.
func (*Cookie) ClientSide() bool { return true }
