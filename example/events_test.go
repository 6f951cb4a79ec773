package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestAuditEvents: the example logs every ginauth event: alice's sign-in
// and sign-out, carol's refusal by the allow-list; no line holds a token.
func TestAuditEvents(t *testing.T) {
	base, logs := startApp(t, map[string]string{"GINAUTH_ALLOWED_DOMAINS": "example.com"})
	alice := newBrowser(t, base)
	alice.signInWithLink("alice")

	carol := newBrowser(t, base)
	_, picker := carol.get("/auth/signin/dev")
	if resp, _ := carol.pickUser(picker, "carol"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("carol: %d", resp.StatusCode)
	}

	_, home := alice.get("/")
	f := findForm(t, home, "/auth/signout", "Sign out")
	if resp, _ := alice.post(f.action, f.fields); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}

	var audit []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `msg="audit: `) {
			audit = append(audit, line)
		}
	}
	want := []struct{ msg, attrs string }{
		{`level=INFO msg="audit: signed in"`, "event.provider=dev event.iss=" + base + "/dev-oidc event.sub=alice event.session_id="},
		{`level=WARN msg="audit: sign-in refused"`, "event.provider=dev event.iss=" + base + "/dev-oidc event.sub=carol event.rule=allow_list"},
		{`level=INFO msg="audit: signed out"`, "event.reason=user event.provider=dev event.iss=" + base + "/dev-oidc event.sub=alice event.session_id="},
	}
	if len(audit) != len(want) {
		t.Fatalf("audit lines:\n%s", strings.Join(audit, "\n"))
	}
	for i, w := range want {
		if !strings.Contains(audit[i], w.msg) || !strings.Contains(audit[i], w.attrs) {
			t.Errorf("audit line %d:\n%s\nwant %s ... %s", i, audit[i], w.msg, w.attrs)
		}
		if strings.Contains(audit[i], "eyJ") {
			t.Errorf("audit line %d holds a JWT: %s", i, audit[i])
		}
	}
}
