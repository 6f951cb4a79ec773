package main

import (
	"context"
	"strings"
	"testing"

	"github.com/ginauth/ginauth/ginauthtest"
)

// TestStartupCheck: the example checks its providers at start and logs
// what to fix at ERROR (an issuer with a trailing slash), or that they
// passed; the development provider, served by the app itself, is left out.
func TestStartupCheck(t *testing.T) {
	op, err := ginauthtest.Start(ginauthtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(op.Close)
	for _, tc := range []struct {
		name, issuer, want string
	}{
		{"right", op.Issuer(), `level=INFO msg="providers checked" providers=[oidc]`},
		{"trailing slash", op.Issuer() + "/", `level=ERROR msg="provider check failed`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseConfig(envOf(map[string]string{"GINAUTH_SECRET": testSecret, "GINAUTH_DEV": "1",
				"OIDC_ISSUER": tc.issuer, "OIDC_CLIENT_ID": op.ClientID(), "OIDC_CLIENT_SECRET": op.ClientSecret()}))
			if err != nil {
				t.Fatal(err)
			}
			logs := &syncBuffer{}
			log := newLogger(logs)
			a, err := newApp(cfg, log, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.check) != 1 || a.check[0] != "oidc" {
				t.Fatalf("checked providers %v, want [oidc] (not dev)", a.check)
			}
			a.checkProviders(context.Background(), log)
			if !strings.Contains(logs.String(), tc.want) {
				t.Fatalf("log lacks %q:\n%s", tc.want, logs.String())
			}
			if tc.name == "trailing slash" && !strings.Contains(logs.String(), "set Issuer to that") {
				t.Fatalf("log does not say what to fix:\n%s", logs.String())
			}
		})
	}
}
