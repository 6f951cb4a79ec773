//go:build unix

package ginauth_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/goleak"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/redistest"
	"github.com/ginauth/ginauth/internal/testenv"
	"github.com/ginauth/ginauth/providers"
	"github.com/ginauth/ginauth/store"
)

// Interoperability with panva's oidc-provider (npm), a certified OpenID
// Provider, run under the installed Node.js: sign-in through its development
// login and consent forms, refresh with rotation, revocation, RP-initiated
// logout, and back-channel logout tokens that it sends itself.
//
// testdata/oidc-provider holds package.json (the pinned version),
// package-lock.json (every package of the install, with integrity hashes)
// and server.mjs (its configuration). The test runs npm ci from the lock file
// once per machine (and lock file) into
// <user cache dir>/ginauth-test/oidc-provider-<version>-<lock hash> and reuses
// it. Without node or npm, or without the registry when npm's cache lacks a
// package, it skips, unless CI is set: then it fails (internal/testenv). Its
// Redis run needs redis-server on the same terms (internal/redistest).
//
// What oidc-provider 9.13.3 does, and what ginauth must tolerate:
//
//   - The issuer is http://127.0.0.1:<port> (no path, no trailing slash).
//     Discovery advertises authorization_response_iss_parameter_supported,
//     and every authorization response carries RFC 9207 iss.
//   - code_challenge_methods_supported is ["S256"]; PKCE is required here.
//   - offline_access is silently dropped from the scope unless the
//     authorization request has prompt=consent, so the provider is set up
//     with AuthParams prompt=consent, and every sign-in shows the consent form
//     (the login form only when the browser has no OP session yet).
//   - Cancelling the login answers error=access_denied, also with iss.
//   - response_mode=form_post: a page (200, or 400 for an error) whose form,
//     submitted by script, posts code or error, state and iss to the
//     redirect URI.
//   - The OP session's cookie value changes at every login or consent, so
//     two browsers of one OP session must share the OP's cookie jar.
//   - token_endpoint_auth_methods_supported lists client_secret_basic first;
//     the client is registered for it only, and ginauth uses it for the
//     token and revocation endpoints. token_type is "Bearer", expires_in the
//     access token TTL in seconds.
//   - ID tokens (ES256 here, with a kid; the JWKS also holds an RSA key)
//     hold iss, sub, aud (a plain string), exp, iat, nonce and sid, nothing
//     else: no azp, no at_hash, no auth_time, and none of the user's claims
//     (profile and email claims come from UserInfo only, since
//     conformIdTokenClaims is on). The provider is configured with the
//     UserInfo default: the ID token lacks the name and email that the
//     profile and email scopes promise, so ginauth fetches UserInfo.
//   - A refresh answers a new access token, a new refresh token (rotation)
//     and a new ID token with the same iss, sub and sid, which keeps the
//     original nonce.
//   - A rotated refresh token presented again answers invalid_grant and
//     revokes the whole grant: the current refresh token of the app's session
//     stops working too, and ginauth's next refresh ends the session.
//   - Revoking the refresh token (RFC 7009) revokes the whole grant, access
//     tokens included; revoking a token already revoked answers 200, so the
//     order of ginauth's two revocation requests does not matter.
//   - The end-session endpoint validates id_token_hint and
//     post_logout_redirect_uri, and shows a confirmation form while the OP
//     session is alive. Confirming sends the back-channel logout requests
//     first (it waits for them, 2.5 s at most each), then 303s to
//     post_logout_redirect_uri with state.
//   - Logout tokens: typ "logout+jwt", the client's ID token algorithm, aud a
//     plain string, iss, iat, exp (iat + 120 s), jti, sub, sid, the events
//     claim, no nonce; form POST without cookies, and anything but 200 or 204
//     counts as a failure.
//   - It refuses to send back-channel requests to special-use addresses,
//     127.0.0.1 included (SSRF protection); server.mjs lifts that for the
//     test. It warns that Node.js 20 is not a supported runtime, but works.
//   - App and OP share the host 127.0.0.1, and cookies ignore ports: each
//     browser sends the OP's cookies (_session, _interaction...) to the app
//     and the app's to the OP. Neither minds. App and OP are also one site,
//     and Go's cookie jar ignores SameSite: this test cannot see whether a
//     browser would send the app's cookies with a cross-site form_post.

const (
	panvaProvider     = "panva"
	panvaClientID     = "ginauth-interop"
	panvaClientSecret = "interop-client-secret-0123456789abcdef"
	panvaAccessTTL    = 60 * time.Second
	panvaInstallLimit = 4 * time.Minute
	panvaStartLimit   = 20 * time.Second
)

var panvaInstall struct {
	sync.Mutex
	dir string
}

// installOIDCProvider installs the packages of testdata/oidc-provider's
// package-lock.json with npm ci into the user cache directory (once per
// machine and lock file) and returns that directory. npm's own cache is kept
// beside it and preferred to the registry, so a machine that installed once
// can install again offline.
func installOIDCProvider(t *testing.T) string {
	t.Helper()
	panvaInstall.Lock()
	defer panvaInstall.Unlock()
	if panvaInstall.dir != "" {
		return panvaInstall.dir
	}
	const hint = "the oidc-provider interop test needs Node.js 20 or later with npm"
	node := testenv.LookPath(t, "node", hint)
	if out, err := exec.Command(node, "-e", "process.exit(Number(process.versions.node.split('.')[0]) >= 20 ? 0 : 1)").CombinedOutput(); err != nil {
		testenv.SkipOrFail(t, fmt.Sprintf("oidc-provider interop: Node.js 20 or later is needed (%s is older): %v %s", node, err, out))
	}
	src := filepath.Join("testdata", "oidc-provider")
	pkgJSON, err := os.ReadFile(filepath.Join(src, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	lock, err := os.ReadFile(filepath.Join(src, "package-lock.json"))
	if err != nil {
		t.Fatalf("%v (generate it with npm install --package-lock-only in %s)", err, src)
	}
	version := panvaPinnedVersion(t, pkgJSON, lock)
	panvaInstall.dir = testenv.NPMInstall(t, src, "oidc-provider-"+version, panvaInstallLimit, func(dir string) bool {
		return panvaInstalledVersion(dir) == version
	})
	return panvaInstall.dir
}

// panvaPinnedVersion returns the oidc-provider version that package.json
// pins exactly, after checking that the lock file resolves it to that
// version.
func panvaPinnedVersion(t *testing.T, pkgJSON, lock []byte) string {
	t.Helper()
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(pkgJSON, &pkg); err != nil {
		t.Fatalf("testdata/oidc-provider/package.json: %v", err)
	}
	version := pkg.Dependencies["oidc-provider"]
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(version) {
		t.Fatalf("testdata/oidc-provider/package.json must pin an exact oidc-provider version, not %q", version)
	}
	var locked struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(lock, &locked); err != nil {
		t.Fatalf("testdata/oidc-provider/package-lock.json: %v", err)
	}
	if got := locked.Packages["node_modules/oidc-provider"].Version; got != version {
		t.Fatalf("testdata/oidc-provider/package-lock.json locks oidc-provider %q, package.json pins %s: "+
			"run npm install --package-lock-only --omit-lockfile-registry-resolved there", got, version)
	}
	return version
}

func panvaInstalledVersion(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "oidc-provider", "package.json"))
	if err != nil {
		return ""
	}
	var pkg struct {
		Version string `json:"version"`
	}
	_ = json.Unmarshal(b, &pkg)
	return pkg.Version
}

func panvaTail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// panvaOP is a running oidc-provider process.
type panvaOP struct {
	issuer string
	out    *syncBuffer // its stdout and stderr
}

// startOIDCProvider runs server.mjs for a client of the app at appBase and
// stops it (its process group) when t ends.
func startOIDCProvider(t *testing.T, install, appBase string) *panvaOP {
	t.Helper()
	node := testenv.LookPath(t, "node", "the oidc-provider interop test needs Node.js 20 or later")
	// server.mjs runs from a temporary directory whose node_modules is the
	// cached install: ES modules resolve packages from the script's location.
	dir := t.TempDir()
	script, err := os.ReadFile(filepath.Join("testdata", "oidc-provider", "server.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "server.mjs"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(install, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}

	op := &panvaOP{out: &syncBuffer{}}
	cmd := exec.Command(node, "server.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"OP_CLIENT_ID="+panvaClientID,
		"OP_CLIENT_SECRET="+panvaClientSecret,
		"OP_REDIRECT_URI="+appBase+"/auth/callback/"+panvaProvider,
		"OP_POST_LOGOUT_REDIRECT_URI="+appBase+"/auth/signout/complete",
		"OP_BACKCHANNEL_LOGOUT_URI="+appBase+"/auth/backchannel-logout/"+panvaProvider,
		fmt.Sprintf("OP_ACCESS_TOKEN_TTL=%d", int(panvaAccessTTL/time.Second)),
		"NODE_ENV=development",
	)
	cmd.Stdout, cmd.Stderr = op.out, op.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	// server.mjs stops when its stdin closes: also when this process dies
	// without running the cleanup below.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start oidc-provider: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	pgid := cmd.Process.Pid
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("oidc-provider output:\n%s", op.out.String())
		}
	})

	// Its first line names the issuer; then discovery must answer.
	listening := regexp.MustCompile(`oidc-provider listening on (http://127\.0\.0\.1:\d+)\n`)
	deadline := time.Now().Add(panvaStartLimit)
	for op.issuer == "" {
		if m := listening.FindStringSubmatch(op.out.String()); m != nil {
			op.issuer = m[1]
			break
		}
		select {
		case <-exited:
			t.Fatalf("oidc-provider exited before serving:\n%s", op.out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("oidc-provider did not start within %v:\n%s", panvaStartLimit, op.out.String())
		}
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	for {
		resp, err := client.Get(op.issuer + "/.well-known/openid-configuration")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return op
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("oidc-provider discovery did not answer within %v (last error %v):\n%s", panvaStartLimit, err, op.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// panvaCall is one request ginauth made to oidc-provider.
type panvaCall struct {
	path   string
	form   url.Values // the request body
	basic  bool       // client_secret_basic credentials were sent
	status int
	body   []byte
}

// panvaWatch is the provider's transport: it records every call ginauth
// makes to oidc-provider (tokens included: the test needs them).
type panvaWatch struct {
	next  http.RoundTripper
	mu    sync.Mutex
	calls []panvaCall
}

func (w *panvaWatch) RoundTrip(r *http.Request) (*http.Response, error) {
	req := r.Clone(r.Context())
	var form url.Values
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		form, _ = url.ParseQuery(string(b))
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		basic = id == panvaClientID && secret == panvaClientSecret
	}
	resp, err := w.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	w.mu.Lock()
	w.calls = append(w.calls, panvaCall{path: r.URL.Path, form: form, basic: basic, status: resp.StatusCode, body: body})
	w.mu.Unlock()
	return resp, nil
}

// since returns the calls to path made after the first n calls.
func (w *panvaWatch) since(n int, path string) []panvaCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []panvaCall
	for _, c := range w.calls[n:] {
		if c.path == path {
			out = append(out, c)
		}
	}
	return out
}

func (w *panvaWatch) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.calls)
}

// panvaTokens is a token endpoint response.
type panvaTokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
}

// panvaBackChannelHit is one back-channel logout request the app answered.
type panvaBackChannelHit struct {
	status       int
	cacheControl string
	logoutToken  string
}

// panvaRun is one app, with its own oidc-provider, driven by browsers.
type panvaRun struct {
	t        *testing.T
	app      *testApp
	op       *panvaOP
	meta     *providers.Metadata
	watch    *panvaWatch
	formPost bool           // response_mode=form_post
	opJar    http.CookieJar // OP cookies of the browsers from sharingOP

	mu   sync.Mutex
	hits []panvaBackChannelHit
}

func (p *panvaRun) backChannelHits() []panvaBackChannelHit {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.hits)
}

// panvaStatusRecorder remembers the status the app answered with.
type panvaStatusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *panvaStatusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *panvaStatusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// newPanvaRun starts an app on plain http://127.0.0.1 (oidc-provider must
// reach its back-channel logout URI), its oidc-provider, and ginauth with
// st (nil: the cookie store).
func newPanvaRun(t *testing.T, install string, st store.Store, formPost bool) *panvaRun {
	t.Helper()
	p := &panvaRun{t: t, watch: &panvaWatch{}, formPost: formPost}
	a := &testApp{t: t, clock: newClock(), logs: &syncBuffer{}, failures: &signInFailures{}}
	p.app = a
	bcPath := "/auth/backchannel-logout/" + panvaProvider
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != bcPath {
			a.router.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		rec := &panvaStatusRecorder{ResponseWriter: w}
		a.router.ServeHTTP(rec, r)
		p.mu.Lock()
		p.hits = append(p.hits, panvaBackChannelHit{status: rec.status, cacheControl: w.Header().Get("Cache-Control"), logoutToken: form.Get("logout_token")})
		p.mu.Unlock()
	}))
	t.Cleanup(a.srv.Close)
	a.base = a.srv.URL
	if !strings.HasPrefix(a.base, "http://127.0.0.1:") {
		t.Fatalf("app base URL %s: want http://127.0.0.1:<port>", a.base)
	}

	p.op = startOIDCProvider(t, install, a.base)

	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	p.watch.next = tr
	var err error
	a.prov, err = providers.OIDC(providers.OIDCConfig{
		Name:         panvaProvider,
		DisplayName:  "oidc-provider",
		Issuer:       p.op.issuer,
		ClientID:     panvaClientID,
		ClientSecret: panvaClientSecret,
		Scopes:       []string{"offline_access", "profile", "email"},
		AuthParams:   url.Values{"prompt": {"consent"}},
		EndSession:   true,
		FormPost:     formPost, // UserInfo left at its default: fetched when the ID token lacks name or email

		HTTPClient: &http.Client{Transport: p.watch, Timeout: 10 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	a.auth, err = ginauth.New(ginauth.Config{
		BaseURL:   a.base,
		Secrets:   [][]byte{testSecret},
		Providers: []providers.Provider{a.prov},
		Store:     st,
		// Longer than the access token lifetime: every AccessToken call
		// refreshes, without waiting for the token to expire.
		RefreshMargin: 2 * panvaAccessTTL,
		Logger:        newCaptureLogger(a.logs, a.failures),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := a.routes()
	// /api/token answers a digest of the access token, never the token.
	r.GET("/api/token", a.auth.RequireAuth(ginauth.API), func(c *gin.Context) {
		tok, err := a.auth.AccessToken(c)
		switch {
		case errors.Is(err, ginauth.ErrSessionEnded), errors.Is(err, ginauth.ErrNotSignedIn):
			c.JSON(http.StatusUnauthorized, gin.H{"error": "unauthorized"})
		case err != nil:
			c.JSON(http.StatusBadGateway, gin.H{"error": err.Error()})
		default:
			sum := sha256.Sum256([]byte(tok))
			c.JSON(http.StatusOK, gin.H{"sha256": hex.EncodeToString(sum[:])})
		}
	})
	a.router = r

	if p.meta, err = a.prov.Metadata(t.Context()); err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return p
}

var (
	panvaFormAction  = regexp.MustCompile(`<form[^>]*\baction="([^"]+)"`)
	panvaPrompt      = regexp.MustCompile(`<input type="hidden" name="prompt" value="([a-z]+)"/>`)
	panvaXSRF        = regexp.MustCompile(`<input type="hidden" name="xsrf" value="([^"]+)"/>`)
	panvaBearerError = regexp.MustCompile(`error="([^"]+)"`)
	panvaHidden      = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)"/>`)
	panvaCancel      = regexp.MustCompile(`<a href="([^"]+)">\[ Cancel \]</a>`)
)

// submitForm posts the page's form (its first) with form.
func (p *panvaRun) submitForm(b *browser, page result, form url.Values) result {
	p.t.Helper()
	m := panvaFormAction.FindStringSubmatch(page.body)
	if m == nil {
		p.t.Fatalf("no form at %s:\n%s", page.url, page.body)
	}
	action, err := page.url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		p.t.Fatal(err)
	}
	return b.post(action.String(), form)
}

// signIn runs a sign-in of b through oidc-provider's login (as login, when
// it asks) and consent forms, and returns the forms it had to submit.
func (p *panvaRun) signIn(b *browser, login string) []string {
	p.t.Helper()
	forms, params, done := p.authorize(b, login, false)
	if params.Get("code") == "" {
		p.t.Fatalf("authorization response without a code: %v", params)
	}
	if (done.status != http.StatusFound && done.status != http.StatusSeeOther) || done.location() != p.app.base+"/dashboard" {
		p.t.Fatalf("callback: %d, Location %q, body %s\nlogs: %s", done.status, done.location(), done.body, p.app.logs.String())
	}
	return forms
}

// authorize starts a sign-in of b and follows oidc-provider, submitting
// its forms (or, with cancel, following the first page's Cancel link),
// until it returns to the app's callback, by redirect or by form_post. It
// returns the forms submitted, the authorization response's parameters, and
// the app's answer to it.
func (p *panvaRun) authorize(b *browser, login string, cancel bool) (forms []string, params url.Values, done result) {
	p.t.Helper()
	a := p.app
	r := b.get("/auth/signin/" + panvaProvider + "?callbackUrl=%2Fdashboard")
	if r.status != http.StatusFound || !strings.HasPrefix(r.location(), p.meta.AuthorizationEndpoint+"?") {
		p.t.Fatalf("signin: %d, Location %q, body %s", r.status, r.location(), r.body)
	}
	next, _ := url.Parse(r.location())
	if got := next.Query().Get("response_mode"); got != map[bool]string{true: "form_post"}[p.formPost] {
		p.t.Errorf("authorization request response_mode %q (FormPost %v)", got, p.formPost)
	}
	callback := a.base + "/auth/callback/" + panvaProvider
	checkParams := func(q url.Values) {
		p.t.Helper()
		if q.Get("iss") != p.op.issuer || q.Get("state") == "" || (q.Get("code") == "") == (q.Get("error") == "") {
			p.t.Errorf("authorization response %v: want a code or an error, state and iss %s", q, p.op.issuer)
		}
	}
	for range 10 {
		if strings.HasPrefix(next.String(), callback+"?") {
			params = next.Query()
			checkParams(params)
			return forms, params, b.get(next.String())
		}
		r = b.get(next.String())
		if r.status == http.StatusOK || r.status == http.StatusBadRequest {
			if m := panvaFormAction.FindStringSubmatch(r.body); m != nil && html.UnescapeString(m[1]) == callback {
				// response_mode=form_post: the page's form goes to the app.
				params = url.Values{}
				for _, in := range panvaHidden.FindAllStringSubmatch(r.body, -1) {
					params.Set(in[1], html.UnescapeString(in[2]))
				}
				checkParams(params)
				return forms, params, b.post(callback, params)
			}
			m := panvaPrompt.FindStringSubmatch(r.body)
			if m == nil {
				p.t.Fatalf("oidc-provider page without a prompt form at %s:\n%s", r.url, r.body)
			}
			if cancel {
				c := panvaCancel.FindStringSubmatch(r.body)
				if c == nil {
					p.t.Fatalf("no Cancel link on oidc-provider's %s page", m[1])
				}
				u, _ := r.url.Parse(html.UnescapeString(c[1]))
				r = b.get(u.String())
			} else {
				forms = append(forms, m[1])
				form := url.Values{"prompt": {m[1]}}
				if m[1] == "login" {
					form.Set("login", login)
					form.Set("password", "any password")
				}
				r = p.submitForm(b, r, form)
			}
		}
		if r.status != http.StatusFound && r.status != http.StatusSeeOther {
			p.t.Fatalf("oidc-provider at %s answered %d:\n%s", r.url, r.status, r.body)
		}
		var err error
		if next, err = r.url.Parse(r.location()); err != nil {
			p.t.Fatal(err)
		}
	}
	p.t.Fatalf("sign-in did not reach the callback; last at %s", next)
	return nil, nil, result{}
}

// lastTokens returns the last token endpoint response after the first n
// calls, and checks that ginauth authenticated with client_secret_basic.
func (p *panvaRun) lastTokens(n int, grantType string) (panvaTokens, url.Values) {
	p.t.Helper()
	calls := p.watch.since(n, panvaPath(p.meta.TokenEndpoint))
	if len(calls) == 0 {
		p.t.Fatalf("no %s call at the token endpoint", grantType)
	}
	c := calls[len(calls)-1]
	if got := c.form.Get("grant_type"); got != grantType {
		p.t.Fatalf("token request grant_type %q, want %q", got, grantType)
	}
	if !c.basic || c.form.Has("client_secret") {
		p.t.Errorf("token request: client_secret_basic %v, client_secret in the body %v", c.basic, c.form.Has("client_secret"))
	}
	var tok panvaTokens
	if err := json.Unmarshal(c.body, &tok); err != nil || c.status != http.StatusOK {
		p.t.Fatalf("token response %d: %s (%v)", c.status, c.body, err)
	}
	return tok, c.form
}

// direct calls oidc-provider's endpoint as the client would, with
// client_secret_basic, and returns the status and the error code.
func (p *panvaRun) direct(endpoint string, form url.Values) (int, string) {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(panvaClientID), url.QueryEscape(panvaClientSecret))
	return p.send(req)
}

// userInfo calls the UserInfo endpoint with an access token.
func (p *panvaRun) userInfo(accessToken string) (int, string) {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.meta.UserinfoEndpoint, nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	return p.send(req)
}

func (p *panvaRun) send(req *http.Request) (int, string) {
	p.t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e struct {
		Error string `json:"error"`
		Sub   string `json:"sub"`
	}
	_ = json.Unmarshal(body, &e)
	if resp.StatusCode == http.StatusOK && e.Sub != "" {
		return resp.StatusCode, e.Sub
	}
	if e.Error == "" {
		// UserInfo answers errors in WWW-Authenticate.
		if m := panvaBearerError.FindStringSubmatch(resp.Header.Get("WWW-Authenticate")); m != nil {
			e.Error = m[1]
		}
	}
	return resp.StatusCode, e.Error
}

// burst sends k parallel /api/token requests with b's current cookies
// (not updated by the answers), and checks that each answers 200.
func (p *panvaRun) burst(b *browser, k int) {
	p.t.Helper()
	var cookies []string
	for _, c := range b.cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: k}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	statuses := make([]int, k)
	var wg sync.WaitGroup
	for i := range k {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, p.app.base+"/api/token", nil)
			req.Header.Set("Cookie", strings.Join(cookies, "; "))
			resp, err := client.Do(req)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			p.t.Errorf("burst request %d: status %d\nlogs: %s", i, s, p.app.logs.String())
		}
	}
}

// panvaAPIToken calls /api/token and returns its status and access token digest.
func panvaAPIToken(b *browser) (int, string) {
	b.t.Helper()
	r := b.get("/api/token")
	var v struct {
		SHA256 string `json:"sha256"`
	}
	_ = json.Unmarshal([]byte(r.body), &v)
	return r.status, v.SHA256
}

func panvaSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// panvaJWTHeader decodes a JWT's protected header.
func panvaJWTHeader(t *testing.T, jwt string) map[string]any {
	t.Helper()
	head, _, _ := strings.Cut(jwt, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// signOut signs b out and, through oidc-provider's end-session endpoint
// and its confirmation form, back to the app: it checks the RP-initiated
// logout round trip and returns the end-session request's parameters.
func (p *panvaRun) signOut(b *browser, revoke bool) url.Values {
	p.t.Helper()
	a := p.app
	form := url.Values{"csrfToken": {b.csrf()}, "callbackUrl": {"/dashboard"}}
	if revoke {
		form.Set("revokeToken", "true")
	}
	out := b.post("/auth/signout", form)
	if out.status != http.StatusSeeOther || !strings.HasPrefix(out.location(), p.meta.EndSessionEndpoint+"?") {
		p.t.Fatalf("signout: %d, Location %q (want the end_session_endpoint %s), body %s", out.status, out.location(), p.meta.EndSessionEndpoint, out.body)
	}
	if b.signedIn() {
		p.t.Fatal("still signed in at the app while visiting the provider's logout")
	}
	endURL, _ := url.Parse(out.location())
	q := endURL.Query()
	if q.Get("id_token_hint") == "" || q.Get("client_id") != panvaClientID ||
		q.Get("post_logout_redirect_uri") != a.base+"/auth/signout/complete" || len(q.Get("state")) < 22 {
		p.t.Errorf("end-session parameters %v", q)
	}

	confirm := b.get(endURL.String())
	m := panvaXSRF.FindStringSubmatch(confirm.body)
	if confirm.status != http.StatusOK || m == nil || !strings.Contains(confirm.body, `name="logout"`) {
		p.t.Fatalf("end-session: %d, want oidc-provider's confirmation form:\n%s", confirm.status, confirm.body)
	}
	back := p.submitForm(b, confirm, url.Values{"xsrf": {html.UnescapeString(m[1])}, "logout": {"yes"}})
	want := a.base + "/auth/signout/complete?state=" + url.QueryEscape(q.Get("state"))
	if back.status != http.StatusSeeOther || back.location() != want {
		p.t.Fatalf("logout confirmation: %d, Location %q, want %q\n%s", back.status, back.location(), want, back.body)
	}
	done := b.get(back.location())
	if done.status != http.StatusSeeOther || done.location() != a.base+"/dashboard" {
		p.t.Fatalf("signout/complete: %d, Location %q, want %s/dashboard", done.status, done.location(), a.base)
	}
	return q
}

// panvaSharedJar keeps the cookies of the OP's host:port in a jar shared by
// several browsers, and the others in the browser's own jar.
type panvaSharedJar struct {
	opHost  string
	op, own http.CookieJar
}

func (j *panvaSharedJar) pick(u *url.URL) http.CookieJar {
	if u.Host == j.opHost {
		return j.op
	}
	return j.own
}

func (j *panvaSharedJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	j.pick(u).SetCookies(u, cookies)
}
func (j *panvaSharedJar) Cookies(u *url.URL) []*http.Cookie { return j.pick(u).Cookies(u) }

// sharingOP returns a browser whose OP cookies are shared with the other
// browsers sharingOP returns.
func (p *panvaRun) sharingOP() *browser {
	p.t.Helper()
	if p.opJar == nil {
		p.opJar, _ = cookiejar.New(nil)
	}
	b := p.app.browser()
	op, _ := url.Parse(p.op.issuer)
	jar := &panvaSharedJar{opHost: op.Host, op: p.opJar, own: b.jar}
	b.follow.Jar, b.single.Jar = jar, jar
	return b
}

func TestInteropOIDCProvider(t *testing.T) {
	install := installOIDCProvider(t)
	t.Run("cookie", func(t *testing.T) {
		testPanva(t, install, nil, false)
	})
	t.Run("cookie-form_post", func(t *testing.T) {
		testPanva(t, install, nil, true)
	})
	t.Run("redis", func(t *testing.T) {
		leaks := goleak.IgnoreCurrent()
		t.Cleanup(func() { goleak.VerifyNone(t, leaks) })
		srv := redistest.Start(t)
		st, err := store.NewRedis(srv.Client(), store.RedisOptions{KeyPrefix: "interop:"})
		if err != nil {
			t.Fatal(err)
		}
		testPanva(t, install, st, false)
	})
}

func testPanva(t *testing.T, install string, st store.Store, formPost bool) {
	if st == nil {
		leaks := goleak.IgnoreCurrent()
		t.Cleanup(func() { goleak.VerifyNone(t, leaks) })
	}
	p := newPanvaRun(t, install, st, formPost)
	a := p.app
	issuer := p.op.issuer

	// What oidc-provider advertises.
	if p.meta.Issuer != issuer || !p.meta.AuthorizationResponseIssParameterSupported {
		t.Errorf("discovery: issuer %q, authorization_response_iss_parameter_supported %v",
			p.meta.Issuer, p.meta.AuthorizationResponseIssParameterSupported)
	}
	if !slices.Equal(p.meta.CodeChallengeMethodsSupported, []string{"S256"}) {
		t.Errorf("code_challenge_methods_supported = %v", p.meta.CodeChallengeMethodsSupported)
	}
	if p.meta.RevocationEndpoint == "" || p.meta.EndSessionEndpoint == "" || p.meta.UserinfoEndpoint == "" {
		t.Fatalf("discovery lacks revocation (%q), end-session (%q) or userinfo (%q) endpoints",
			p.meta.RevocationEndpoint, p.meta.EndSessionEndpoint, p.meta.UserinfoEndpoint)
	}

	// --- A cancelled sign-in: oidc-provider answers access_denied, with
	// iss, which ginauth checks before believing the error.
	_, params, done := p.authorize(a.browser(), "", true)
	if params.Get("error") != "access_denied" ||
		(done.status != http.StatusFound && done.status != http.StatusSeeOther) || done.location() != a.base+"/auth/signin?error=access_denied" {
		t.Errorf("cancelled sign-in: response %v, app answered %d %q", params, done.status, done.location())
	}

	// --- Sign-in: login and consent forms, callback with iss, session.
	alice := a.browser()
	n := p.watch.count()
	if forms := p.signIn(alice, "alice"); !slices.Equal(forms, []string{"login", "consent"}) {
		t.Errorf("first sign-in went through forms %v, want [login consent]", forms)
	}
	tok1, _ := p.lastTokens(n, "authorization_code")
	if tok1.RefreshToken == "" || tok1.TokenType != "Bearer" || tok1.ExpiresIn != int(panvaAccessTTL/time.Second) ||
		!slices.Contains(strings.Fields(tok1.Scope), "offline_access") {
		t.Fatalf("code exchange: refresh token %v, token_type %q, expires_in %d, scope %q",
			tok1.RefreshToken != "", tok1.TokenType, tok1.ExpiresIn, tok1.Scope)
	}
	if ui := p.watch.since(n, panvaPath(p.meta.UserinfoEndpoint)); len(ui) != 1 || ui[0].status != http.StatusOK {
		t.Errorf("want one UserInfo call answered 200, got %d", len(ui))
	}
	idHead, idClaims := panvaJWTHeader(t, tok1.IDToken), jwtClaims(t, tok1.IDToken)
	if idHead["alg"] != "ES256" || idHead["kid"] == nil {
		t.Errorf("ID token header %v: want ES256 with a kid", idHead)
	}
	names := slices.Sorted(maps.Keys(idClaims))
	if idClaims["aud"] != panvaClientID || idClaims["iss"] != issuer || idClaims["sub"] != "alice" ||
		!slices.Equal(names, []string{"aud", "exp", "iat", "iss", "nonce", "sid", "sub"}) {
		t.Errorf("ID token claims %v: want aud %q (a string), iss, sub alice, and only exp, iat, nonce and sid besides: update the notes above", idClaims, panvaClientID)
	}
	if _, ok := idClaims["email"]; ok {
		t.Error("oidc-provider now puts email in code-flow ID tokens: update the notes above")
	}
	me := alice.get("/api/me")
	var user ginauth.User
	if err := json.Unmarshal([]byte(me.body), &user); me.status != http.StatusOK || err != nil {
		t.Fatalf("/api/me: %d %s", me.status, me.body)
	}
	if user.Provider != panvaProvider || user.Issuer != issuer || user.Subject != "alice" ||
		user.Name != "Interop alice" || user.Email != "alice@example.org" || !user.EmailVerified {
		t.Errorf("/api/me = %+v", user)
	}

	// --- Refresh with rotation.
	n = p.watch.count()
	status, digest := panvaAPIToken(alice)
	tok2, sent := p.lastTokens(n, "refresh_token")
	if status != http.StatusOK || digest != panvaSHA256(tok2.AccessToken) {
		t.Fatalf("/api/token: %d, digest %s; want 200 and the refreshed access token\nlogs: %s", status, digest, a.logs.String())
	}
	if sent.Get("refresh_token") != tok1.RefreshToken {
		t.Error("the first refresh did not present the refresh token of the code exchange")
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == tok1.RefreshToken || tok2.AccessToken == tok1.AccessToken {
		t.Fatal("oidc-provider did not rotate the refresh token or issue a new access token")
	}
	if tok2.IDToken == "" {
		t.Error("oidc-provider now answers a refresh without an ID token: update the notes above")
	} else if c := jwtClaims(t, tok2.IDToken); c["sub"] != "alice" || c["iss"] != issuer || c["sid"] != idClaims["sid"] ||
		c["nonce"] != idClaims["nonce"] {
		t.Errorf("refreshed ID token claims %v", c)
	}
	if me := alice.get("/api/me"); me.status != http.StatusOK {
		t.Fatalf("/api/me after the refresh: %d %s", me.status, me.body)
	}
	if code, sub := p.userInfo(tok2.AccessToken); code != http.StatusOK || sub != "alice" {
		t.Errorf("UserInfo with the refreshed access token: %d %s", code, sub)
	}
	// The rotated refresh token was kept in the session: the next refresh
	// presents it (not the first one, which the app's short-lived memory of
	// recent refreshes would answer without a provider call).
	n = p.watch.count()
	status, digest = panvaAPIToken(alice)
	tok3, sent := p.lastTokens(n, "refresh_token")
	if status != http.StatusOK || digest != panvaSHA256(tok3.AccessToken) || sent.Get("refresh_token") != tok2.RefreshToken {
		t.Fatalf("second /api/token: %d; presented the rotated refresh token: %v", status, sent.Get("refresh_token") == tok2.RefreshToken)
	}
	// The OP refuses the rotated-away refresh token...
	if code, e := p.direct(p.meta.TokenEndpoint, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok1.RefreshToken}}); code != http.StatusBadRequest || e != "invalid_grant" {
		t.Errorf("refresh with the rotated-away refresh token: %d %s, want 400 invalid_grant", code, e)
	}
	// ...and, seeing it reused, revokes the grant: the app's next refresh is
	// refused, which ends the session.
	n = p.watch.count()
	if status, _ := panvaAPIToken(alice); status != http.StatusUnauthorized {
		t.Errorf("/api/token after the grant was revoked: %d, want 401", status)
	}
	if calls := p.watch.since(n, panvaPath(p.meta.TokenEndpoint)); len(calls) != 1 || calls[0].status != http.StatusBadRequest ||
		!strings.Contains(string(calls[0].body), `"invalid_grant"`) || calls[0].form.Get("refresh_token") != tok3.RefreshToken {
		t.Errorf("want one refused refresh with the current refresh token, got %d calls", len(calls))
	}
	if alice.signedIn() {
		t.Error("the session survived a refresh answered invalid_grant")
	}

	// --- Revocation, and RP-initiated logout. Alice's OP session is alive:
	// only the consent form this time.
	n = p.watch.count()
	if forms := p.signIn(alice, "alice"); !slices.Equal(forms, []string{"consent"}) {
		t.Errorf("sign-in with an OP session went through forms %v, want [consent]", forms)
	}
	tok4, _ := p.lastTokens(n, "authorization_code")
	n = p.watch.count()
	end := p.signOut(alice, true)
	if end.Get("id_token_hint") != tok4.IDToken {
		t.Error("id_token_hint is not the session's ID token")
	}
	rev := p.watch.since(n, panvaPath(p.meta.RevocationEndpoint))
	if len(rev) != 2 {
		t.Fatalf("want 2 revocation requests (refresh and access token), got %d", len(rev))
	}
	want := map[string]string{"refresh_token": tok4.RefreshToken, "access_token": tok4.AccessToken} // in any order
	for _, r := range rev {
		hint := r.form.Get("token_type_hint")
		if r.status != http.StatusOK || !r.basic || r.form.Get("token") != want[hint] || want[hint] == "" {
			t.Errorf("revocation with hint %q: status %d, client_secret_basic %v, the session's token %v", hint, r.status, r.basic, r.form.Get("token") == want[hint])
		}
		delete(want, hint)
	}
	if code, e := p.direct(p.meta.TokenEndpoint, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok4.RefreshToken}}); code != http.StatusBadRequest || e != "invalid_grant" {
		t.Errorf("refresh with the revoked refresh token: %d %s, want 400 invalid_grant", code, e)
	}
	if code, e := p.userInfo(tok4.AccessToken); code != http.StatusUnauthorized {
		t.Errorf("UserInfo with the revoked access token: %d %s, want 401", code, e)
	}
	// Ending the OP session made oidc-provider send a logout token for the
	// session's sid, which the app (already signed out) accepted.
	hits := p.backChannelHits()
	if len(hits) != 1 || hits[0].status != http.StatusOK {
		t.Fatalf("back-channel logout after the RP-initiated logout: %+v\nlogs: %s\nop: %s", hits, a.logs.String(), p.op.out.String())
	}
	if c := jwtClaims(t, hits[0].logoutToken); c["sid"] != jwtClaims(t, tok4.IDToken)["sid"] {
		t.Errorf("logout token sid %v, the session's ID token has %v", c["sid"], jwtClaims(t, tok4.IDToken)["sid"])
	}

	// --- Back-channel logout: two app sessions of Alice in one OP session
	// (app cookies apart, OP cookies shared: the OP session's sid is the
	// same), the first one signs out, the second one must end too.
	first, second := p.sharingOP(), p.sharingOP()
	n = p.watch.count()
	if forms := p.signIn(first, "alice"); !slices.Equal(forms, []string{"login", "consent"}) {
		t.Errorf("sign-in without an OP session went through forms %v, want [login consent]", forms)
	}
	firstTokens, _ := p.lastTokens(n, "authorization_code")
	n = p.watch.count()
	if forms := p.signIn(second, "not-asked"); !slices.Equal(forms, []string{"consent"}) {
		t.Fatalf("second browser went through forms %v, want [consent] (the shared OP session)", forms)
	}
	secondTokens, _ := p.lastTokens(n, "authorization_code")
	sid := jwtClaims(t, secondTokens.IDToken)["sid"]
	if sid == nil || jwtClaims(t, firstTokens.IDToken)["sid"] != sid {
		t.Fatalf("ID token sids %v and %v: want one OP session", jwtClaims(t, firstTokens.IDToken)["sid"], sid)
	}
	if !first.signedIn() || !second.signedIn() {
		t.Fatal("want both browsers signed in")
	}

	// A burst of parallel requests of one session that all need a refresh,
	// all with the same cookies: every one succeeds, and no refresh token
	// reaches oidc-provider twice (it would revoke the grant). With the
	// cookie store they all hold the same refresh token: one refresh.
	n = p.watch.count()
	p.burst(first, 20)
	refreshes := p.watch.since(n, panvaPath(p.meta.TokenEndpoint))
	presented := map[string]bool{}
	for _, c := range refreshes {
		rt := c.form.Get("refresh_token")
		if c.status != http.StatusOK || presented[rt] {
			t.Errorf("burst: a refresh answered %d, or presented a refresh token again (%v)", c.status, presented[rt])
		}
		presented[rt] = true
	}
	if len(refreshes) == 0 || (st == nil && len(refreshes) != 1) {
		t.Errorf("burst of 20 requests made %d refreshes at the provider", len(refreshes))
	}
	// The browser's own cookies still hold the refresh token of before the
	// burst (cookie store): the app answers from the refresh just made and
	// re-issues them. The end-session request then carries the latest
	// refreshed ID token as id_token_hint, which oidc-provider must accept.
	if status, _ := panvaAPIToken(first); status != http.StatusOK {
		t.Fatalf("/api/token of the first browser after the burst: %d", status)
	}
	refreshed, _ := p.lastTokens(n, "refresh_token")
	if end := p.signOut(first, false); refreshed.IDToken != "" && end.Get("id_token_hint") != refreshed.IDToken {
		t.Error("id_token_hint is not the ID token of the latest refresh")
	}
	hits = p.backChannelHits()
	if len(hits) != 2 {
		t.Fatalf("want a second back-channel logout request, got %d\nop: %s", len(hits), p.op.out.String())
	}
	hit := hits[1]
	if hit.status != http.StatusOK || hit.cacheControl != "no-store" {
		t.Errorf("the app answered the logout token with %d, Cache-Control %q; want 200, no-store\nlogs: %s", hit.status, hit.cacheControl, a.logs.String())
	}
	lh, lc := panvaJWTHeader(t, hit.logoutToken), jwtClaims(t, hit.logoutToken)
	events, _ := lc["events"].(map[string]any)
	if lh["typ"] != "logout+jwt" || lh["alg"] != "ES256" || lc["aud"] != panvaClientID || lc["iss"] != issuer ||
		lc["sub"] != "alice" || lc["sid"] != sid || lc["jti"] == nil || lc["nonce"] != nil ||
		events == nil || events["http://schemas.openid.net/event/backchannel-logout"] == nil {
		t.Errorf("logout token: header %v, claims %v", lh, lc)
	}
	exp, _ := lc["exp"].(float64)
	iat, _ := lc["iat"].(float64)
	if names := slices.Sorted(maps.Keys(lc)); !slices.Equal(names, []string{"aud", "events", "exp", "iat", "iss", "jti", "sid", "sub"}) || exp-iat != 120 {
		t.Errorf("logout token claims %v: update the notes above", lc)
	}
	if !strings.Contains(p.op.out.String(), "backchannel.success client="+panvaClientID+" sub=alice sid="+fmt.Sprint(sid)) {
		t.Errorf("oidc-provider did not report the back-channel logout a success:\n%s", p.op.out.String())
	}
	if second.signedIn() {
		t.Error("the second browser's session survived the back-channel logout of its OP session")
	}
	if s := second.get("/auth/session"); s.body != "null" {
		t.Errorf("/auth/session of the second browser: %s", s.body)
	}

	// Nothing secret reached the app's logs.
	logs := a.logs.String()
	for name, secret := range map[string]string{
		"client secret": panvaClientSecret, "refresh token": tok1.RefreshToken, "rotated refresh token": tok2.RefreshToken,
		"access token": tok3.AccessToken, "ID token": tok4.IDToken, "logout token": hit.logoutToken,
	} {
		if secret != "" && strings.Contains(logs, secret) {
			t.Errorf("the logs hold the %s", name)
		}
	}
}

func panvaPath(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		panic(err)
	}
	return u.Path
}
