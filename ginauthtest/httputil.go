package ginauthtest

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// randomToken returns n random bytes, base64url-encoded without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b64(b)
}

// allowMethods answers 405 and returns false unless r.Method is one of methods.
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// parseParams returns the request parameters: the query for GET, the
// url-encoded body merged with the query for POST. Bodies are bounded.
func parseParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r.Form, nil
}

// parsePostForm returns the url-encoded body of a POST request, requiring the
// application/x-www-form-urlencoded content type. Bodies are bounded.
func parsePostForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-www-form-urlencoded" {
		return nil, errors.New("content type must be application/x-www-form-urlencoded")
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r.PostForm, nil
}

// repeatedParam returns the name of a parameter that appears more than once
// (forbidden by RFC 6749 §3.1), or "".
func repeatedParam(v url.Values) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(v[k]) > 1 {
			return k
		}
	}
	return ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "cannot encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeJSONError writes an OAuth 2.0 error response.
func writeJSONError(w http.ResponseWriter, status int, code, description string) {
	body := map[string]string{"error": code}
	if description != "" {
		body["error_description"] = description
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, body)
}

// streamBody writes exactly n bytes of unterminated JSON ('{"a":"xxx...') in
// chunks, without holding n bytes in memory. It stops early when the client
// goes away or the provider closes.
func (p *Provider) streamBody(w http.ResponseWriter, r *http.Request, n int) {
	rc := http.NewResponseController(w)
	if !p.trackStream(rc) {
		writeJSONError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "provider closed")
		return
	}
	defer p.untrackStream(rc)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	const prefix = `{"a":"`
	chunk := make([]byte, 32<<10)
	for i := range chunk {
		chunk[i] = 'x'
	}
	first := []byte(prefix)
	if n < len(first) {
		first = first[:n]
	}
	if _, err := w.Write(first); err != nil {
		return
	}
	n -= len(first)
	for n > 0 {
		select {
		case <-r.Context().Done():
			return
		case <-p.closing:
			return
		default:
		}
		c := chunk
		if n < len(c) {
			c = c[:n]
		}
		if _, err := w.Write(c); err != nil {
			return
		}
		n -= len(c)
	}
}

// appendQuery returns rawURL with params appended to its query, keeping the
// existing query string untouched.
func appendQuery(rawURL string, params url.Values) string {
	if len(params) == 0 {
		return rawURL
	}
	sep := "?"
	if strings.Contains(rawURL, "?") {
		sep = "&"
		if strings.HasSuffix(rawURL, "?") || strings.HasSuffix(rawURL, "&") {
			sep = ""
		}
	}
	return rawURL + sep + params.Encode()
}

// validHTTPURL reports whether s is an absolute http(s) URL without fragment
// or user info.
func validHTTPURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		u.Fragment == "" && !strings.Contains(s, "#") && u.User == nil
}

// allowedURI reports whether uri is acceptable: an exact member of registered,
// or, when nothing is registered, any absolute http(s) URL.
func allowedURI(uri string, registered []string) bool {
	if uri == "" {
		return false
	}
	if len(registered) == 0 {
		return validHTTPURL(uri)
	}
	for _, r := range registered {
		if r == uri {
			return true
		}
	}
	return false
}

// trackStream registers a streaming handler so that Close can unblock it. It
// returns false if the provider is already closing.
func (p *Provider) trackStream(rc *http.ResponseController) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.closing:
		return false
	default:
	}
	p.streams[rc] = struct{}{}
	return true
}

func (p *Provider) untrackStream(rc *http.ResponseController) {
	p.mu.Lock()
	delete(p.streams, rc)
	p.mu.Unlock()
}
