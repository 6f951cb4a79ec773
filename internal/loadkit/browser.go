package loadkit

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// Browser is one user agent with a cookie jar, driving the example's
// development provider sign-in as the example's own tests do. Its cookies are
// host cookies of 127.0.0.1, so they reach every instance on that host
// whatever its port, as they would reach every instance behind one public
// URL.
type Browser struct {
	client *http.Client
	jar    *cookiejar.Jar
}

// NewBrowser returns a browser with an empty jar. Redirects are followed by
// the methods themselves, so that the sign-in can pick the user.
func NewBrowser(t http.RoundTripper) *Browser {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &Browser{
		jar: jar,
		client: &http.Client{
			Transport:     t,
			Jar:           jar,
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// NewTransport returns a keep-alive transport for up to conns connections per
// host.
func NewTransport(conns int) *http.Transport {
	return &http.Transport{
		MaxIdleConns:        conns * 4,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
}

// Status is a response's status and body, read in full.
type Status struct {
	Code int
	Body string
	URL  string // the final URL, after redirects
}

// do sends a request and follows redirects (GET after 302/303) up to 10.
func (b *Browser) do(req *http.Request) (Status, error) {
	for i := 0; i < 10; i++ {
		resp, err := b.client.Do(req)
		if err != nil {
			return Status{}, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return Status{}, err
		}
		switch resp.StatusCode {
		case http.StatusFound, http.StatusSeeOther, http.StatusMovedPermanently, http.StatusTemporaryRedirect:
			loc, err := resp.Location()
			if err != nil {
				return Status{}, fmt.Errorf("%s %s: redirect without Location", req.Method, req.URL)
			}
			if req, err = http.NewRequest(http.MethodGet, loc.String(), nil); err != nil {
				return Status{}, err
			}
			continue
		}
		return Status{Code: resp.StatusCode, Body: string(body), URL: req.URL.String()}, nil
	}
	return Status{}, fmt.Errorf("%s: too many redirects", req.URL)
}

// Get fetches url, following redirects.
func (b *Browser) Get(u string) (Status, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return Status{}, err
	}
	return b.do(req)
}

// SignIn signs in as subject (alice, bob or carol) through base's
// development provider and lands on base/healthz.
func (b *Browser) SignIn(base, subject string) error {
	resp, err := b.client.Get(base + "/auth/signin/dev?callbackUrl=%2Fhealthz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil {
		return fmt.Errorf("sign-in: /auth/signin/dev answered %d, not a redirect to the provider", resp.StatusCode)
	}
	q := loc.Query()
	q.Set("user", subject)
	loc.RawQuery = q.Encode()
	st, err := b.Get(loc.String())
	if err != nil {
		return fmt.Errorf("sign-in: %w", err)
	}
	if st.Code != http.StatusOK || !strings.HasSuffix(st.URL, "/healthz") {
		return fmt.Errorf("sign-in as %s ended with %d at %s", subject, st.Code, st.URL)
	}
	return nil
}

// SignOut signs out through base's POST /auth/signout (with the CSRF token
// from /auth/csrf), following the development provider's end-session round
// trip back to /healthz.
func (b *Browser) SignOut(base string) error {
	st, err := b.Get(base + "/auth/csrf")
	if err != nil {
		return err
	}
	var csrf struct {
		Token string `json:"csrfToken"`
	}
	if st.Code != http.StatusOK || json.Unmarshal([]byte(st.Body), &csrf) != nil || csrf.Token == "" {
		return fmt.Errorf("sign-out: /auth/csrf answered %d %q", st.Code, st.Body)
	}
	req, err := http.NewRequest(http.MethodPost, base+"/auth/signout", strings.NewReader(url.Values{"callbackUrl": {"/healthz"}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", csrf.Token)
	if st, err = b.do(req); err != nil {
		return fmt.Errorf("sign-out: %w", err)
	}
	if st.Code != http.StatusOK || !strings.HasSuffix(st.URL, "/healthz") {
		return fmt.Errorf("sign-out ended with %d at %s", st.Code, st.URL)
	}
	return nil
}

// CookieHeader is the Cookie header the jar sends to base.
func (b *Browser) CookieHeader(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	var parts []string
	for _, c := range b.jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// BackChannelLogout fetches a logout token for subject from the debug
// listener debug (the instance whose development provider is the issuer)
// and posts it to base's back-channel logout endpoint, as the provider would.
func BackChannelLogout(c *http.Client, debug, base, subject string) error {
	resp, err := c.Get(debug + "/debug/dev/logout-token?sub=" + url.QueryEscape(subject))
	if err != nil {
		return err
	}
	tok, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("logout token: %d %v", resp.StatusCode, err)
	}
	resp, err = c.PostForm(base+"/auth/backchannel-logout/dev", url.Values{"logout_token": {string(tok)}})
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("back-channel logout answered %d %q", resp.StatusCode, body)
	}
	return nil
}

// Stats is the example's GET /debug/stats.
type Stats struct {
	Goroutines  int    `json:"goroutines"`
	HeapAlloc   uint64 `json:"heapAlloc"`
	HeapInuse   uint64 `json:"heapInuse"`
	HeapObjects uint64 `json:"heapObjects"`
	NumGC       uint32 `json:"numGC"`
	Sys         uint64 `json:"sys"`
}

// ReadStats fetches the debug listener's figures after a garbage collection.
func ReadStats(c *http.Client, debug string) (Stats, error) {
	var s Stats
	resp, err := c.Get(debug + "/debug/stats?gc=1")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("/debug/stats answered %d", resp.StatusCode)
	}
	return s, json.NewDecoder(resp.Body).Decode(&s)
}
