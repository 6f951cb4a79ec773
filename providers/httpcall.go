package providers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/ginauth/ginauth/internal/errfmt"
)

// errSignedUserInfo: a UserInfo response of type application/jwt. go-oidc
// would check its signature with a key set of its own, outside ginauth's key
// hygiene, and check no claim of it; ginauth refuses such responses.
var errSignedUserInfo = errors.New("signed (application/jwt) UserInfo responses are not supported")

// httpCall is the HTTP client handed to go-oidc (oidc.ClientContext) for one
// discovery or UserInfo request: the provider's safe client (response cap,
// no redirects, timeouts) whose transport records what go-oidc does not
// expose. go-oidc returns the response headers to no one (ginauth needs
// Cache-Control for the discovery max age), and its errors are text that
// can carry the response body; from the record, ginauth names the failure
// itself, with errors.Is-able causes (safehttp.ErrResponseTooLarge, context
// errors) and without the body. One httpCall per request: nothing is shared.
type httpCall struct {
	client *http.Client

	refuseJWT bool        // fail a response of type application/jwt
	status    int         // 0 when no response came
	header    http.Header // of the response
	err       error       // transport error, or the body read error
}

func (p *OIDCProvider) newHTTPCall() *httpCall {
	c := &httpCall{}
	cp := *p.client
	base := cp.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cp.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(req)
		if err != nil {
			c.err = err
			return nil, err
		}
		c.status, c.header = resp.StatusCode, resp.Header
		if c.refuseJWT {
			if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/jwt" {
				resp.Body.Close()
				c.err = errSignedUserInfo
				return nil, c.err
			}
		}
		resp.Body = &recordingBody{ReadCloser: resp.Body, call: c}
		return resp, nil
	})
	c.client = &cp
	return c
}

// context returns ctx carrying the call's client for go-oidc.
func (c *httpCall) context(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, c.client)
}

// failure names why a request go-oidc reports as failed (oidcErr) failed,
// from the record: the transport or body error (the context's error when it
// ended), the HTTP status, or else an unusable document.
func (c *httpCall) failure(ctx context.Context, what string, oidcErr error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case c.err != nil:
		return c.err
	case c.status == 0:
		return fmt.Errorf("%s: request failed", what)
	case c.status != http.StatusOK:
		return fmt.Errorf("%s: HTTP %d", what, c.status)
	}
	var mismatch *oidc.IssuerMismatchError
	if errors.As(oidcErr, &mismatch) {
		return errfmt.Errorf("%w: %w: %s names issuer %q", ErrMisconfigured, ErrIssuerMismatch, what, truncate(mismatch.Discovered))
	}
	return fmt.Errorf("%s: malformed JSON", what)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// recordingBody records the first read error other than io.EOF (the size
// cap's safehttp.ErrResponseTooLarge, a timeout).
type recordingBody struct {
	io.ReadCloser
	call *httpCall
}

func (b *recordingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.call.err == nil {
		b.call.err = err
	}
	return n, err
}

// truncate shortens provider-controlled strings put into error messages.
func truncate(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
