package ginauth

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// FuzzBearerToken: the Authorization parser never panics, accepts only one
// Bearer credential (scheme case-insensitive) whose token is a token68 of at
// most the size limit, and sorts every refusal into "no bearer credentials"
// (401 without an error attribute) or a malformed token (invalid_token).
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc.def.ghi", "bearer a", "BEARER  a==", "Basic YWxp", "Bearer ", "Bearer a b", "", "Bearer\ta", "Bearer =", "Bearer a=b"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, v string, twice bool) {
		h := http.Header{}
		h.Add("Authorization", v)
		if twice {
			h.Add("Authorization", v)
		}
		tok, err := bearerToken(h)
		if err != nil {
			if tok != "" {
				t.Fatal("token returned with an error")
			}
			return
		}
		if twice {
			t.Fatal("two headers accepted")
		}
		scheme, _, _ := strings.Cut(v, " ")
		if !strings.EqualFold(scheme, "bearer") || !isToken68(tok) || len(tok) > maxAuthorization || !strings.HasSuffix(v, tok) {
			t.Fatalf("accepted %q from %q", tok, v)
		}
		if errors.Is(err, errNoBearer) {
			t.Fatal("unreachable")
		}
	})
}
