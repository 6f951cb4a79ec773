// Package safehttp builds HTTP clients for calls to identity providers
// (discovery, JWKS, token, UserInfo and revocation endpoints).
//
// The clients have bounded timeouts, never follow redirects and cap every
// response body at MaxBody bytes: reading past the cap fails with
// ErrResponseTooLarge instead of truncating silently.
package safehttp

import (
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// DefaultTimeout is the overall timeout of a client built with a zero timeout.
const DefaultTimeout = 10 * time.Second

// MaxBody is the largest response body, in bytes, a client returns.
const MaxBody = 1 << 20

// Per-phase limits; each is capped by the client's overall timeout.
const (
	dialTimeout           = 5 * time.Second
	tlsHandshakeTimeout   = 5 * time.Second
	responseHeaderTimeout = 5 * time.Second
)

// ErrResponseTooLarge is returned when reading a response body past MaxBody.
var ErrResponseTooLarge = errors.New("ginauth: provider response too large")

// NewClient returns a client for calls to identity providers. timeout is the
// overall limit of a request, body included (DefaultTimeout when zero or
// negative). Dialing, the TLS handshake and waiting for the response headers
// are each limited to 5 s, or to timeout when that is shorter. Redirects are
// not followed: the 3xx response is returned as is. Every response body is
// capped at MaxBody bytes.
//
// The client has its own Transport, cloned from http.DefaultTransport's
// settings and not shared with any other client.
func NewClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	t := baseTransport()
	dialer := &net.Dialer{Timeout: min(dialTimeout, timeout), KeepAlive: 30 * time.Second}
	t.DialContext = dialer.DialContext
	t.TLSHandshakeTimeout = min(tlsHandshakeTimeout, timeout)
	t.ResponseHeaderTimeout = min(responseHeaderTimeout, timeout)
	return &http.Client{
		Transport:     &capTransport{base: t},
		CheckRedirect: noRedirect,
		Timeout:       timeout,
	}
}

// Wrap returns a copy of c whose Transport caps response bodies at MaxBody and
// that follows no redirects. c itself is not modified. A nil c gives
// NewClient(0); a c without a timeout gets DefaultTimeout, so that a
// user-supplied client can never hang a request forever.
func Wrap(c *http.Client) *http.Client {
	if c == nil {
		return NewClient(0)
	}
	cp := *c
	cp.CheckRedirect = noRedirect
	if cp.Timeout <= 0 {
		cp.Timeout = DefaultTimeout
	}
	if _, ok := cp.Transport.(*capTransport); !ok {
		base := cp.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		cp.Transport = &capTransport{base: base}
	}
	return &cp
}

// ReadAll reads r to the end and returns what it read. It fails with
// ErrResponseTooLarge when r holds more than MaxBody bytes, whether or not r
// is a body from a client of this package.
func ReadAll(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxBody {
		return nil, ErrResponseTooLarge
	}
	return b, nil
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// baseTransport returns a fresh transport with http.DefaultTransport's
// settings.
func baseTransport() *http.Transport {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		return t.Clone()
	}
	// http.DefaultTransport was replaced by something else: rebuild the
	// standard library's defaults.
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
}

// capTransport wraps every response body in a cappedBody.
type capTransport struct {
	base http.RoundTripper
}

func (t *capTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp == nil || resp.Body == nil {
		return resp, err
	}
	cb := &cappedBody{rc: resp.Body, left: MaxBody}
	if resp.ContentLength > MaxBody {
		// Declared too large: fail on the first read without reading.
		cb.err = ErrResponseTooLarge
	}
	resp.Body = cb
	return resp, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the base
// transport.
func (t *capTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// cappedBody returns ErrResponseTooLarge once more than MaxBody bytes would
// be read. It never reads more than one byte past the cap from rc.
type cappedBody struct {
	rc   io.ReadCloser
	left int64 // bytes still allowed
	err  error // sticky error
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	// Ask for at most one byte more than allowed, to tell "exactly at the
	// cap" from "over it".
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) > b.left {
		n = int(b.left)
		b.left = 0
		b.err = ErrResponseTooLarge
		return n, b.err
	}
	b.left -= int64(n)
	if err != nil {
		b.err = err
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }
