package ginauthtest

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
)

// inProcess is an http.RoundTripper that hands each request to the handler
// serving its origin, in the caller's goroutine: no listener, no socket, no
// port. It refuses requests for any other origin, so that a test never
// reaches the network by mistake.
type inProcess struct {
	handlers map[string]http.Handler // by origin: "scheme://host[:port]"
}

// remoteAddr is the client address the handlers see (TEST-NET-1, as
// httptest.NewRequest uses).
const remoteAddr = "192.0.2.1:1234"

// origin is u's scheme and host, lower-cased: the key of inProcess.handlers.
func origin(u *url.URL) string {
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// RoundTrip serves r with the handler of its origin and returns the
// recorded response.
func (t *inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("ginauthtest: reading the request body: %w", err)
		}
	}
	h := t.handlers[origin(r.URL)]
	if h == nil {
		return nil, fmt.Errorf("ginauthtest: %s is not served in-process: this client reaches only %s", origin(r.URL), strings.Join(t.origins(), " and "))
	}

	sr := r.Clone(r.Context())
	sr.URL = &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	sr.RequestURI = sr.URL.RequestURI()
	if sr.Host == "" {
		sr.Host = r.URL.Host
	}
	sr.Proto, sr.ProtoMajor, sr.ProtoMinor = "HTTP/1.1", 1, 1
	sr.RemoteAddr = remoteAddr
	sr.Body = io.NopCloser(bytes.NewReader(body))
	sr.ContentLength = int64(len(body))
	sr.GetBody = nil
	sr.Close = false
	if r.URL.Scheme == "https" {
		sr.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true, ServerName: r.URL.Hostname()}
	}

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, sr)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// origins lists the origins t serves, sorted.
func (t *inProcess) origins() []string {
	out := make([]string, 0, len(t.handlers))
	for o := range t.handlers {
		out = append(out, o)
	}
	slices.Sort(out)
	return out
}
