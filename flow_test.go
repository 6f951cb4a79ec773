package ginauth_test

import (
	"net/http"
	"strings"
	"testing"
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
