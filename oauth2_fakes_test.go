package ginauth_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/providers"
)

// A fake OAuth 2.0 authorization server that answers like GitHub, Discord
// or a plain RFC 6749 server (kind), on a loopback http listener.
//
//   - github: /login/oauth/authorize, /login/oauth/access_token (JSON only
//     with Accept: application/json; errors as 200 {"error": ...}), REST API
//     under /api/v3 (GitHub Enterprise Server's layout): /user,
//     /user/emails, /user/orgs, /user/teams (paginated with Link headers),
//     DELETE /applications/<client_id>/token (basic auth, 204).
//   - discord: /oauth2/authorize, /api/oauth2/token, /api/users/@me,
//     /api/oauth2/token/revoke (RFC 7009).
//   - generic: /authorize, /token, /userinfo, /revoke.

type fakeUser struct {
	ID     int64  // GitHub numeric id / Discord snowflake
	Login  string // GitHub login / Discord username / generic sub
	Name   string // GitHub name / Discord global_name
	Emails []fakeEmail
	Orgs   []string
	Teams  []string // org/slug
	Groups []string // generic
}

type fakeEmail struct {
	Email             string
	Primary, Verified bool
}

type fakeCode struct {
	challenge, method, redirectURI string
	user                           *fakeUser
}

type fakeOAuth struct {
	t        *testing.T
	kind     string
	srv      *httptest.Server
	clientID string
	secret   string

	mu        sync.Mutex
	user      *fakeUser // who signs in next
	codes     map[string]fakeCode
	access    map[string]*fakeUser
	refresh   map[string]*fakeUser
	revoked   []string
	requests  []*http.Request // every request, cloned, with body form parsed
	tokenHook func(w http.ResponseWriter, r *http.Request) bool
	apiHook   func(w http.ResponseWriter, r *http.Request) bool
	pageSize  int
	issueRT   bool // issue refresh tokens with expires_in (GitHub Apps)
	expiresIn int
}

func newFakeOAuth(t *testing.T, kind string) *fakeOAuth {
	f := &fakeOAuth{t: t, kind: kind, clientID: "client-" + kind, secret: "secret-" + kind,
		codes: map[string]fakeCode{}, access: map[string]*fakeUser{}, refresh: map[string]*fakeUser{},
		pageSize: 2, expiresIn: 3600,
		user: &fakeUser{ID: 583231, Login: "octocat", Name: "The Octocat",
			Emails: []fakeEmail{{"other@example.com", false, true}, {"octocat@example.com", true, true}}}}
	if kind == "discord" {
		f.issueRT = true
		f.user = &fakeUser{ID: 80351110224678912, Login: "nelly", Name: "Nelly",
			Emails: []fakeEmail{{"nelly@example.com", true, true}}}
	}
	if kind == "generic" {
		f.issueRT = true
		f.user = &fakeUser{Login: "user-1", Name: "Generic User", Emails: []fakeEmail{{"u1@example.com", true, true}}, Groups: []string{"admin"}}
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOAuth) URL() string { return f.srv.URL }

func (f *fakeOAuth) setUser(u *fakeUser) { f.mu.Lock(); f.user = u; f.mu.Unlock() }

func randToken(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// reqs returns the recorded requests whose path ends with suffix.
func (f *fakeOAuth) reqs(suffix string) []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*http.Request
	for _, r := range f.requests {
		if strings.HasSuffix(r.URL.Path, suffix) {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeOAuth) paths() (authorize, token, user, revoke string) {
	switch f.kind {
	case "github":
		return "/login/oauth/authorize", "/login/oauth/access_token", "/api/v3/user", ""
	case "discord":
		return "/oauth2/authorize", "/api/oauth2/token", "/api/users/@me", "/api/oauth2/token/revoke"
	}
	return "/authorize", "/token", "/userinfo", "/revoke"
}

func (f *fakeOAuth) serve(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	f.requests = append(f.requests, r.Clone(r.Context()))
	f.mu.Unlock()
	authorize, token, user, revoke := f.paths()
	switch {
	case r.URL.Path == authorize && r.Method == http.MethodGet:
		f.authorize(w, r)
	case r.URL.Path == token && r.Method == http.MethodPost:
		if f.tokenHook != nil && f.tokenHook(w, r) {
			return
		}
		f.token(w, r)
	case revoke != "" && r.URL.Path == revoke && r.Method == http.MethodPost:
		f.rfc7009Revoke(w, r)
	case f.kind == "github" && r.Method == http.MethodDelete && r.URL.Path == "/api/v3/applications/"+f.clientID+"/token":
		f.githubDelete(w, r)
	default:
		if f.apiHook != nil && f.apiHook(w, r) {
			return
		}
		u := f.bearer(w, r)
		if u == nil {
			return
		}
		switch r.URL.Path {
		case user:
			f.userJSON(w, u)
		case "/api/v3/user/emails":
			var out []map[string]any
			for _, e := range u.Emails {
				out = append(out, map[string]any{"email": e.Email, "primary": e.Primary, "verified": e.Verified, "visibility": nil})
			}
			if out == nil {
				out = []map[string]any{}
			}
			writeJSON(w, http.StatusOK, out)
		case "/api/v3/user/orgs":
			var all []any
			for _, o := range u.Orgs {
				all = append(all, map[string]any{"login": o, "id": 1})
			}
			f.page(w, r, all)
		case "/api/v3/user/teams":
			var all []any
			for _, t := range u.Teams {
				org, slug, _ := strings.Cut(t, "/")
				all = append(all, map[string]any{"slug": slug, "name": strings.ToUpper(slug), "organization": map[string]any{"login": org}})
			}
			f.page(w, r, all)
		default:
			http.NotFound(w, r)
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeOAuth) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != f.clientID || q.Get("response_type") != "code" || q.Get("redirect_uri") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	code := randToken("code-")
	f.mu.Lock()
	f.codes[code] = fakeCode{challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method"), redirectURI: q.Get("redirect_uri"), user: f.user}
	f.mu.Unlock()
	back, _ := url.Parse(q.Get("redirect_uri"))
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// tokenError answers a token endpoint error the provider's way: GitHub
// with 200 and an error field, the others with 400.
func (f *fakeOAuth) tokenError(w http.ResponseWriter, code string) {
	status := http.StatusBadRequest
	if f.kind == "github" {
		status = http.StatusOK
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": "refused by the fake"})
}

func (f *fakeOAuth) clientOK(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	return id == f.clientID && secret == f.secret
}

func (f *fakeOAuth) token(w http.ResponseWriter, r *http.Request) {
	if !f.clientOK(r) {
		if f.kind == "github" {
			f.tokenError(w, "incorrect_client_credentials")
		} else {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		}
		return
	}
	if f.kind == "github" && r.Header.Get("Accept") != "application/json" {
		// GitHub's default answer is form-encoded.
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		_, _ = w.Write([]byte("error=not_json_accept"))
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var u *fakeUser
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		c, ok := f.codes[r.PostForm.Get("code")]
		delete(f.codes, r.PostForm.Get("code"))
		if !ok || c.redirectURI != r.PostForm.Get("redirect_uri") {
			f.tokenError(w, map[bool]string{true: "bad_verification_code", false: "invalid_grant"}[f.kind == "github"])
			return
		}
		if c.challenge != "" {
			sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
			if c.method != "S256" || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
				f.tokenError(w, "invalid_grant")
				return
			}
		}
		u = c.user
	case "refresh_token":
		var ok bool
		u, ok = f.refresh[r.PostForm.Get("refresh_token")]
		delete(f.refresh, r.PostForm.Get("refresh_token"))
		if !ok {
			f.tokenError(w, map[bool]string{true: "bad_refresh_token", false: "invalid_grant"}[f.kind == "github"])
			return
		}
	default:
		f.tokenError(w, "unsupported_grant_type")
		return
	}
	at := randToken("at-")
	f.access[at] = u
	resp := map[string]any{"access_token": at, "token_type": "bearer", "scope": r.PostForm.Get("scope")}
	if f.issueRT {
		rt := randToken("rt-")
		f.refresh[rt] = u
		resp["refresh_token"] = rt
		resp["expires_in"] = f.expiresIn
	}
	writeJSON(w, http.StatusOK, resp)
}

// bearer authenticates an API call by its Authorization header only.
func (f *fakeOAuth) bearer(w http.ResponseWriter, r *http.Request) *fakeUser {
	if r.URL.Query().Has("access_token") {
		http.Error(w, "token in query", http.StatusBadRequest)
		return nil
	}
	if f.kind == "github" && (r.Header.Get("Accept") != "application/vnd.github+json" || r.Header.Get("X-GitHub-Api-Version") == "") {
		http.Error(w, "missing GitHub API headers", http.StatusBadRequest)
		return nil
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	u := f.access[tok]
	f.mu.Unlock()
	if !ok || u == nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return nil
	}
	return u
}

func (f *fakeOAuth) userJSON(w http.ResponseWriter, u *fakeUser) {
	switch f.kind {
	case "github":
		m := map[string]any{"login": u.Login, "id": u.ID, "node_id": "MDQ6VXNlcjE=", "avatar_url": "https://avatars.example/u/1", "type": "User", "name": nil, "email": nil}
		if u.Name != "" {
			m["name"] = u.Name
		}
		if len(u.Emails) > 0 {
			m["email"] = u.Emails[0].Email // public profile email: never trusted
		}
		writeJSON(w, http.StatusOK, m)
	case "discord":
		m := map[string]any{"id": strconv.FormatInt(u.ID, 10), "username": u.Login, "global_name": nil, "discriminator": "0", "avatar": nil}
		if u.Name != "" {
			m["global_name"] = u.Name
		}
		if len(u.Emails) > 0 {
			m["email"], m["verified"] = u.Emails[0].Email, u.Emails[0].Verified
		}
		writeJSON(w, http.StatusOK, m)
	default:
		m := map[string]any{"sub": u.Login, "name": u.Name, "groups": u.Groups}
		if len(u.Emails) > 0 {
			m["email"], m["email_verified"] = u.Emails[0].Email, u.Emails[0].Verified
		}
		writeJSON(w, http.StatusOK, m)
	}
}

// page serves one page of a GitHub list (the fake ignores per_page and
// uses pageSize), with a Link header to the next page.
func (f *fakeOAuth) page(w http.ResponseWriter, r *http.Request, all []any) {
	n, _ := strconv.Atoi(r.URL.Query().Get("page"))
	n = max(n, 1)
	lo := min((n-1)*f.pageSize, len(all))
	hi := min(lo+f.pageSize, len(all))
	if hi < len(all) {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n+1))
		w.Header().Set("Link", fmt.Sprintf(`<%s%s?%s>; rel="next", <%s%s?page=99>; rel="last"`, f.srv.URL, r.URL.Path, q.Encode(), f.srv.URL, r.URL.Path))
	}
	out := all[lo:hi]
	if out == nil {
		out = []any{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *fakeOAuth) rfc7009Revoke(w http.ResponseWriter, r *http.Request) {
	if !f.clientOK(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	f.mu.Lock()
	tok := r.PostForm.Get("token")
	delete(f.access, tok)
	delete(f.refresh, tok)
	f.revoked = append(f.revoked, tok)
	f.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (f *fakeOAuth) githubDelete(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || id != f.clientID || secret != f.secret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return
	}
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&body) != nil {
		http.Error(w, "bad body", http.StatusUnprocessableEntity)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.access[body.AccessToken] == nil {
		http.NotFound(w, r)
		return
	}
	delete(f.access, body.AccessToken)
	f.revoked = append(f.revoked, body.AccessToken)
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeOAuth) revokedTokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.revoked...)
}

func (f *fakeOAuth) liveTokens() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.access)
}

// newOAuth2App starts the test app with p as its only provider, plus a
// /api/token route that calls AccessTokenWithExpiry.
func newOAuth2App(t *testing.T, p providers.Provider, opts ...appOption) *testApp {
	t.Helper()
	opts = append(opts, withConfig(func(c *ginauth.Config) { c.Providers = []providers.Provider{p} }))
	a := newTestApp(t, opts...)
	a.router.GET("/api/token", a.auth.RequireAuth(ginauth.API), func(c *gin.Context) {
		tok, exp, err := a.auth.AccessTokenWithExpiry(c)
		if err != nil {
			c.JSON(http.StatusUnauthorized, gin.H{"error": err.Error()})
			return
		}
		c.JSON(http.StatusOK, gin.H{"token": tok, "expiresAt": exp.Format(time.RFC3339)})
	})
	a.router.GET("/app/org-admins", a.auth.RequireAuth(ginauth.Browser), ginauth.RequireClaim("groups", "acme/admins"), func(c *gin.Context) { c.String(http.StatusOK, "acme admins") })
	return a
}

// signInWith runs start → fake authorize → callback for provider name and
// returns the callback's response.
func (b *browser) signInWith(name string) result {
	b.t.Helper()
	r := b.get("/auth/signin/" + name + "?callbackUrl=" + url.QueryEscape("/dashboard"))
	if r.status != http.StatusFound {
		b.t.Fatalf("signin: status %d, body %s", r.status, r.body)
	}
	return b.get(b.authorize(r.location()))
}

// me returns /api/me decoded.
func (b *browser) me() (int, ginauth.User) {
	b.t.Helper()
	r := b.get("/api/me")
	var u ginauth.User
	if r.status == http.StatusOK {
		if err := json.Unmarshal([]byte(r.body), &u); err != nil {
			b.t.Fatalf("/api/me: %v: %s", err, r.body)
		}
	}
	return r.status, u
}
