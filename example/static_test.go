package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestServeAppScript: the home page's script with its ETag, revalidated with
// 304, and cached for a year only under its versioned URL.
func TestServeAppScript(t *testing.T) {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.GET(appScriptPath, serveAppScript)
	serve := func(target, ifNoneMatch string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		if ifNoneMatch != "" {
			req.Header.Set("If-None-Match", ifNoneMatch)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w
	}
	for _, tc := range []struct {
		target, wantCache string
	}{
		{appScriptURL, "public, max-age=31536000, immutable"},
		{appScriptPath, "no-cache"},
		{appScriptPath + "?v=0000000000000000", "no-cache"},
	} {
		w := serve(tc.target, "")
		if w.Code != http.StatusOK || w.Body.String() != string(appScript) {
			t.Fatalf("GET %s = %d, %d bytes", tc.target, w.Code, w.Body.Len())
		}
		h := w.Header()
		if h.Get("ETag") != appScriptETag || h.Get("Cache-Control") != tc.wantCache ||
			h.Get("Content-Type") != "text/javascript; charset=utf-8" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s headers %v", tc.target, h)
		}
		for _, inm := range []string{appScriptETag, `"other", ` + appScriptETag, "W/" + appScriptETag, "*"} {
			w := serve(tc.target, inm)
			if w.Code != http.StatusNotModified || w.Body.Len() != 0 || w.Header().Get("ETag") != appScriptETag ||
				w.Header().Get("Cache-Control") != tc.wantCache {
				t.Errorf("GET %s If-None-Match %s = %d %q, headers %v; want 304", tc.target, inm, w.Code, w.Body.String(), w.Header())
			}
		}
		if w := serve(tc.target, `"other"`); w.Code != http.StatusOK || w.Body.Len() != len(appScript) {
			t.Errorf("GET %s with another version's ETag = %d", tc.target, w.Code)
		}
	}
}
