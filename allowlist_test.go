package ginauth_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ginauth/ginauth"
)

func TestAllowList_Matches(t *testing.T) {
	t.Parallel()
	list, err := ginauth.NewAllowList(
		[]string{"Boss@Partner.org"},
		[]string{"example.com", "BÜCHER.example", "xn--mnchen-3ya.de"},
		[]string{"admins"},
	)
	if err != nil {
		t.Fatal(err)
	}
	user := func(email string, verified bool, groups ...string) ginauth.User {
		return ginauth.User{Email: email, EmailVerified: verified, Groups: groups}
	}
	for _, tc := range []struct {
		name string
		u    ginauth.User
		want bool
	}{
		{"domain, verified", user("alice@example.com", true), true},
		{"domain, unverified", user("carol@example.com", false), false},
		{"domain, upper case", user("ALICE@EXAMPLE.COM", true), true},
		{"subdomain is not the domain", user("a@sub.example.com", true), false},
		{"suffix is not the domain", user("a@evilexample.com", true), false},
		{"domain as a prefix", user("a@example.com.evil.net", true), false},
		{"substring in the local part", user("example.com@evil.net", true), false},
		{"trailing dot", user("a@example.com.", true), false},
		{"two @", user("a@evil.net@example.com", true), false},
		{"two @, domain first", user("a@example.com@evil.net", true), false},
		{"no @", user("example.com", true), false},
		{"empty local part", user("@example.com", true), false},
		{"empty email", user("", true), false},
		{"IDN configured in Unicode, email in Unicode", user("a@bücher.example", true), true},
		{"IDN configured in Unicode, email in punycode", user("a@xn--bcher-kva.example", true), true},
		{"IDN configured in punycode, email in Unicode", user("a@münchen.de", true), true},
		{"IDN configured in punycode, email in upper-case Unicode", user("a@MÜNCHEN.DE", true), true},
		{"IDN, unverified", user("a@münchen.de", false), false},
		{"look-alike domain", user("a@bucher.example", true), false},
		{"email exact, other case", user("boss@PARTNER.org", true), true},
		{"email, unverified", user("boss@partner.org", false), false},
		{"other address at the email's domain", user("intern@partner.org", true), false},
		{"email plus tag is another address", user("boss+x@partner.org", true), false},
		{"group exact", user("", false, "staff", "admins"), true},
		{"group case differs", user("", false, "Admins"), false},
		{"group prefix", user("", false, "admin"), false},
		{"group suffix", user("", false, "admins-old"), false},
		{"nothing", user("x@evil.net", true, "staff"), false},
	} {
		if got := list.Allows(tc.u); got != tc.want {
			t.Errorf("%s: Allows(%q, verified %v, %v) = %v, want %v", tc.name, tc.u.Email, tc.u.EmailVerified, tc.u.Groups, got, tc.want)
		}
	}
}

func TestAllowList_Invalid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                   string
		emails, domains, group []string
	}{
		{"allows nobody", nil, nil, nil},
		{"empty email", []string{""}, nil, nil},
		{"email without @", []string{"boss"}, nil, nil},
		{"email with two @", []string{"a@b@c.com"}, nil, nil},
		{"email with bad domain", []string{"a@exa mple.com"}, nil, nil},
		{"email with spaces", []string{" a@b.com"}, nil, nil},
		{"empty domain", nil, []string{""}, nil},
		{"domain with @", nil, []string{"@example.com"}, nil},
		{"address as domain", nil, []string{"a@example.com"}, nil},
		{"domain with space", nil, []string{"example .com"}, nil},
		{"domain with spaces around", nil, []string{" example.com"}, nil},
		{"domain with a path", nil, []string{"example.com/x"}, nil},
		{"empty group", nil, nil, []string{""}},
	} {
		_, err := ginauth.NewAllowList(tc.emails, tc.domains, tc.group)
		if !errors.Is(err, ginauth.ErrInvalidAllowList) {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
}

func TestAllowList_Hook(t *testing.T) {
	t.Parallel()
	list, err := ginauth.NewAllowList(nil, []string{"example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hook := list.Hook("Use your work account.")
	d, err := hook(context.Background(), ginauth.SignInAttempt{User: ginauth.User{Email: "a@example.com", EmailVerified: true}})
	if denied, _ := d.Denied(); err != nil || denied {
		t.Fatalf("denied %v, %v", denied, err)
	}
	d, err = hook(context.Background(), ginauth.SignInAttempt{User: ginauth.User{Email: "a@gmail.com", EmailVerified: true}})
	if denied, reason := d.Denied(); err != nil || !denied || reason != "Use your work account." {
		t.Fatalf("denied %v %q, %v", denied, reason, err)
	}
}

// A SignInHook refuses users an application does not know; its reason is
// shown, escaped, on the 403 access-denied page.
func ExampleSignInHook() {
	suspended := map[string]bool{"test/mallory": true}
	hook := func(ctx context.Context, in ginauth.SignInAttempt) (ginauth.SignInDecision, error) {
		if suspended[in.Provider+"/"+in.User.Subject] {
			return ginauth.Deny("This account is suspended."), nil
		}
		return ginauth.Allow(), nil
	}
	for _, sub := range []string{"alice", "mallory"} {
		d, _ := hook(context.Background(), ginauth.SignInAttempt{Provider: "test", User: ginauth.User{Subject: sub}})
		denied, reason := d.Denied()
		fmt.Printf("%s: denied=%v %s\n", sub, denied, reason)
	}
	// Install it with ginauth.Config{SignInHook: hook, ...}.
	// Output:
	// alice: denied=false
	// mallory: denied=true This account is suspended.
}

// An allow-list admits verified addresses of a domain (exactly that
// domain), listed addresses and members of listed groups.
func ExampleNewAllowList() {
	list, err := ginauth.NewAllowList([]string{"auditor@partner.org"}, []string{"example.com"}, []string{"admins"})
	if err != nil {
		panic(err) // an empty entry, a domain with "@", ...
	}
	for _, u := range []ginauth.User{
		{Email: "alice@example.com", EmailVerified: true},
		{Email: "carol@example.com", EmailVerified: false},
		{Email: "eve@sub.example.com", EmailVerified: true},
		{Email: "AUDITOR@partner.org", EmailVerified: true},
		{Email: "dan@other.net", Groups: []string{"admins"}},
	} {
		fmt.Println(u.Email, list.Allows(u))
	}
	// Usually set in the Config instead, which builds the same list:
	// ginauth.Config{AllowedEmailDomains: []string{"example.com"}, ...}
	// Output:
	// alice@example.com true
	// carol@example.com false
	// eve@sub.example.com false
	// AUDITOR@partner.org true
	// dan@other.net true
}
