package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestParseDebugAddr: the debug listener only listens on loopback.
func TestParseDebugAddr(t *testing.T) {
	for _, c := range []struct {
		v    string
		want string
		ok   bool
	}{
		{"", "", true},
		{"127.0.0.1:6060", "127.0.0.1:6060", true},
		{"[::1]:6060", "[::1]:6060", true},
		{"localhost:6060", "localhost:6060", true},
		{"0.0.0.0:6060", "", false},
		{":6060", "", false},
		{"10.0.0.1:6060", "", false},
		{"example.com:6060", "", false},
		{"127.0.0.1", "", false},
	} {
		failed := false
		got := parseDebugAddr(c.v, func(string, ...any) { failed = true })
		if got != c.want || failed == c.ok {
			t.Errorf("parseDebugAddr(%q) = %q, failed %v; want %q, ok %v", c.v, got, failed, c.want, c.ok)
		}
	}
	cfg, err := parseConfig(envOf(map[string]string{"GINAUTH_SECRET": testSecret, "GINAUTH_DEBUG_ADDR": "127.0.0.1:0", "GINAUTH_DEV_TOKEN_TTL": "90s"}))
	if err != nil || cfg.DebugAddr != "127.0.0.1:0" || cfg.DevTokenTTL != 90*time.Second {
		t.Fatalf("parseConfig: %+v, %v", cfg, err)
	}
	if _, err := parseConfig(envOf(map[string]string{"GINAUTH_SECRET": testSecret, "GINAUTH_DEBUG_ADDR": "0.0.0.0:6060"})); err == nil || !strings.Contains(err.Error(), "GINAUTH_DEBUG_ADDR") {
		t.Fatalf("a non-loopback GINAUTH_DEBUG_ADDR: %v", err)
	}
}

// TestDebugHandler checks the debug routes: runtime figures, and a logout
// token only when the development provider is on.
func TestDebugHandler(t *testing.T) {
	cfg, err := parseConfig(envOf(map[string]string{"GINAUTH_SECRET": testSecret}))
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(cfg, newLogger(io.Discard), nil)
	if err != nil {
		t.Fatal(err)
	}
	h := newDebugHandler(a)
	get := func(h http.Handler, target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		return rec
	}
	rec := get(h, "/debug/stats?gc=1")
	var s debugStats
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &s) != nil || s.Goroutines == 0 || s.HeapAlloc == 0 || s.NumGC == 0 {
		t.Fatalf("/debug/stats: %d %s", rec.Code, rec.Body)
	}
	if rec := get(h, "/debug/dev/logout-token"); rec.Code != http.StatusBadRequest {
		t.Fatalf("a logout token without sub or sid: %d", rec.Code)
	}
	rec = get(h, "/debug/dev/logout-token?sub=carol")
	if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), ".") != 2 {
		t.Fatalf("/debug/dev/logout-token: %d %q, want a JWT", rec.Code, rec.Body)
	}
	// The app's own handler serves none of it.
	if rec := get(a, "/debug/stats"); rec.Code != http.StatusNotFound {
		t.Fatalf("the app's listener serves /debug/stats: %d", rec.Code)
	}

	a.op = nil // as without the development provider
	if rec := get(newDebugHandler(a), "/debug/dev/logout-token?sub=carol"); rec.Code != http.StatusNotFound {
		t.Fatalf("a logout token without the development provider: %d", rec.Code)
	}
}
