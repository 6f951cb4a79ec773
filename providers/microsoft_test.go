package providers_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ginauth/ginauth/providers"
)

// Whole sign-ins against a fake Entra are in the root package
// (microsoft_test.go); these are the constructor's rules.

const msTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

func TestMicrosoftDefaults(t *testing.T) {
	p, err := providers.Microsoft(providers.MicrosoftConfig{ClientID: "id", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "microsoft" || p.DisplayName() != "Microsoft" || p.Issuer() != "https://login.microsoftonline.com/common/v2.0" {
		t.Errorf("defaults: %s %s %s", p.Name(), p.DisplayName(), p.Issuer())
	}
	for iss, want := range map[string]bool{
		"https://login.microsoftonline.com/" + msTenant + "/v2.0":   true,
		"https://login.microsoftonline.com/{tenantid}/v2.0":         false,
		"https://login.microsoftonline.com/common/v2.0":             false,
		"https://login.microsoftonline.us/" + msTenant + "/v2.0":    false,
		"https://login.microsoftonline.com/" + msTenant + "/v2.0/":  false,
		"https://login.microsoftonline.com/" + msTenant:             false,
		"https://sts.windows.net/" + msTenant + "/":                 false,
		"https://login.microsoftonline.com/x/" + msTenant + "/v2.0": false,
	} {
		if got := p.AcceptsIssuer(iss); got != want {
			t.Errorf("AcceptsIssuer(%q) = %v, want %v", iss, got, want)
		}
	}

	single, err := providers.Microsoft(providers.MicrosoftConfig{ClientID: "id", Tenant: "72F988BF-86F1-41AF-91AB-2D7CD011DB47", Authority: "https://login.microsoftonline.us/"})
	if err != nil {
		t.Fatal(err)
	}
	want := "https://login.microsoftonline.us/" + msTenant + "/v2.0"
	if single.Issuer() != want || !single.AcceptsIssuer(want) || single.AcceptsIssuer("https://login.microsoftonline.us/f8cdef31-a31e-4b4a-93e4-5f571e91255a/v2.0") {
		t.Errorf("single tenant: Issuer() = %q", single.Issuer())
	}

	consumers, err := providers.Microsoft(providers.MicrosoftConfig{ClientID: "id", Tenant: "Consumers"})
	if err != nil {
		t.Fatal(err)
	}
	if !consumers.AcceptsIssuer("https://login.microsoftonline.com/"+providers.MicrosoftConsumersTenant+"/v2.0") ||
		consumers.AcceptsIssuer("https://login.microsoftonline.com/"+msTenant+"/v2.0") {
		t.Error("consumers accepts other tenants")
	}
	orgs, err := providers.Microsoft(providers.MicrosoftConfig{ClientID: "id", Tenant: "organizations"})
	if err != nil {
		t.Fatal(err)
	}
	if orgs.AcceptsIssuer("https://login.microsoftonline.com/" + providers.MicrosoftConsumersTenant + "/v2.0") {
		t.Error("organizations accepts personal accounts")
	}
}

func TestMicrosoftConfigErrors(t *testing.T) {
	for name, cfg := range map[string]providers.MicrosoftConfig{
		"no client ID":                   {},
		"domain tenant":                  {ClientID: "id", Tenant: "contoso.onmicrosoft.com"},
		"other alias":                    {ClientID: "id", Tenant: "adfs"},
		"template tenant":                {ClientID: "id", Tenant: "{tenantid}"},
		"tenant with slash":              {ClientID: "id", Tenant: msTenant + "/x"},
		"http authority":                 {ClientID: "id", Authority: "http://login.microsoftonline.com"},
		"authority with path":            {ClientID: "id", Authority: "https://login.microsoftonline.com/common"},
		"authority with query":           {ClientID: "id", Authority: "https://login.microsoftonline.com?x=1"},
		"authority with user":            {ClientID: "id", Authority: "https://u@login.microsoftonline.com"},
		"authority not a URL":            {ClientID: "id", Authority: "login.microsoftonline.com"},
		"allowed tenants with a GUID":    {ClientID: "id", Tenant: msTenant, AllowedTenants: []string{msTenant}},
		"allowed tenants with consumers": {ClientID: "id", Tenant: "consumers", AllowedTenants: []string{msTenant}},
		"allowed tenant not a GUID":      {ClientID: "id", AllowedTenants: []string{"contoso.com"}},
		"bad name":                       {ClientID: "id", Name: "Microsoft"},
	} {
		_, err := providers.Microsoft(cfg)
		if !errors.Is(err, providers.ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig", name, err)
		} else if n := strings.Count(err.Error(), "ginauth:"); n != 1 {
			t.Errorf("%s: error %q has the ginauth: prefix %d times, want once", name, err, n)
		}
	}
}
