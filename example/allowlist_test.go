package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestParseConfig_AllowedLists(t *testing.T) {
	cfg, err := parseConfig(envOf(map[string]string{
		"GINAUTH_ALLOWED_DOMAINS": " example.com , bücher.example",
		"GINAUTH_ALLOWED_EMAILS":  "boss@partner.org",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.AllowedDomains, []string{"example.com", "bücher.example"}) || !slices.Equal(cfg.AllowedEmails, []string{"boss@partner.org"}) {
		t.Fatalf("domains %q, emails %q", cfg.AllowedDomains, cfg.AllowedEmails)
	}
	cfg, err = parseConfig(envOf(nil))
	if err != nil || cfg.AllowedDomains != nil || cfg.AllowedEmails != nil {
		t.Fatalf("unset: %q %q %v", cfg.AllowedDomains, cfg.AllowedEmails, err)
	}
	for _, tc := range []struct{ name, value string }{
		{"GINAUTH_ALLOWED_DOMAINS", "@example.com"},
		{"GINAUTH_ALLOWED_DOMAINS", "alice@example.com"},
		{"GINAUTH_ALLOWED_DOMAINS", "example.com,,other.org"},
		{"GINAUTH_ALLOWED_DOMAINS", "exa mple.com"},
		{"GINAUTH_ALLOWED_EMAILS", "alice"},
		{"GINAUTH_ALLOWED_EMAILS", "a@b@example.com"},
		{"GINAUTH_ALLOWED_EMAILS", "alice@example.com,"},
	} {
		_, err := parseConfig(envOf(map[string]string{tc.name: tc.value}))
		if err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%s=%q: err %v, want one naming the variable", tc.name, tc.value, err)
		}
	}
}

// TestEndToEnd_AllowedDomains: with GINAUTH_ALLOWED_DOMAINS=example.com,
// alice (verified) signs in, carol (unverified email) gets the 403 page and
// no session; GINAUTH_ALLOWED_EMAILS admits bob alone.
func TestEndToEnd_AllowedDomains(t *testing.T) {
	base, _ := startApp(t, map[string]string{"GINAUTH_ALLOWED_DOMAINS": "example.com"})
	b := newBrowser(t, base)
	b.signInWithLink("alice")
	if status, _ := b.apiMe(); status != http.StatusOK {
		t.Fatalf("alice: /api/me %d", status)
	}

	c := newBrowser(t, base)
	resp, picker := c.get("/auth/signin/dev")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("picker %d", resp.StatusCode)
	}
	resp, page := c.pickUser(picker, "carol")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "Access denied") {
		t.Fatalf("carol: %d at %s:\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	if status, _ := c.apiMe(); status != http.StatusUnauthorized {
		t.Fatalf("carol: /api/me %d", status)
	}

	base, _ = startApp(t, map[string]string{"GINAUTH_ALLOWED_EMAILS": "BOB@example.com"})
	d := newBrowser(t, base)
	_, picker = d.get("/auth/signin/dev")
	if resp, _ := d.pickUser(picker, "alice"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("alice with only bob allowed: %d", resp.StatusCode)
	}
	e := newBrowser(t, base)
	e.signInWithLink("bob")
}
