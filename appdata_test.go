package ginauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/store"
)

// App data in sessions, end to end: a SignInHook attaches it, handlers read
// it (AppDataFrom, Session.AppData), RequireRole checks it, SetAppData
// replaces it, with the cookie, memory and Redis stores.

// appDataFor is what the test hook attaches for each user.
var appDataFor = map[string]ginauth.AppData{
	"alice": {UserID: "u-alice", Roles: []string{"admin"}, Values: map[string]string{"tenant": "acme"}},
	"bob":   {UserID: "u-bob", Roles: []string{"viewer"}},
}

// appDataHook attaches appDataFor[subject], and nothing for other users.
func appDataHook(_ context.Context, in ginauth.SignInAttempt) (ginauth.SignInDecision, error) {
	if d, ok := appDataFor[in.User.Subject]; ok {
		return ginauth.Allow().WithData(d), nil
	}
	return ginauth.Allow(), nil
}

// appDataView is the JSON of GET /api/appdata.
type appDataView struct {
	OK      bool            `json:"ok"`
	Data    ginauth.AppData `json:"data"`
	Session ginauth.AppData `json:"session"` // SessionFrom(c).AppData()
	ID      string          `json:"id"`
	Expires time.Time       `json:"expires"`
}

func appDataAnswer(c *gin.Context) appDataView {
	d, ok := ginauth.AppDataFrom(c)
	s, _ := ginauth.SessionFrom(c)
	return appDataView{OK: ok, Data: d, Session: s.AppData(), ID: s.ID, Expires: s.ExpiresAt()}
}

// setAppDataStatus maps SetAppData's errors to statuses, as an app would.
func setAppDataStatus(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ginauth.ErrAppDataTooLarge), errors.Is(err, ginauth.ErrSessionTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ginauth.ErrInvalidAppData):
		return http.StatusBadRequest
	case errors.Is(err, ginauth.ErrNotSignedIn):
		return http.StatusUnauthorized
	}
	return http.StatusServiceUnavailable
}

// addAppDataRoutes mounts:
//   - GET /api/appdata: appDataView;
//   - POST /api/appdata (CSRF-checked): SetAppData with the JSON body, then
//     appDataView of the same request;
//   - POST /public/appdata (no RequireAuth, CSRF-checked): SetAppData;
//   - GET /app/editor, GET /api/editor: RequireRole("editor", "admin");
//   - GET /norequire/editor: RequireRole without RequireAuth;
//   - GET /api/token: AccessToken works (200) or not (401).
func (a *testApp) addAppDataRoutes() {
	r, auth := a.router, a.auth
	set := func(c *gin.Context) {
		if err := auth.CheckCSRF(c, c.GetHeader("X-CSRF-Token")); err != nil {
			c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"error": "csrf"})
			return
		}
		var d ginauth.AppData
		if err := c.ShouldBindJSON(&d); err != nil {
			c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": err.Error()})
			return
		}
		if err := auth.SetAppData(c, d); err != nil {
			c.AbortWithStatusJSON(setAppDataStatus(err), gin.H{"error": err.Error()})
			return
		}
		c.JSON(http.StatusOK, appDataAnswer(c))
	}
	r.GET("/api/appdata", auth.RequireAuth(ginauth.API), func(c *gin.Context) { c.JSON(http.StatusOK, appDataAnswer(c)) })
	r.POST("/api/appdata", auth.RequireAuth(ginauth.API), set)
	r.POST("/public/appdata", set)
	r.GET("/app/editor", auth.RequireAuth(ginauth.Browser), ginauth.RequireRole("editor", "admin"), func(c *gin.Context) { c.String(http.StatusOK, "editor area") })
	r.GET("/api/editor", auth.RequireAuth(ginauth.API), ginauth.RequireRole("editor", "admin"), func(c *gin.Context) { c.String(http.StatusOK, "editor api") })
	r.GET("/norequire/editor", ginauth.RequireRole("admin"), func(c *gin.Context) { c.String(http.StatusOK, "unguarded") })
	r.GET("/api/token", auth.RequireAuth(ginauth.API), func(c *gin.Context) {
		if _, err := auth.AccessToken(c); err != nil {
			c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": err.Error()})
			return
		}
		c.String(http.StatusOK, "token ok")
	})
}

// storeKinds are the stores the SetAppData tests run with.
var storeKinds = []string{"cookie", "memory", "redis"}

// newAppDataApp starts a test app with the app-data hook and routes on the
// store kind (Redis: a real redis-server, or the test skips as redistest
// says).
func newAppDataApp(t *testing.T, kind string, opts ...appOption) *testApp {
	t.Helper()
	opts = append([]appOption{withHook(appDataHook)}, opts...)
	var a *testApp
	switch kind {
	case "cookie":
		a = newTestApp(t, opts...)
	case "memory":
		a = newTestApp(t, append(opts, withConfig(func(c *ginauth.Config) {
			m := store.NewMemory(store.MemoryOptions{Now: c.Now})
			t.Cleanup(func() { _ = m.Close() })
			c.Store = m
		}))...)
	case "redis":
		a, _ = newRedisApp(t, nil, opts...)
	default:
		t.Fatalf("unknown store %q", kind)
	}
	a.addAppDataRoutes()
	return a
}

// appData reads GET /api/appdata, which must answer 200.
func (b *browser) appData() appDataView {
	b.t.Helper()
	r := b.get("/api/appdata")
	if r.status != http.StatusOK {
		b.t.Fatalf("/api/appdata: %d %s", r.status, r.body)
	}
	var v appDataView
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		b.t.Fatalf("/api/appdata: %v in %s", err, r.body)
	}
	return v
}

// setAppData posts d to path with a valid CSRF token.
func (b *browser) setAppData(path string, d ginauth.AppData) result {
	b.t.Helper()
	body, err := json.Marshal(d)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.postJSON(path, string(body), "X-CSRF-Token", b.csrf())
}

func sameAppData(got, want ginauth.AppData) bool {
	if len(got.Values) == 0 && len(want.Values) == 0 {
		got.Values, want.Values = nil, nil
	}
	return got.UserID == want.UserID && slices.Equal(got.Roles, want.Roles) && fmt.Sprint(got.Values) == fmt.Sprint(want.Values)
}

// TestAppData_HookAttachesData: the hook's app data reaches handlers,
// through AppDataFrom and Session.AppData, and never the browser's
// /auth/session.
func TestAppData_HookAttachesData(t *testing.T) {
	a := newAppDataApp(t, "cookie")
	b := a.browser()
	b.mustSignIn() // alice
	v := b.appData()
	if !v.OK || !sameAppData(v.Data, appDataFor["alice"]) || !sameAppData(v.Session, appDataFor["alice"]) {
		t.Fatalf("alice's app data: %+v", v)
	}
	if r := b.get("/auth/session"); r.status != http.StatusOK || strings.Contains(r.body, "u-alice") || strings.Contains(r.body, "acme") {
		t.Fatalf("/auth/session shows app data: %d %s", r.status, r.body)
	}

	// A user the hook attaches nothing to: a session, and empty app data.
	a.op.SetNextUser("carol")
	c := a.browser()
	c.mustSignIn()
	if v := c.appData(); !v.OK || !sameAppData(v.Data, ginauth.AppData{}) {
		t.Fatalf("carol's app data: %+v", v)
	}
}

// TestAppData_NoHook: without a SignInHook, sessions hold no app data.
func TestAppData_NoHook(t *testing.T) {
	a := newTestApp(t)
	a.addAppDataRoutes()
	b := a.browser()
	b.mustSignIn()
	if v := b.appData(); !v.OK || !sameAppData(v.Data, ginauth.AppData{}) {
		t.Fatalf("app data without a hook: %+v", v)
	}
}

// TestRequireRole: any of the roles lets a request through; the exact
// answers otherwise.
func TestRequireRole(t *testing.T) {
	a := newAppDataApp(t, "cookie")
	alice := a.browser()
	alice.mustSignIn() // admin
	a.op.SetNextUser("bob")
	bob := a.browser()
	bob.mustSignIn() // viewer
	anon := a.browser()

	for _, tc := range []struct {
		name     string
		b        *browser
		path     string
		status   int
		body     string // exact, or "" to skip
		contains string
	}{
		{"admin, browser", alice, "/app/editor", http.StatusOK, "editor area", ""},
		{"admin, API", alice, "/api/editor", http.StatusOK, "editor api", ""},
		{"viewer, browser", bob, "/app/editor", http.StatusForbidden, "", "<h1>You don&#39;t have access</h1>"},
		{"viewer, API", bob, "/api/editor", http.StatusForbidden, `{"error":"forbidden"}`, ""},
		{"signed out, API", anon, "/api/editor", http.StatusUnauthorized, `{"error":"unauthenticated"}`, ""},
		{"signed out, browser", anon, "/app/editor", http.StatusFound, "", ""},
		{"without RequireAuth", alice, "/norequire/editor", http.StatusUnauthorized, `{"error":"unauthenticated"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.b.t = t
			r := tc.b.get(tc.path)
			if r.status != tc.status || (tc.body != "" && r.body != tc.body) || !strings.Contains(r.body, tc.contains) {
				t.Fatalf("got %d %q", r.status, r.body)
			}
			if r.status == http.StatusForbidden && r.header.Get("Cache-Control") != "no-store" {
				t.Fatal("403 is cacheable")
			}
		})
	}

	// Taking the role away with SetAppData takes effect at the next request.
	alice.t = t
	if r := alice.setAppData("/api/appdata", ginauth.AppData{UserID: "u-alice", Roles: []string{"viewer"}}); r.status != http.StatusOK {
		t.Fatalf("SetAppData: %d %s", r.status, r.body)
	}
	if r := alice.get("/api/editor"); r.status != http.StatusForbidden {
		t.Fatalf("after losing the role: %d %s", r.status, r.body)
	}
}

// TestRequireRole_Bearer: a bearer request has no app data: AppDataFrom
// is not ok and RequireRole answers 403 JSON.
func TestRequireRole_Bearer(t *testing.T) {
	a := newTestApp(t)
	r := gin.New()
	a.auth.Register(r.Group("/auth"))
	api := r.Group("/api", a.auth.RequireAuth(ginauth.API, ginauth.AcceptBearer(testAudience)))
	api.GET("/appdata", func(c *gin.Context) {
		d, ok := ginauth.AppDataFrom(c)
		c.JSON(http.StatusOK, gin.H{"ok": ok, "zero": d.IsZero(), "setErr": errors.Is(a.auth.SetAppData(c, ginauth.AppData{UserID: "x"}), ginauth.ErrNotSignedIn)})
	})
	api.GET("/editor", ginauth.RequireRole("admin"), func(c *gin.Context) { c.String(http.StatusOK, "editor api") })
	a.router = r
	b := a.browser()
	auth := "Bearer " + a.accessToken(nil, a.accessClaims("alice"))
	if got := b.get("/api/appdata", "Authorization", auth); got.status != http.StatusOK || got.body != `{"ok":false,"setErr":true,"zero":true}` {
		t.Fatalf("/api/appdata: %d %s", got.status, got.body)
	}
	if got := b.get("/api/editor", "Authorization", auth); got.status != http.StatusForbidden || got.body != `{"error":"forbidden"}` {
		t.Fatalf("/api/editor: %d %s", got.status, got.body)
	}
	if len(b.cookies()) != 0 {
		t.Fatal("a bearer request set a cookie")
	}
}

func TestRequireRole_InvalidUse(t *testing.T) {
	for name, roles := range map[string][]string{
		"no roles":        nil,
		"empty role":      {"admin", ""},
		"control in role": {"ad\nmin"},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			ginauth.RequireRole(roles...)
		})
	}
}

// TestSetAppData_Persists: SetAppData's data is seen later in the request
// and by later requests, with every store; the session keeps its ID, its
// expiry and its tokens.
func TestSetAppData_Persists(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			a := newAppDataApp(t, kind)
			b := a.browser()
			b.t = t
			b.mustSignIn()
			before := b.appData()
			a.clock.Advance(20 * time.Second) // a last-seen update would move the expiry

			next := ginauth.AppData{UserID: "u-9", Roles: []string{"editor", "billing"}, Values: map[string]string{"plan": "pro", "tenant": "globex"}}
			r := b.setAppData("/api/appdata", next)
			if r.status != http.StatusOK {
				t.Fatalf("SetAppData: %d %s", r.status, r.body)
			}
			var same appDataView
			if err := json.Unmarshal([]byte(r.body), &same); err != nil || !sameAppData(same.Data, next) || !sameAppData(same.Session, next) {
				t.Fatalf("later in the same request: %s (%v)", r.body, err)
			}
			// The cookie store sends the re-sealed session; a server-side
			// store keeps its cookie.
			if got := setsSessionValue(t, r); got != (kind == "cookie") {
				t.Fatalf("Set-Cookie of the session: %v, want %v (%q)", got, kind == "cookie", r.header.Values("Set-Cookie"))
			}
			after := b.appData()
			if !sameAppData(after.Data, next) {
				t.Fatalf("next request: %+v, want %+v", after.Data, next)
			}
			if after.ID != before.ID || !after.Expires.Equal(before.Expires) {
				t.Fatalf("session changed: ID %s -> %s, expiry %v -> %v", before.ID, after.ID, before.Expires, after.Expires)
			}
			if r := b.get("/api/editor"); r.status != http.StatusOK {
				t.Fatalf("RequireRole after SetAppData: %d %s", r.status, r.body)
			}
			if r := b.get("/api/token"); r.status != http.StatusOK {
				t.Fatalf("AccessToken after SetAppData: %d %s", r.status, r.body)
			}

			// The zero AppData removes the app data.
			if r := b.setAppData("/api/appdata", ginauth.AppData{}); r.status != http.StatusOK {
				t.Fatalf("clearing: %d %s", r.status, r.body)
			}
			if v := b.appData(); !v.OK || !v.Data.IsZero() || v.ID != before.ID {
				t.Fatalf("after clearing: %+v", v)
			}
			if r := b.get("/api/editor"); r.status != http.StatusForbidden {
				t.Fatalf("RequireRole after clearing: %d %s", r.status, r.body)
			}

			// Without RequireAuth in front, SetAppData loads the session itself.
			if r := b.setAppData("/public/appdata", next); r.status != http.StatusOK {
				t.Fatalf("SetAppData without RequireAuth: %d %s", r.status, r.body)
			}
			if v := b.appData(); !sameAppData(v.Data, next) {
				t.Fatalf("after SetAppData without RequireAuth: %+v", v.Data)
			}
		})
	}
}

// TestSetAppData_NoSession: SetAppData without a valid session answers
// ErrNotSignedIn: no cookie at all, and (cookie store, where the cookie
// still opens) a session signed out, whose ID is revoked.
func TestSetAppData_NoSession(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			a := newAppDataApp(t, kind)
			// SetAppData alone, without the CSRF check the app's routes make
			// (a signed-out session's CSRF token fails that check first).
			a.router.POST("/raw/appdata", func(c *gin.Context) {
				err := a.auth.SetAppData(c, ginauth.AppData{UserID: "again"})
				c.String(setAppDataStatus(err), fmt.Sprint(err))
			})
			anon := a.browser()
			anon.t = t
			if r := anon.setAppData("/public/appdata", ginauth.AppData{UserID: "x"}); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "not signed in") {
				t.Fatalf("without a session: %d %s", r.status, r.body)
			}
			if setsSessionValue(t, anon.get("/api/appdata")) || len(anon.sessionCookies()) != 0 {
				t.Fatal("a session cookie appeared")
			}

			// Sign in, change the app data, keep a copy of the cookies, sign out.
			b := a.browser()
			b.t = t
			b.mustSignIn()
			if r := b.setAppData("/api/appdata", ginauth.AppData{UserID: "u-1", Roles: []string{"editor"}}); r.status != http.StatusOK {
				t.Fatalf("SetAppData: %d %s", r.status, r.body)
			}
			copied := cookieHeaderOf(b.cookies())
			csrf := b.csrf()
			if r := b.post("/auth/signout", map[string][]string{"csrfToken": {csrf}}); r.status != http.StatusSeeOther {
				t.Fatalf("sign-out: %d %s", r.status, r.body)
			}
			// The copied cookie (carrying the new app data) is signed out too:
			// SetAppData kept the session ID the sign-out revoked.
			a.wantAnonymous(t, copied)
			replay := a.browserT(t)
			r := replay.send(http.MethodPost, "/raw/appdata", nil, "Cookie", copied)
			if r.status != http.StatusUnauthorized || r.body != ginauth.ErrNotSignedIn.Error() || setsSessionValue(t, r) {
				t.Fatalf("SetAppData with a signed-out cookie: %d %q", r.status, r.body)
			}
		})
	}
}

// TestSetAppData_NoSessionSentinel calls SetAppData directly: errors.Is
// ErrNotSignedIn without a session, and the bounds' sentinels before that.
func TestSetAppData_NoSessionSentinel(t *testing.T) {
	a := newTestApp(t)
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodPost, "/", nil)
	if err := a.auth.SetAppData(c, ginauth.AppData{UserID: "x"}); !errors.Is(err, ginauth.ErrNotSignedIn) {
		t.Fatalf("no session: %v", err)
	}
	if err := a.auth.SetAppData(c, ginauth.AppData{Roles: []string{""}}); !errors.Is(err, ginauth.ErrInvalidAppData) {
		t.Fatalf("invalid data: %v", err)
	}
}

func cookieHeaderOf(cs []*http.Cookie) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// TestSetAppData_OutOfBounds: data out of bounds is refused with its
// sentinel, and the session is unchanged.
func TestSetAppData_OutOfBounds(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			a := newAppDataApp(t, kind)
			b := a.browser()
			b.t = t
			b.mustSignIn()
			before := b.appData()
			for _, tc := range []struct {
				d      ginauth.AppData
				status int
			}{
				{ginauth.AppData{UserID: "u", Values: map[string]string{"blob": strings.Repeat("x", ginauth.MaxAppDataSize)}}, http.StatusRequestEntityTooLarge},
				{ginauth.AppData{Roles: make([]string, ginauth.MaxAppDataRoles+1)}, http.StatusRequestEntityTooLarge},
				{ginauth.AppData{Values: map[string]string{"not a key": "v"}}, http.StatusBadRequest},
			} {
				r := b.setAppData("/api/appdata", tc.d)
				if r.status != tc.status || !strings.Contains(r.body, "ginauth: ") {
					t.Fatalf("got %d %s, want %d", r.status, r.body, tc.status)
				}
				if setsSessionValue(t, r) {
					t.Fatal("a refused SetAppData set the session cookie")
				}
			}
			if after := b.appData(); !sameAppData(after.Data, before.Data) || after.ID != before.ID {
				t.Fatalf("session changed: %+v -> %+v", before, after)
			}
		})
	}
}

// TestSetAppData_ConcurrentUpdate: another request updates the session
// between this request's load and its SetAppData: with a server-side store
// the update is retried on the fresh data and the last writer wins; every
// store keeps the session usable.
func TestSetAppData_ConcurrentUpdate(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			a := newAppDataApp(t, kind)
			inner := ginauth.AppData{UserID: "inner"}
			outer := ginauth.AppData{UserID: "outer", Roles: []string{"editor"}}
			a.router.GET("/api/inner", a.auth.RequireAuth(ginauth.API), func(c *gin.Context) {
				c.JSON(setAppDataStatus(a.auth.SetAppData(c, inner)), nil)
			})
			a.router.GET("/api/race", a.auth.RequireAuth(ginauth.API), func(c *gin.Context) {
				// The inner request runs while this one holds its loaded session.
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodGet, "/api/inner", nil)
				req.Header.Set("Cookie", c.GetHeader("Cookie"))
				a.router.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					c.String(http.StatusInternalServerError, "inner %d", rec.Code)
					return
				}
				if err := a.auth.SetAppData(c, outer); err != nil {
					c.String(setAppDataStatus(err), err.Error())
					return
				}
				c.String(http.StatusOK, "done")
			})
			b := a.browser()
			b.t = t
			b.mustSignIn()
			if r := b.get("/api/race"); r.status != http.StatusOK {
				t.Fatalf("race: %d %s", r.status, r.body)
			}
			if v := b.appData(); !sameAppData(v.Data, outer) {
				t.Fatalf("last writer lost: %+v", v.Data)
			}

			// Parallel updates: each succeeds, and one of them is the result.
			var wg sync.WaitGroup
			var failed atomic.Int32
			csrf := b.csrf()
			header := cookieHeaderOf(b.cookies())
			for i := range 6 { // each loses at most 5 times: within maxAppDataAttempts
				wg.Go(func() {
					r := a.browserT(t).send(http.MethodPost, "/api/appdata", strings.NewReader(fmt.Sprintf(`{"userId":"p%d"}`, i)),
						"Content-Type", "application/json", "Cookie", header, "X-CSRF-Token", csrf)
					if r.status != http.StatusOK {
						failed.Add(1)
						t.Errorf("parallel SetAppData %d: %d %s", i, r.status, r.body)
					}
				})
			}
			wg.Wait()
			if failed.Load() == 0 && kind != "cookie" {
				if v := b.appData(); !strings.HasPrefix(v.Data.UserID, "p") {
					t.Fatalf("after parallel updates: %+v", v.Data)
				}
			}
		})
	}
}

// TestAppData_OutOfBoundsAtSignIn: a hook attaching app data out of bounds
// fails the sign-in cleanly: no session, a redirect to the sign-in page
// with the error code, the page's message, the tokens revoked and a warning
// that says what to fix.
func TestAppData_OutOfBoundsAtSignIn(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    ginauth.AppData
		code string
		want error
		page string
	}{
		{"too large", ginauth.AppData{UserID: "u", Values: map[string]string{"blob": strings.Repeat("x", 2000)}},
			"app_data_too_large", ginauth.ErrAppDataTooLarge, "too much about your account"},
		{"invalid", ginauth.AppData{UserID: "u", Values: map[string]string{"bad key": "v"}},
			"app_data_invalid", ginauth.ErrInvalidAppData, "could not set up your session"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestApp(t, withHook(func(context.Context, ginauth.SignInAttempt) (ginauth.SignInDecision, error) {
				return ginauth.Allow().WithData(tc.d), nil
			}))
			a.t = t
			b := a.browser()
			mark := a.failMark()
			revokes := refusalBaseline(a)
			callback := b.authorize(b.startSignIn("/dashboard"))
			r := b.get(callback)
			a.failedWith(r, tc.code)
			if setsSessionValue(t, r) || len(b.sessionCookies()) != 0 {
				t.Fatalf("a session cookie was set: %q", r.header.Values("Set-Cookie"))
			}
			a.sfReason(mark, tc.want)
			assertRefusedCleanly(t, a, b, callback, revokes)
			logs := a.logs.String()
			if !strings.Contains(logs, "error_code="+tc.code) || !strings.Contains(logs, "AppData.Validate") {
				t.Fatalf("the warning does not say what to fix: %s", logs)
			}
			page := b.get(r.location())
			if page.status != http.StatusOK || !strings.Contains(page.body, tc.page) {
				t.Fatalf("sign-in page: %d, lacks %q", page.status, tc.page)
			}
		})
	}
}
