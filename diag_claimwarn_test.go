package ginauth_test

import (
	"net/http"
	"strings"
	"testing"
)

const missingClaimMsg = "RequireClaim refused a user who has no such claim"

// TestDiag_GuardWarnsOnceWhenClaimNeverPresent: RequireClaim("groups",
// "admin") refusing a user without any groups claim logs what to check,
// once per guard however many requests follow; a refusal of a user who has
// the claim without the value logs nothing.
func TestDiag_GuardWarnsOnceWhenClaimNeverPresent(t *testing.T) {
	t.Parallel()

	t.Run("claim never present", func(t *testing.T) {
		t.Parallel()
		a := newTestApp(t)
		b := a.browserT(t)
		if r := b.signInAs("carol", "/"); r.status != http.StatusFound { // carol has no groups
			t.Fatalf("sign-in: %d", r.status)
		}
		for range 3 {
			if r := b.get("/app/admin"); r.status != http.StatusForbidden {
				t.Fatalf("status %d, want 403", r.status)
			}
		}
		logs := a.logs.String()
		if n := strings.Count(logs, missingClaimMsg); n != 1 {
			t.Fatalf("warning logged %d times, want once:\n%s", n, logs)
		}
		if !strings.Contains(logs, "claim=groups provider=test") {
			t.Fatalf("warning does not name the claim and provider:\n%s", logs)
		}
		// Another guard warns on its own: /api/admin.
		if r := b.get("/api/admin"); r.status != http.StatusForbidden {
			t.Fatalf("api: status %d", r.status)
		}
		if n := strings.Count(a.logs.String(), missingClaimMsg); n != 2 {
			t.Fatalf("second guard: %d warnings, want 2", n)
		}
	})

	t.Run("claim present without the value", func(t *testing.T) {
		t.Parallel()
		a := newTestApp(t)
		b := a.browserT(t)
		if r := b.signInAs("bob", "/"); r.status != http.StatusFound { // bob is staff, not admin
			t.Fatalf("sign-in: %d", r.status)
		}
		if r := b.get("/app/admin"); r.status != http.StatusForbidden {
			t.Fatalf("status %d, want 403", r.status)
		}
		if strings.Contains(a.logs.String(), missingClaimMsg) {
			t.Fatalf("warning for a user who has the claim:\n%s", a.logs.String())
		}
	})
}
