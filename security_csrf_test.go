package ginauth_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
)

// CSRF on sign-in and sign-out: SECURITY.md CS-1 .. CS-4.

// signedInBrowser returns a signed-in browser and its session cookie value.
func (a *testApp) signedInBrowser(t *testing.T) (*browser, string) {
	t.Helper()
	b := a.browserT(t)
	b.mustSignIn()
	return b, b.cookie(sessionCookieName)
}

// wantSessionUnchanged asserts that a refused request left the session alone.
func wantSessionUnchanged(t *testing.T, b *browser, r result, before string) {
	t.Helper()
	for _, c := range setCookies(t, r) {
		if c.Name == sessionCookieName || strings.HasPrefix(c.Name, sessionCookieName+".") {
			t.Errorf("refused request sets %q", c.raw)
		}
	}
	if got := b.cookie(sessionCookieName); got != before {
		t.Error("session cookie changed")
	}
	if !b.signedIn() {
		t.Error("session ended by a refused request")
	}
}

// TestCS1_SignOutWithoutValidTokenRefused: POST /auth/signout without a
// token, or with a token of another browser or session, is 403 and leaves
// the session as it was.
func TestCS1_SignOutWithoutValidTokenRefused(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name  string
		token func(t *testing.T, victim *browser) string // "" sends none
		json  bool
		hdr   bool // send the token as X-CSRF-Token
	}{
		{name: "no token", token: func(*testing.T, *browser) string { return "" }},
		{name: "no token (JSON)", token: func(*testing.T, *browser) string { return "" }, json: true},
		{name: "garbage token", token: func(*testing.T, *browser) string { return "abc" }},
		{name: "43 characters of garbage", token: func(*testing.T, *browser) string { return strings.Repeat("A", 43) }},
		{name: "token of another browser and session", token: func(t *testing.T, _ *browser) string {
			other, _ := a.signedInBrowser(t)
			return other.csrf()
		}},
		{name: "token of another browser and session (header)", hdr: true, token: func(t *testing.T, _ *browser) string {
			other, _ := a.signedInBrowser(t)
			return other.csrf()
		}},
		{name: "token of another browser and session (JSON)", json: true, token: func(t *testing.T, _ *browser) string {
			other, _ := a.signedInBrowser(t)
			return other.csrf()
		}},
		{name: "token of another session with the same CSRF cookie", token: func(t *testing.T, victim *browser) string {
			victim.csrf()
			other := a.browserT(t)
			other.setCookie(csrfCookieName, victim.cookie(csrfCookieName))
			other.mustSignIn()
			return other.csrf()
		}},
		{name: "anonymous token with the same CSRF cookie", token: func(t *testing.T, victim *browser) string {
			victim.csrf()
			other := a.browserT(t)
			other.setCookie(csrfCookieName, victim.cookie(csrfCookieName))
			return other.csrf()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			victim, before := a.signedInBrowser(t)
			tok := tc.token(t, victim)
			var r result
			switch {
			case tc.json:
				body, _ := json.Marshal(map[string]string{"csrfToken": tok, "callbackUrl": "/"})
				r = victim.postJSON("/auth/signout", string(body))
			case tc.hdr:
				r = victim.post("/auth/signout", url.Values{"callbackUrl": {"/"}}, "X-CSRF-Token", tok)
			default:
				form := url.Values{"callbackUrl": {"/"}}
				if tok != "" {
					form.Set("csrfToken", tok)
				}
				r = victim.post("/auth/signout", form)
			}
			if r.status != http.StatusForbidden || r.location() != "" {
				t.Fatalf("got %d %q, want 403 without Location", r.status, r.location())
			}
			if tc.json && r.body != `{"error":"csrf"}` {
				t.Errorf("JSON body %q", r.body)
			}
			wantSessionUnchanged(t, victim, r, before)
		})
	}
}

// TestCS1_TokenFromBeforeSignInRejectedAfter: a token minted before sign-in
// is bound to the anonymous session and fails afterwards.
func TestCS1_TokenFromBeforeSignInRejectedAfter(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name string
		via  string // form, header, json
	}{
		{"form field", "form"},
		{"header", "header"},
		{"JSON", "json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := a.browserT(t)
			old := b.csrf()
			b.mustSignIn()
			before := b.cookie(sessionCookieName)
			var r result
			switch tc.via {
			case "form":
				r = b.post("/auth/signout", url.Values{"csrfToken": {old}})
			case "header":
				r = b.post("/auth/signout", nil, "X-CSRF-Token", old)
			case "json":
				r = b.postJSON("/auth/signout", `{"csrfToken":"`+old+`"}`)
			}
			if r.status != http.StatusForbidden {
				t.Fatalf("old token: %d, want 403", r.status)
			}
			wantSessionUnchanged(t, b, r, before)
			// Control: a fresh token works.
			if r := b.post("/auth/signout", url.Values{"csrfToken": {b.csrf()}}); r.status != http.StatusSeeOther || r.location() != a.base+"/" {
				t.Fatalf("fresh token: %d %q", r.status, r.location())
			}
			if b.signedIn() {
				t.Error("still signed in")
			}
		})
	}
}

// TestCS1_JSONSignOutWithHeaderToken: the JSON form of sign-out takes the
// token from X-CSRF-Token and answers {"url": ...}.
func TestCS1_JSONSignOutWithHeaderToken(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name, body, wantURL string
	}{
		{"with callbackUrl", `{"callbackUrl":"/dashboard"}`, "/dashboard"},
		{"without callbackUrl", `{}`, "/"},
		{"hostile callbackUrl", `{"callbackUrl":"//evil.com"}`, "/"},
		{"with revokeToken", `{"callbackUrl":"/dashboard?x=1","revokeToken":true}`, "/dashboard?x=1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, _ := a.signedInBrowser(t)
			r := b.postJSON("/auth/signout", tc.body, "X-CSRF-Token", b.csrf())
			if r.status != http.StatusOK {
				t.Fatalf("status %d %s", r.status, r.body)
			}
			var got map[string]string
			if err := json.Unmarshal([]byte(r.body), &got); err != nil || len(got) != 1 || got["url"] != a.base+tc.wantURL {
				t.Errorf("body %s, want {\"url\":%q}", r.body, a.base+tc.wantURL)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
				t.Errorf("Cache-Control %q", cc)
			}
			if !clearsCookie(findSetCookie(t, r, sessionCookieName)) {
				t.Error("session cookie not cleared")
			}
			if b.signedIn() {
				t.Error("still signed in")
			}
		})
	}
}

// TestCS2_CrossSiteOriginRefused: a valid token does not help a request the
// browser marks as cross-site (Origin, Sec-Fetch-Site).
func TestCS2_CrossSiteOriginRefused(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	baseURL, _ := url.Parse(a.base)
	cases := []struct {
		name       string
		hdr        []string
		wantStatus int
	}{
		{"Origin evil.com", []string{"Origin", "https://evil.com"}, http.StatusForbidden},
		{"Origin null", []string{"Origin", "null"}, http.StatusForbidden},
		{"Origin same host over http", []string{"Origin", "http://" + baseURL.Host}, http.StatusForbidden},
		{"Origin with the app as a subdomain prefix", []string{"Origin", a.base + ".evil.com"}, http.StatusForbidden},
		{"Sec-Fetch-Site cross-site", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"Sec-Fetch-Site same-site", []string{"Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
		{"same Origin but Sec-Fetch-Site cross-site", []string{"Origin", a.base, "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"Origin evil.com with Sec-Fetch-Site same-origin", []string{"Origin", "https://evil.com", "Sec-Fetch-Site", "same-origin"}, http.StatusForbidden},
		// Where http.CrossOriginProtection alone would differ: it believes
		// Sec-Fetch-Site over Origin, compares Origin's host only, and a
		// trusted origin would pass whatever Sec-Fetch-Site says.
		{"same Origin but Sec-Fetch-Site same-site", []string{"Origin", a.base, "Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
		{"Origin null with Sec-Fetch-Site same-origin", []string{"Origin", "null", "Sec-Fetch-Site", "same-origin"}, http.StatusForbidden},
		{"Origin same host over http with Sec-Fetch-Site same-origin", []string{"Origin", "http://" + baseURL.Host, "Sec-Fetch-Site", "same-origin"}, http.StatusForbidden},
		{"Sec-Fetch-Site of an unknown value", []string{"Sec-Fetch-Site", "same-origin, cross-site"}, http.StatusForbidden},
		{"control: same origin", []string{"Origin", a.base, "Sec-Fetch-Site", "same-origin"}, http.StatusSeeOther},
		{"control: same origin from a browser without Sec-Fetch-Site", []string{"Origin", a.base}, http.StatusSeeOther},
		{"control: Sec-Fetch-Site none (user-initiated)", []string{"Sec-Fetch-Site", "none"}, http.StatusSeeOther},
		{"control: no fetch metadata", nil, http.StatusSeeOther},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, before := a.signedInBrowser(t)
			form := url.Values{"csrfToken": {b.csrf()}, "callbackUrl": {"/dashboard"}}
			r := b.post("/auth/signout", form, tc.hdr...)
			if r.status != tc.wantStatus {
				t.Fatalf("status %d, want %d", r.status, tc.wantStatus)
			}
			if tc.wantStatus == http.StatusForbidden {
				if r.location() != "" {
					t.Errorf("Location %q", r.location())
				}
				wantSessionUnchanged(t, b, r, before)
				return
			}
			if r.location() != a.base+"/dashboard" || b.signedIn() {
				t.Errorf("control: Location %q, signed in %v", r.location(), b.signedIn())
			}
		})
	}
}

// postWithHost is b.post with the request's Host set to host, as a reverse
// proxy in front of the app may send it. The client's cookie jar would go by
// that Host, so the browser's cookies for the app's URL are sent and stored
// here.
func (b *browser) postWithHost(host, path string, form url.Values, hdr ...string) result {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.abs(path), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Host = host
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	for _, c := range b.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	noJar := &http.Client{Transport: b.single.Transport, Timeout: b.single.Timeout, CheckRedirect: b.single.CheckRedirect}
	r := b.do(noJar, req)
	b.jar.SetCookies(req.URL, (&http.Response{Header: r.header}).Cookies())
	return r
}

// TestCS2_OriginIsBaseURLNotHost: the app's origin is Config.BaseURL, not
// the Host the request arrives with (behind a proxy they may differ): an
// Origin of BaseURL passes and an Origin matching only the Host does not.
func TestCS2_OriginIsBaseURLNotHost(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	const host = "backend.internal:8080"
	cases := []struct {
		name       string
		hdr        []string
		wantStatus int
	}{
		{"Origin BaseURL without Sec-Fetch-Site", []string{"Origin", a.base}, http.StatusSeeOther},
		{"Origin BaseURL with Sec-Fetch-Site same-origin", []string{"Origin", a.base, "Sec-Fetch-Site", "same-origin"}, http.StatusSeeOther},
		{"no fetch metadata", nil, http.StatusSeeOther},
		{"Origin matching the Host without Sec-Fetch-Site", []string{"Origin", "https://" + host}, http.StatusForbidden},
		{"Origin matching the Host over http", []string{"Origin", "http://" + host}, http.StatusForbidden},
		{"Origin BaseURL with Sec-Fetch-Site cross-site", []string{"Origin", a.base, "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, before := a.signedInBrowser(t)
			form := url.Values{"csrfToken": {b.csrf()}, "callbackUrl": {"/dashboard"}}
			r := b.postWithHost(host, "/auth/signout", form, tc.hdr...)
			if r.status != tc.wantStatus {
				t.Fatalf("status %d, want %d", r.status, tc.wantStatus)
			}
			if tc.wantStatus == http.StatusForbidden {
				wantSessionUnchanged(t, b, r, before)
				return
			}
			if r.location() != a.base+"/dashboard" || b.signedIn() {
				t.Errorf("Location %q, signed in %v", r.location(), b.signedIn())
			}
		})
	}
}

// TestCS2_CheckCSRFOnSafeMethods: http.CrossOriginProtection lets GET, HEAD
// and OPTIONS through; CheckCSRF, asked only about state-changing requests,
// checks the origin whatever the method of the request it is given.
func TestCS2_CheckCSRFOnSafeMethods(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.router.Match([]string{http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete}, "/checked",
		func(c *gin.Context) {
			if err := a.auth.CheckCSRF(c, ""); err != nil {
				if !errors.Is(err, ginauth.ErrCSRF) {
					t.Errorf("error %v does not wrap ErrCSRF", err)
				}
				c.Status(http.StatusForbidden)
				return
			}
			c.Status(http.StatusNoContent)
		})
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete} {
		for _, tc := range []struct {
			name       string
			hdr        []string
			wantStatus int
		}{
			{"Sec-Fetch-Site cross-site", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
			{"Sec-Fetch-Site same-site", []string{"Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
			{"Origin evil.com", []string{"Origin", "https://evil.com"}, http.StatusForbidden},
			{"control: same origin", []string{"Origin", a.base, "Sec-Fetch-Site", "same-origin"}, http.StatusNoContent},
		} {
			t.Run(method+" "+tc.name, func(t *testing.T) {
				t.Parallel()
				b, _ := a.signedInBrowser(t)
				req, err := http.NewRequest(method, b.abs("/checked"), nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("X-CSRF-Token", b.csrf())
				for i := 0; i+1 < len(tc.hdr); i += 2 {
					req.Header.Set(tc.hdr[i], tc.hdr[i+1])
				}
				if r := b.do(b.single, req); r.status != tc.wantStatus {
					t.Fatalf("status %d, want %d", r.status, tc.wantStatus)
				}
			})
		}
	}
}

// TestCS3_GetSignOutShowsFormOnly: GET /auth/signout (a link, an <img>, even
// with a valid token in the query) never signs out; it shows a page with a
// POST form.
func TestCS3_GetSignOutShowsFormOnly(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name  string
		query func(b *browser) string
		hdr   []string
	}{
		{"plain GET", func(*browser) string { return "" }, nil},
		{"img from another site", func(*browser) string { return "" }, []string{
			"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Dest", "image", "Sec-Fetch-Mode", "no-cors", "Accept", "image/avif,image/webp,*/*"}},
		{"GET with a valid token and callbackUrl", func(b *browser) string {
			return "?csrfToken=" + url.QueryEscape(b.csrf()) + "&callbackUrl=%2Fdashboard&revokeToken=true"
		}, nil},
		{"GET with a hostile callbackUrl", func(*browser) string { return "?callbackUrl=https%3A%2F%2Fevil.com" }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, before := a.signedInBrowser(t)
			r := b.get("/auth/signout"+tc.query(b), tc.hdr...)
			if r.status != http.StatusOK || r.location() != "" {
				t.Fatalf("got %d %q, want 200 page", r.status, r.location())
			}
			if !strings.Contains(r.body, `<form method="post" action="`+a.base+`/auth/signout">`) ||
				!strings.Contains(r.body, `name="csrfToken" value="`) {
				t.Errorf("page lacks the POST form with a CSRF token:\n%s", r.body)
			}
			if strings.Contains(r.body, "evil.com") {
				t.Error("page carries the hostile callbackUrl")
			}
			wantSessionUnchanged(t, b, r, before)
		})
	}
	t.Run("the form's token signs out", func(t *testing.T) {
		b, _ := a.signedInBrowser(t)
		page := b.get("/auth/signout")
		_, rest, _ := strings.Cut(page.body, `name="csrfToken" value="`)
		tok, _, _ := strings.Cut(rest, `"`)
		if r := b.post("/auth/signout", url.Values{"csrfToken": {tok}}); r.status != http.StatusSeeOther || b.signedIn() {
			t.Errorf("POST with the page's token: %d, signed in %v", r.status, b.signedIn())
		}
	})
}

// TestCS4_SignInNeedsTokenAndIgnoresCallerState: a POST to
// /auth/signin/test needs a valid same-origin token; a GET never takes the
// state (or any other flow value) from the caller.
func TestCS4_SignInNeedsTokenAndIgnoresCallerState(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	post := []struct {
		name       string
		do         func(b *browser) result
		wantStatus int
	}{
		{"auto-submitted form without a token", func(b *browser) result {
			return b.post("/auth/signin/test", url.Values{"callbackUrl": {"/dashboard"}}, "Origin", "https://evil.com", "Sec-Fetch-Site", "cross-site")
		}, http.StatusForbidden},
		{"form without a token", func(b *browser) result {
			return b.post("/auth/signin/test", url.Values{"callbackUrl": {"/dashboard"}})
		}, http.StatusForbidden},
		{"JSON without a token", func(b *browser) result {
			return b.postJSON("/auth/signin/test", `{"callbackUrl":"/dashboard"}`)
		}, http.StatusForbidden},
		{"valid token sent cross-site", func(b *browser) result {
			return b.post("/auth/signin/test", url.Values{"csrfToken": {b.csrf()}}, "Origin", "https://evil.com")
		}, http.StatusForbidden},
		{"token of another browser", func(b *browser) result {
			return b.post("/auth/signin/test", url.Values{"csrfToken": {a.browserT(t).csrf()}})
		}, http.StatusForbidden},
		{"control: valid token", func(b *browser) result {
			return b.post("/auth/signin/test", url.Values{"csrfToken": {b.csrf()}, "callbackUrl": {"/dashboard"}})
		}, http.StatusSeeOther},
	}
	for _, tc := range post {
		t.Run("POST "+tc.name, func(t *testing.T) {
			t.Parallel()
			b := a.browserT(t)
			r := tc.do(b)
			if r.status != tc.wantStatus {
				t.Fatalf("status %d, want %d", r.status, tc.wantStatus)
			}
			var flow bool
			for _, c := range setCookies(t, r) {
				flow = flow || strings.HasPrefix(c.Name, flowCookiePrefix)
			}
			if tc.wantStatus == http.StatusForbidden {
				if r.location() != "" || flow {
					t.Errorf("refused sign-in: Location %q, flow cookie %v", r.location(), flow)
				}
				return
			}
			if !strings.HasPrefix(r.location(), a.op.URL("/authorize?")) || !flow {
				t.Errorf("control: Location %q, flow cookie %v", r.location(), flow)
			}
		})
	}

	get := []struct {
		name  string
		query string
	}{
		{"state", "?state=KNOWN"},
		{"state and callbackUrl", "?callbackUrl=%2Fdashboard&state=KNOWN"},
		{"every flow parameter", "?state=KNOWN&nonce=KNOWN&code_challenge=KNOWN&code_verifier=KNOWN&redirect_uri=https%3A%2F%2Fevil.example%2Fcb"},
		{"state twice", "?state=KNOWN&state=KNOWN"},
	}
	for _, tc := range get {
		t.Run("GET with caller-supplied "+tc.name, func(t *testing.T) {
			t.Parallel()
			b := a.browserT(t)
			r := b.get("/auth/signin/test" + tc.query)
			if r.status != http.StatusFound || !strings.HasPrefix(r.location(), a.op.URL("/authorize?")) {
				t.Fatalf("got %d %q", r.status, r.location())
			}
			for _, key := range []string{"state", "nonce", "code_challenge"} {
				if v := queryParam(t, r.location(), key); v == "KNOWN" || len(v) < 43 {
					t.Errorf("%s sent to the provider is %q", key, v)
				}
			}
			if v := queryParam(t, r.location(), "redirect_uri"); v != a.base+"/auth/callback/test" {
				t.Errorf("redirect_uri %q", v)
			}
			// The flow completes with the generated state only.
			cb := b.authorize(r.location())
			if got := queryParam(t, cb, "state"); got == "KNOWN" {
				t.Error("the provider saw the caller's state")
			}
			// The caller's state itself is not accepted at the callback.
			forged := withParam(cb, "state", "KNOWN")
			a.wantFailedWith(t, a.browserT(t).get(forged), "invalid_state")
			if r := b.get(cb); r.status != http.StatusFound || !strings.HasPrefix(r.location(), a.base+"/") || strings.Contains(r.location(), "error=") {
				t.Errorf("callback with the generated state: %d %q", r.status, r.location())
			}
		})
	}
}
