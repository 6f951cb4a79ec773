package main

import (
	"strings"
	"testing"
)

func TestConfigRevocations(t *testing.T) {
	const url = "redis://127.0.0.1:6379/0"
	base := func(extra map[string]string) map[string]string {
		m := map[string]string{"GINAUTH_SECRET": testSecret}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	cfg, err := parseConfig(envOf(base(map[string]string{"GINAUTH_REVOCATION_REDIS_URL": url})))
	if err != nil || cfg.RevocationRedisURL != url || cfg.RevocationsFailOpen {
		t.Errorf("URL only: %+v %v", cfg.RevocationRedisURL, err)
	}
	if name := storeName(cfg); name != "cookie, revocations shared via redis "+url {
		t.Errorf("storeName = %q", name)
	}
	cfg, err = parseConfig(envOf(base(map[string]string{"GINAUTH_REVOCATION_REDIS_URL": url, "GINAUTH_REVOCATION_FAIL_OPEN": "1"})))
	if err != nil || !cfg.RevocationsFailOpen {
		t.Errorf("fail open: %v %v", cfg.RevocationsFailOpen, err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"not a URL", map[string]string{"GINAUTH_REVOCATION_REDIS_URL": "http://x:pw@h"}, "GINAUTH_REVOCATION_REDIS_URL is not a Redis URL"},
		{"with the Redis store", map[string]string{"GINAUTH_REVOCATION_REDIS_URL": url, "GINAUTH_REDIS_URL": url}, "is for the cookie store"},
		{"fail open alone", map[string]string{"GINAUTH_REVOCATION_FAIL_OPEN": "1"}, "needs GINAUTH_REVOCATION_REDIS_URL"},
		{"fail open not a bool", map[string]string{"GINAUTH_REVOCATION_REDIS_URL": url, "GINAUTH_REVOCATION_FAIL_OPEN": "yes"}, "must be 0 or 1"},
	} {
		_, err := parseConfig(envOf(base(tc.env)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("%s: the error shows the password: %v", tc.name, err)
		}
	}
}
