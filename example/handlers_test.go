package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
)

// TestAPITokenErrors: how GET /api/token answers each error of
// auth.AccessToken (the end-to-end tests cover 200 and signed out). The
// errors come wrapped, as AccessToken returns them.
func TestAPITokenErrors(t *testing.T) {
	tests := []struct {
		err    error
		status int
		body   string
	}{
		{ginauth.ErrNotSignedIn, http.StatusUnauthorized, `{"error":"unauthenticated"}`},
		{fmt.Errorf("%w: %w", ginauth.ErrSessionEnded, errors.New("invalid_grant")), http.StatusUnauthorized, `{"error":"unauthenticated"}`},
		{fmt.Errorf("refresh: %w", ginauth.ErrProviderUnavailable), http.StatusServiceUnavailable, `{"error":"provider_unavailable"}`},
		{fmt.Errorf("%w: connection refused", ginauth.ErrStoreUnavailable), http.StatusServiceUnavailable, `{"error":"session_store_unavailable"}`},
		{errors.New("something else"), http.StatusInternalServerError, `{"error":"internal"}`},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			r := gin.New()
			r.GET("/api/token", apiToken(func(*gin.Context) (string, time.Time, error) {
				return "secret-access-token", time.Now().Add(time.Hour), tt.err
			}))
			w := httptest.NewRecorder()
			r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/token", nil))
			if w.Code != tt.status || strings.TrimSpace(w.Body.String()) != tt.body {
				t.Errorf("= %d %s; want %d %s", w.Code, w.Body, tt.status, tt.body)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q", cc)
			}
			if strings.Contains(w.Body.String(), "secret-access-token") {
				t.Error("the token is in the answer")
			}
		})
	}
}
