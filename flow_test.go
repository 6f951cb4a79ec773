package ginauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
)

func TestSignInFlowEndToEnd(t *testing.T) {
	a := newTestApp(t)
	b := a.browser()
	if b.signedIn() {
		t.Fatal("signed in before signing in")
	}
	b.mustSignIn()
	me := b.get("/api/me")
	for _, want := range []string{`"sub":"alice"`, `"provider":"test"`, `"email":"alice@example.com"`, `"groups":["admin","staff"]`} {
		if !strings.Contains(me.body, want) {
			t.Errorf("/api/me %s lacks %s", me.body, want)
		}
	}
	if r := b.get("/app/admin"); r.status != http.StatusOK {
		t.Errorf("admin: %d", r.status)
	}
	s := b.get("/auth/session")
	if s.status != http.StatusOK || !strings.Contains(s.body, `"provider":"test"`) || !strings.Contains(s.body, `"expiresAt"`) {
		t.Errorf("session: %d %s", s.status, s.body)
	}
	// Sign out with the CSRF token.
	r := b.post("/auth/signout", map[string][]string{"csrfToken": {b.csrf()}, "callbackUrl": {"/"}})
	if r.status != http.StatusSeeOther || r.location() != a.base+"/" {
		t.Fatalf("signout: %d %q %s", r.status, r.location(), r.body)
	}
	if b.signedIn() {
		t.Fatal("still signed in after sign-out")
	}
	if s := b.get("/auth/session"); s.body != "null" {
		t.Errorf("session after sign-out: %s", s.body)
	}
}

// TestUserFromContextForPlainNetHTTP: plain net/http code behind
// RequireAuth reads the user from the request context. The whole flow is
// followed the way a browser does, from the sign-in link to the page.
func TestUserFromContextForPlainNetHTTP(t *testing.T) {
	a := newTestApp(t)
	plain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := ginauth.UserFromContext(r.Context())
		if !ok {
			http.Error(w, "no user", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "plain %s via %s", u.Subject, u.Provider)
	})
	a.router.GET("/app/plain", a.auth.RequireAuth(ginauth.Browser), gin.WrapF(plain))
	a.router.GET("/open/plain", gin.WrapF(plain))

	b := a.browser()
	r := b.visit("/auth/signin/test?callbackUrl=" + url.QueryEscape("/app/plain"))
	if r.status != http.StatusOK || r.body != "plain alice via test" || r.url.Path != "/app/plain" {
		t.Fatalf("after the flow: %d at %s: %q", r.status, r.url, r.body)
	}
	// Without RequireAuth in front there is no user in the context.
	if r := b.get("/open/plain"); r.status != http.StatusInternalServerError {
		t.Fatalf("without RequireAuth: %d %q", r.status, r.body)
	}
	if _, ok := ginauth.UserFromContext(context.Background()); ok {
		t.Fatal("a user in an empty context")
	}
}
